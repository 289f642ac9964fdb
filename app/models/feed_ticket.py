"""Single-use tickets that let a browser's EventSource open a session's feed.

EventSource cannot send an Authorization header, and an access token must never sit in a
URL (proxies and access logs keep URLs). A ticket is short-lived, bound to one user and one
session, and spent on first use. Only its SHA-256 is stored, so the table holds nothing that
opens a feed. It lives in PostgreSQL so any worker on any machine accepts it.
"""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import UTCDateTime


class FeedTicket(Base):
    __tablename__ = "feed_tickets"
    __table_args__ = (Index("ix_feed_tickets_user_id_expires_at", "user_id", "expires_at"),)

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
