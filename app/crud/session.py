import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Uuid,
    and_,
    bindparam,
    case,
    exists,
    func,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.crud.participant import HOLDS_SEAT, IS_PRESENT
from app.crud.schedule import effective_status_is
from app.models.participant import SessionParticipant
from app.models.session import RecordingMode, SessionStatus, TutoringSession
from app.models.user import User


def get(db: Session, session_id: uuid.UUID) -> TutoringSession | None:
    return db.get(TutoringSession, session_id)


def _locked_by(column: InstrumentedAttribute[Any], name: str) -> Select[TutoringSession]:
    """The session row, locked until commit: seat counts, status changes and webhooks for
    one session serialise on it. Built once per lookup column, so it compiles once."""
    return (
        select(TutoringSession)
        .where(column == bindparam(name))
        .with_for_update()
        .execution_options(populate_existing=True)
    )


_LOCKED_BY_ID = _locked_by(TutoringSession.id, "session_id")
_LOCKED_BY_ROOM = _locked_by(TutoringSession.room_name, "room_name")


def get_for_update(db: Session, session_id: uuid.UUID) -> TutoringSession | None:
    """The session, its row locked until `db` commits; on the join path, only the teacher's
    first join sends it (to start the session). Sends:

        SELECT sessions.id, sessions.title, sessions.description, sessions.teacher_id,
            sessions.status, sessions.max_participants, sessions.room_name, sessions.room_url,
            sessions.room_code, sessions.recording, sessions.screen_sharer_id,
            sessions.screen_sharer_daily_id, sessions.scheduled_start_at, sessions.duration_minutes,
            sessions.expires_at, sessions.started_at, sessions.ended_at, sessions.created_at,
            sessions.updated_at, sessions.last_event_position
        FROM sessions
        WHERE sessions.id = %(session_id)s::UUID FOR UPDATE
    """
    return db.scalar(_LOCKED_BY_ID, {"session_id": session_id})


def room_code_taken(db: Session, room_code: str) -> bool:
    return bool(db.scalar(select(exists().where(TutoringSession.room_code == room_code))))


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
    """(seated students, participants in the call now) for each session, in one query.

    In the call means an open presence interval (Daily's webhooks), not a token handed out:
    a `POST /join` seats its caller long before, or without, their entering the call.
    """
    if not session_ids:
        return {}
    seated = func.count().filter(*HOLDS_SEAT)
    present = func.count().filter(IS_PRESENT)
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


def get_by_room_name(db: Session, room_name: str) -> TutoringSession | None:
    return db.scalar(select(TutoringSession).where(TutoringSession.room_name == room_name))


def get_by_room_name_for_update(db: Session, room_name: str) -> TutoringSession | None:
    return db.scalar(_LOCKED_BY_ROOM, {"room_name": room_name})


def list_expired_unended_ids(db: Session, now: datetime) -> Sequence[uuid.UUID]:
    """Sessions that read as ended (past `expires_at`) but whose row does not say so yet."""
    return db.scalars(
        select(TutoringSession.id)
        .where(TutoringSession.status != SessionStatus.ENDED, TutoringSession.expires_at <= now)
        .order_by(TutoringSession.expires_at)
    ).all()


def people_by_room(db: Session, room_names: Sequence[str]) -> dict[str, list[str]]:
    """For each room that still has a session row: the `user_id`s our tokens gave for it
    (the teacher and every seated student), as the strings Daily knows them by."""
    if not room_names:
        return {}
    teachers = select(TutoringSession.room_name, TutoringSession.teacher_id).where(
        TutoringSession.room_name.in_(room_names)
    )
    students = (
        select(TutoringSession.room_name, SessionParticipant.user_id)
        .join(SessionParticipant, SessionParticipant.session_id == TutoringSession.id)
        .where(TutoringSession.room_name.in_(room_names), *HOLDS_SEAT)
    )
    people: dict[str, list[str]] = {}
    for room_name, user_id in db.execute(teachers.union(students)).all():
        people.setdefault(room_name, []).append(str(user_id))
    return people


def list_recently_ended_ids(db: Session, now: datetime, within: timedelta) -> Sequence[uuid.UUID]:
    """Sessions whose row says ended, with `ended_at` in the last `within`."""
    return db.scalars(
        select(TutoringSession.id)
        .where(
            TutoringSession.status == SessionStatus.ENDED,
            TutoringSession.ended_at >= now - within,
        )
        .order_by(TutoringSession.ended_at)
    ).all()


def live_room_names(db: Session, now: datetime) -> set[str]:
    """Room names of sessions that are not (effectively) ended."""
    ended = effective_status_is(SessionStatus.ENDED, now)
    return set(db.scalars(select(TutoringSession.room_name).where(~ended)).all())


class JoinTarget(NamedTuple):
    """A session as a join needs it, with the caller's account and place beside it.

    The join rush reads this once per student, so it is one statement that builds no ORM
    objects. The account columns are None when the account does not exist, the place
    columns when the caller has no row in the session yet.
    """

    id: uuid.UUID
    teacher_id: uuid.UUID
    status: SessionStatus
    expires_at: datetime
    room_name: str
    room_url: str
    recording: RecordingMode
    account_active: bool | None
    account_password_changed_at: datetime | None
    account_name: str | None
    place_id: uuid.UUID | None
    place_removed_at: datetime | None


def _join_target_by(column: InstrumentedAttribute[Any], name: str) -> Select[*tuple[Any, ...]]:
    caller = bindparam("user_id", type_=Uuid)
    return (
        select(
            TutoringSession.id,
            TutoringSession.teacher_id,
            TutoringSession.status,
            TutoringSession.expires_at,
            TutoringSession.room_name,
            TutoringSession.room_url,
            TutoringSession.recording,
            User.is_active,
            User.password_changed_at,
            User.full_name,
            SessionParticipant.id,
            SessionParticipant.removed_at,
        )
        .select_from(TutoringSession)
        .outerjoin(User, User.id == caller)
        .outerjoin(
            SessionParticipant,
            and_(
                SessionParticipant.session_id == TutoringSession.id,
                SessionParticipant.user_id == caller,
            ),
        )
        .where(column == bindparam(name))
    )


_JOIN_TARGET = {
    "session_id": _join_target_by(TutoringSession.id, "session_id"),
    "room_code": _join_target_by(TutoringSession.room_code, "room_code"),
}


def get_join_target(
    connection: Connection,
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID | None = None,
    room_code: str | None = None,
) -> JoinTarget | None:
    """The session by id or by room code, with the caller's account and place, in one
    round trip and without a lock: the seat statement (`participant_crud.take_seat`)
    checks again, under the session's row lock, whatever could have changed since.

    Sends, by id:

        SELECT sessions.id, sessions.teacher_id, sessions.status, sessions.expires_at,
            sessions.room_name, sessions.room_url, sessions.recording,
            users.is_active, users.password_changed_at, users.full_name,
            session_participants.id AS id_1, session_participants.removed_at
        FROM sessions
            LEFT OUTER JOIN users ON users.id = %(user_id)s::UUID
            LEFT OUTER JOIN session_participants
                ON session_participants.session_id = sessions.id
                AND session_participants.user_id = %(user_id)s::UUID
        WHERE sessions.id = %(session_id)s::UUID

    or, by room code, the same statement with the last line

        WHERE sessions.room_code = %(room_code)s
    """
    by, value = ("session_id", session_id) if room_code is None else ("room_code", room_code)
    row = connection.execute(_JOIN_TARGET[by], {by: value, "user_id": user_id}).first()
    return None if row is None else JoinTarget(*row)
