import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models.participant import ConnectionStatus, ParticipantRole, SessionParticipant
from app.models.user import User


def get(db: Session, session_id: uuid.UUID, user_id: uuid.UUID) -> SessionParticipant | None:
    return db.scalar(
        select(SessionParticipant).where(
            SessionParticipant.session_id == session_id, SessionParticipant.user_id == user_id
        )
    )


def seated_students(db: Session, session_id: uuid.UUID) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(SessionParticipant)
            .where(
                SessionParticipant.session_id == session_id,
                SessionParticipant.role == ParticipantRole.STUDENT,
                SessionParticipant.removed_at.is_(None),
            )
        )
        or 0
    )


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
