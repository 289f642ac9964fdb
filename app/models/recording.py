"""A cloud recording of a session's call, as Daily's webhooks and REST API report it.

The id is Daily's `recording_id`. The media stay at Daily: we keep neither the file nor its
download link (a short-lived signed URL, fetched fresh for every request).
"""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import UTCDateTime, enum_column, utcnow


class RecordingStatus(StrEnum):
    RECORDING = "recording"
    READY = "ready"
    FAILED = "failed"


class Recording(Base):
    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_session_id_started_at", "session_id", "started_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    status: Mapped[RecordingStatus] = mapped_column(
        enum_column(RecordingStatus, "recording_status")
    )
    # Daily's `instanceId`: what `recording.error` names instead of the recording.
    instance_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
