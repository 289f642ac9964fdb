"""A tutoring session and the Daily room that carries it.

The class is `TutoringSession`, not `Session`, so it never shadows SQLAlchemy's
`Session` in the modules that use both; the table is `sessions`.
"""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import UTCDateTime, enum_column, utcnow


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    ENDED = "ended"


class TutoringSession(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("max_participants BETWEEN 1 AND 199", name="max_participants_range"),
        CheckConstraint("duration_minutes BETWEEN 5 AND 720", name="duration_range"),
        Index("ix_sessions_teacher_id_created_at", "teacher_id", "created_at"),
        Index("ix_sessions_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    teacher_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[SessionStatus] = mapped_column(
        enum_column(SessionStatus, "session_status"), default=SessionStatus.SCHEDULED
    )
    # Students allowed; the Daily room holds one more, for the teacher.
    max_participants: Mapped[int] = mapped_column(Integer, default=30)
    room_name: Mapped[str] = mapped_column(String(128), unique=True)
    room_url: Mapped[str] = mapped_column(String(512))
    room_code: Mapped[str] = mapped_column(String(8), unique=True)
    scheduled_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=120)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The position of the session's newest event (see SessionEvent.position); only the
    # event trigger writes it, and its UPDATE is what orders the session's events.
    last_event_position: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
