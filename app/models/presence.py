"""One row per stretch of time a participant was in the Daily call.

Daily gives every join its own participant `session_id`, so a reconnect is a new
row here, never an edit of a running total: attendance is computed from these
intervals and stays right when webhooks arrive late, twice or out of order.
"""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import UTCDateTime, enum_column


class PresenceCloser(StrEnum):
    """What closed an interval: Daily's own `participant.left`, or our inference."""

    LEFT = "left"
    MEETING_ENDED = "meeting_ended"
    SESSION_ENDED = "session_ended"


class ParticipantPresence(Base):
    __tablename__ = "participant_presence"
    __table_args__ = (
        UniqueConstraint(
            "session_id", "daily_session_id", name="uq_participant_presence_session_daily_session"
        ),
        Index("ix_participant_presence_session_id_user_id", "session_id", "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Daily's participant id (`payload.session_id`): new on every join.
    daily_session_id: Mapped[str] = mapped_column(String(64))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    closed_by: Mapped[PresenceCloser | None] = mapped_column(
        enum_column(PresenceCloser, "presence_closer")
    )
