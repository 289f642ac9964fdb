import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    FetchedValue,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import UTCDateTime, enum_column, utcnow

# The channel every event is announced on, in the inserting transaction (migration 0006's
# trigger): `NOTIFY session_events, '<session id> <position>'`.
FEED_CHANNEL = "session_events"


class EventSource(StrEnum):
    API = "api"
    WEBHOOK = "webhook"


class SessionEvent(Base):
    """The session's log: every state change writes one row.

    `position` is the row's place in its session's log (1, 2, 3, …), set by a trigger
    (migration 0006) that increments `sessions.last_event_position`: that UPDATE holds the
    session's row lock until commit, so positions commit in order, with no gaps, and a reader
    that sees position n sees every earlier one. The same trigger sends the NOTIFY that the
    live feed listens for. Inserts never give a position.
    """

    __tablename__ = "session_events"
    __table_args__ = (
        Index("ix_session_events_session_id_occurred_at", "session_id", "occurred_at"),
        UniqueConstraint("session_id", "position", name="uq_session_events_session_id_position"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[EventSource] = mapped_column(enum_column(EventSource, "event_source"))
    # Daily's webhook event id; unique, so a redelivered webhook is recognised.
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), default=dict
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    position: Mapped[int] = mapped_column(BigInteger, server_default=FetchedValue())
