import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.models.presence import ParticipantPresence, PresenceCloser


def get_by_daily_session(
    db: Session, session_id: uuid.UUID, daily_session_id: str
) -> ParticipantPresence | None:
    return db.scalar(
        select(ParticipantPresence).where(
            ParticipantPresence.session_id == session_id,
            ParticipantPresence.daily_session_id == daily_session_id,
        )
    )


def create(
    db: Session,
    *,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    daily_session_id: str,
    joined_at: datetime,
) -> ParticipantPresence:
    presence = ParticipantPresence(
        session_id=session_id,
        user_id=user_id,
        daily_session_id=daily_session_id,
        joined_at=joined_at,
    )
    db.add(presence)
    db.flush()
    return presence


def close(
    presence: ParticipantPresence, left_at: datetime, closed_by: PresenceCloser
) -> ParticipantPresence:
    """Close (or re-close) an interval; never before it opened, so durations stay >= 0."""
    presence.left_at = max(left_at, presence.joined_at)
    presence.duration_seconds = (presence.left_at - presence.joined_at).total_seconds()
    presence.closed_by = closed_by
    return presence


def reopen_at(presence: ParticipantPresence, joined_at: datetime) -> ParticipantPresence:
    """Move an interval's start; a closed interval keeps its end and gets a new duration."""
    presence.joined_at = joined_at
    if presence.left_at is not None:
        presence.left_at = max(presence.left_at, joined_at)
        presence.duration_seconds = (presence.left_at - joined_at).total_seconds()
    return presence


def list_open(
    db: Session, session_id: uuid.UUID, *, joined_by: datetime | None = None
) -> Sequence[ParticipantPresence]:
    query = select(ParticipantPresence).where(
        ParticipantPresence.session_id == session_id, ParticipantPresence.left_at.is_(None)
    )
    if joined_by is not None:
        query = query.where(ParticipantPresence.joined_at <= joined_by)
    return db.scalars(query).all()


def close_open(
    db: Session,
    session_id: uuid.UUID,
    at: datetime,
    closed_by: PresenceCloser,
    *,
    joined_by: datetime | None = None,
) -> int:
    """Close every open interval of the session at `at` (those opened by `joined_by`, if given)."""
    intervals = list_open(db, session_id, joined_by=joined_by)
    for presence in intervals:
        close(presence, at, closed_by)
    db.flush()
    return len(intervals)


def has_open(db: Session, session_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    return bool(
        db.scalar(
            select(
                exists().where(
                    ParticipantPresence.session_id == session_id,
                    ParticipantPresence.user_id == user_id,
                    ParticipantPresence.left_at.is_(None),
                )
            )
        )
    )


def last_left_at(db: Session, session_id: uuid.UUID, user_id: uuid.UUID) -> datetime | None:
    return db.scalar(
        select(func.max(ParticipantPresence.left_at)).where(
            ParticipantPresence.session_id == session_id, ParticipantPresence.user_id == user_id
        )
    )


def list_for_session(db: Session, session_id: uuid.UUID) -> Sequence[ParticipantPresence]:
    return db.scalars(
        select(ParticipantPresence)
        .where(ParticipantPresence.session_id == session_id)
        .order_by(ParticipantPresence.joined_at)
    ).all()


def latest_open_daily_session(db: Session, session_id: uuid.UUID, user_id: uuid.UUID) -> str | None:
    """Daily's participant id of the user's current stay in the call (their latest join)."""
    return db.scalar(
        select(ParticipantPresence.daily_session_id)
        .where(
            ParticipantPresence.session_id == session_id,
            ParticipantPresence.user_id == user_id,
            ParticipantPresence.left_at.is_(None),
        )
        .order_by(ParticipantPresence.joined_at.desc())
        .limit(1)
    )
