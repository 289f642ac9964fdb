import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, literal, select, update
from sqlalchemy.orm import Session

from app.models.participant import ConnectionStatus, ParticipantRole, SessionParticipant
from app.models.user import User


def get(db: Session, session_id: uuid.UUID, user_id: uuid.UUID) -> SessionParticipant | None:
    return db.scalar(
        select(SessionParticipant).where(
            SessionParticipant.session_id == session_id, SessionParticipant.user_id == user_id
        )
    )


# Who holds a seat: every student row, unless the student was removed.
HOLDS_SEAT = (
    SessionParticipant.role == ParticipantRole.STUDENT,
    SessionParticipant.removed_at.is_(None),
)
# Built once: composing this statement on every join costs more CPU than running it.
_SEAT_COUNT = (
    select(func.count())
    .select_from(SessionParticipant)
    .where(SessionParticipant.session_id == bindparam("session_id"), *HOLDS_SEAT)
    .scalar_subquery()
)


def seated_students(db: Session, session_id: uuid.UUID) -> int:
    return db.scalar(select(_SEAT_COUNT), {"session_id": session_id}) or 0


def create(
    db: Session,
    *,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    role: ParticipantRole,
    now: datetime,
) -> SessionParticipant:
    participant = SessionParticipant(
        session_id=session_id,
        user_id=user_id,
        role=role,
        status=ConnectionStatus.JOINED,
        first_joined_at=now,
        last_joined_at=now,
    )
    db.add(participant)
    db.flush()
    return participant


def list_with_users(
    db: Session, session_id: uuid.UUID
) -> Sequence[tuple[SessionParticipant, User]]:
    rows = db.execute(
        select(SessionParticipant, User)
        .join(User, User.id == SessionParticipant.user_id)
        .where(SessionParticipant.session_id == session_id)
        .order_by(SessionParticipant.role.desc(), SessionParticipant.first_joined_at)
    ).all()
    return [(row[0], row[1]) for row in rows]


def mark_all_left(db: Session, session_id: uuid.UUID, now: datetime) -> None:
    db.execute(
        update(SessionParticipant)
        .where(
            SessionParticipant.session_id == session_id,
            SessionParticipant.status == ConnectionStatus.JOINED,
        )
        .values(status=ConnectionStatus.LEFT, left_at=now)
    )


_WITH_SEAT_COUNT = (
    select(_SEAT_COUNT, SessionParticipant)
    .select_from(select(literal(1).label("one")).subquery())
    .outerjoin(
        SessionParticipant,
        and_(
            SessionParticipant.session_id == bindparam("session_id"),
            SessionParticipant.user_id == bindparam("user_id"),
        ),
    )
)


def get_with_seat_count(
    db: Session, session_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[SessionParticipant | None, int]:
    """The caller's row (or None) and the seated-student count, in one round trip.

    Outer-joined to a one-row SELECT so the count comes back even when the caller
    has no row yet. Run it under the session's row lock: the count is the seat check.
    """
    row = db.execute(_WITH_SEAT_COUNT, {"session_id": session_id, "user_id": user_id}).one()
    return row[1], int(row[0] or 0)


_INSERT_SEAT = insert(SessionParticipant.__table__)


def insert_seat(
    db: Session,
    *,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    role: ParticipantRole,
    now: datetime,
) -> None:
    """A plain INSERT, no ORM object: the join path never reads the row back."""
    db.execute(
        _INSERT_SEAT,
        {
            "id": uuid.uuid4(),
            "session_id": session_id,
            "user_id": user_id,
            "role": role,
            "status": ConnectionStatus.JOINED,
            "first_joined_at": now,
            "last_joined_at": now,
            "left_at": None,
            "removed_at": None,
        },
    )
