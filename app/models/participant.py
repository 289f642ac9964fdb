import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import UTCDateTime, enum_column


class ParticipantRole(StrEnum):
    TEACHER = "teacher"
    STUDENT = "student"


class ConnectionStatus(StrEnum):
    """Stored: whether the row holds a live place (`joined`) or gave it up (`left`).

    `joined` is set when a token is handed out, before anyone enters the call, so it is not
    what the roster answers: see `RosterStatus`.
    """

    JOINED = "joined"
    LEFT = "left"


class RosterStatus(StrEnum):
    """What the roster answers for a row, derived on read (never stored).

    `in_call` follows Daily's webhooks (an open presence interval), `seated` is a place held
    by someone not in the call, `left` a place given up (the call left, `POST …/leave`, or the
    session ended), `removed` a student the teacher removed, whatever else is true.
    """

    SEATED = "seated"
    IN_CALL = "in_call"
    LEFT = "left"
    REMOVED = "removed"


class SessionParticipant(Base):
    """One row per (session, user). Every student row holds a seat, even after leaving.

    A removed student's row stays (with `removed_at`) so the removal sticks (no new token; a
    rejoin with an old one is ejected again, since Daily's own ban fades), but it
    no longer holds a seat.
    """

    __tablename__ = "session_participants"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id", name="uq_session_participants_session_user"),
        Index("ix_session_participants_user_id", "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[ParticipantRole] = mapped_column(enum_column(ParticipantRole, "participant_role"))
    status: Mapped[ConnectionStatus] = mapped_column(
        enum_column(ConnectionStatus, "connection_status"), default=ConnectionStatus.JOINED
    )
    first_joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
