"""Every model, imported so `Base.metadata` is complete for Alembic."""

from app.models.event import EventSource, SessionEvent
from app.models.feed_ticket import FeedTicket
from app.models.participant import ConnectionStatus, ParticipantRole, SessionParticipant
from app.models.presence import ParticipantPresence, PresenceCloser
from app.models.recording import Recording, RecordingStatus
from app.models.refresh_token import RefreshToken
from app.models.session import RecordingMode, SessionStatus, TutoringSession
from app.models.user import User, UserRole

__all__ = [
    "ConnectionStatus",
    "EventSource",
    "FeedTicket",
    "ParticipantPresence",
    "ParticipantRole",
    "PresenceCloser",
    "Recording",
    "RecordingMode",
    "RecordingStatus",
    "RefreshToken",
    "SessionEvent",
    "SessionParticipant",
    "SessionStatus",
    "TutoringSession",
    "User",
    "UserRole",
]
