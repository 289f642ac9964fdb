"""Every model, imported so `Base.metadata` is complete for Alembic."""

from app.models.event import EventSource, SessionEvent
from app.models.feed_ticket import FeedTicket
from app.models.participant import ConnectionStatus, ParticipantRole, SessionParticipant
from app.models.presence import ParticipantPresence, PresenceCloser
from app.models.session import SessionStatus, TutoringSession
from app.models.user import User, UserRole

__all__ = [
    "ConnectionStatus",
    "EventSource",
    "FeedTicket",
    "ParticipantPresence",
    "ParticipantRole",
    "PresenceCloser",
    "SessionEvent",
    "SessionParticipant",
    "SessionStatus",
    "TutoringSession",
    "User",
    "UserRole",
]
