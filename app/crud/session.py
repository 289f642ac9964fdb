import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, exists, func, or_, select
from sqlalchemy.orm import Session

from app.crud.participant import HOLDS_SEAT
from app.models.participant import ConnectionStatus, SessionParticipant
from app.models.session import SessionStatus, TutoringSession


def get(db: Session, session_id: uuid.UUID) -> TutoringSession | None:
    return db.get(TutoringSession, session_id)


def _locked_by(column: ColumnElement[object], name: str) -> Select[tuple[TutoringSession]]:
    """The session row, locked until commit: seat counts, status changes and webhooks for
    one session serialise on it. Built once per lookup column, so it compiles once."""
    return (
        select(TutoringSession)
        .where(column == bindparam(name))
        .with_for_update()
        .execution_options(populate_existing=True)
    )


_LOCKED_BY_ID = _locked_by(TutoringSession.id, "session_id")
_LOCKED_BY_CODE = _locked_by(TutoringSession.room_code, "room_code")
_LOCKED_BY_ROOM = _locked_by(TutoringSession.room_name, "room_name")


def get_for_update(db: Session, session_id: uuid.UUID) -> TutoringSession | None:
    return db.scalar(_LOCKED_BY_ID, {"session_id": session_id})


def get_by_code(db: Session, room_code: str) -> TutoringSession | None:
    return db.scalar(select(TutoringSession).where(TutoringSession.room_code == room_code))


def get_by_code_for_update(db: Session, room_code: str) -> TutoringSession | None:
    return db.scalar(_LOCKED_BY_CODE, {"room_code": room_code})


def room_code_taken(db: Session, room_code: str) -> bool:
    return bool(db.scalar(select(exists().where(TutoringSession.room_code == room_code))))


def effective_status_is(status: SessionStatus, now: datetime) -> ColumnElement[bool]:
    """SQL twin of `lifecycle.effective_status`: past `expires_at` reads as ended."""
    if status is SessionStatus.ENDED:
        return or_(TutoringSession.status == SessionStatus.ENDED, TutoringSession.expires_at <= now)
    return and_(TutoringSession.status == status, TutoringSession.expires_at > now)


def _visible_to(user_id: uuid.UUID) -> ColumnElement[bool]:
    """Sessions taught by the user or joined by them, as `id IN (… UNION ALL …)`.

    Written as a union rather than `teacher_id = … OR EXISTS (…)`: PostgreSQL cannot
    use an index for that OR and scans every session, while each side of the union
    is an index lookup (ix_sessions_teacher_id_created_at, ix_session_participants_user_id),
    so the cost follows the user's own sessions, not the table's size.
    """
    taught = select(TutoringSession.id).where(TutoringSession.teacher_id == user_id)
    joined = select(SessionParticipant.session_id).where(SessionParticipant.user_id == user_id)
    return TutoringSession.id.in_(taught.union_all(joined))


def list_for_user(
    db: Session,
    user_id: uuid.UUID,
    *,
    status: SessionStatus | None,
    now: datetime,
    limit: int,
    offset: int,
) -> tuple[Sequence[TutoringSession], int]:
    conditions = [_visible_to(user_id)]
    if status is not None:
        conditions.append(effective_status_is(status, now))
    total = db.scalar(select(func.count()).select_from(TutoringSession).where(*conditions)) or 0
    rows = db.scalars(
        select(TutoringSession)
        .where(*conditions)
        .order_by(TutoringSession.created_at.desc(), TutoringSession.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return rows, total


def seat_counts(db: Session, session_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    """(seated students, participants present now) for each session, in one query."""
    if not session_ids:
        return {}
    seated = func.count().filter(*HOLDS_SEAT)
    present = func.sum(case((SessionParticipant.status == ConnectionStatus.JOINED, 1), else_=0))
    rows = db.execute(
        select(SessionParticipant.session_id, seated, present)
        .where(SessionParticipant.session_id.in_(session_ids))
        .group_by(SessionParticipant.session_id)
    ).all()
    return {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in rows}


def count_by_effective_status(db: Session, now: datetime) -> dict[str, int]:
    effective = case(
        (effective_status_is(SessionStatus.ENDED, now), SessionStatus.ENDED.value),
        else_=TutoringSession.status,
    )
    rows = db.execute(select(effective, func.count()).group_by(effective)).all()
    counts = {status.value: 0 for status in SessionStatus}
    for status, count in rows:
        counts[str(getattr(status, "value", status))] = int(count)
    return counts


def get_by_room_name_for_update(db: Session, room_name: str) -> TutoringSession | None:
    return db.scalar(_LOCKED_BY_ROOM, {"room_name": room_name})


def list_expired_unended_ids(db: Session, now: datetime) -> Sequence[uuid.UUID]:
    """Sessions that read as ended (past `expires_at`) but whose row does not say so yet."""
    return db.scalars(
        select(TutoringSession.id)
        .where(TutoringSession.status != SessionStatus.ENDED, TutoringSession.expires_at <= now)
        .order_by(TutoringSession.expires_at)
    ).all()


def live_room_names(db: Session, now: datetime) -> set[str]:
    """Room names of sessions that are not (effectively) ended."""
    ended = effective_status_is(SessionStatus.ENDED, now)
    return set(db.scalars(select(TutoringSession.room_name).where(~ended)).all())
