"""Who may open a session's feed, with what credential, and what they see first.

The teacher and the session's seated students may listen; everyone else hears 404, as for
the session itself. A browser's EventSource cannot send a header, so it spends a ticket
(`issue_ticket`) instead of putting an access token in the URL.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import InvalidFeedTicket, SessionNotFound, Unauthorized
from app.core.security import decode_access_token
from app.crud import feed as feed_crud
from app.crud.feed import FeedSnapshot
from app.models.session import SessionStatus, TutoringSession
from app.models.user import User
from app.schemas.feed import (
    FeedCounts,
    FeedTicketRead,
    RosterEntry,
    StudentSnapshot,
    TeacherSnapshot,
)
from app.services.accounts.users import resolve_user
from app.services.feed.messages import frame, retry_hint
from app.services.sessions.lifecycle import effective_status
from app.services.sessions.views import to_read


@dataclass(frozen=True)
class FeedStart:
    """An authorised viewer's feed: what to send first, and the log position it reflects."""

    session_id: uuid.UUID
    user_id: uuid.UUID
    is_teacher: bool
    after: int
    opening: bytes
    session_over: bool  # ended (or past its end): the stream closes once caught up
    missed_nothing: bool  # a reconnect already past everything the feed shows

    @property
    def nothing_to_send(self) -> bool:
        """A reconnect to a finished session that missed nothing: answered 204, which tells
        EventSource to stop reconnecting."""
        return self.session_over and self.missed_nothing


def _ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def issue_ticket(
    db: Session, *, user: User, session_id: uuid.UUID, settings: Settings, now: datetime
) -> FeedTicketRead:
    """A single-use ticket for this user and this session, valid `feed_ticket_ttl_seconds`."""
    _load_viewer(db, user.id, session_id)
    ticket = secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=settings.feed_ticket_ttl_seconds)
    feed_crud.create_ticket(
        db,
        ticket_hash=_ticket_hash(ticket),
        user_id=user.id,
        session_id=session_id,
        expires_at=expires_at,
        now=now,
    )
    return FeedTicketRead(ticket=ticket, expires_at=expires_at)


def _viewer_id(
    db: Session,
    *,
    settings: Settings,
    access_token: str | None,
    ticket: str | None,
    session_id: uuid.UUID,
    now: datetime,
) -> uuid.UUID:
    """The ticket is spent even when it turns out to be for another session: it was shown."""
    if ticket is not None:
        spent = feed_crud.spend_ticket(db.connection(), _ticket_hash(ticket))
        if spent is None:
            raise InvalidFeedTicket()
        user_id, ticket_session_id, expires_at = spent
        if ticket_session_id != session_id or expires_at <= now:
            raise InvalidFeedTicket()
        return user_id
    if access_token is None:
        raise Unauthorized("Not authenticated.")
    return resolve_user(db, decode_access_token(access_token, settings)).id


def open_feed(
    db: Session,
    *,
    settings: Settings,
    access_token: str | None,
    ticket: str | None,
    session_id: uuid.UUID,
    last_event_id: str | None,
    now: datetime,
) -> FeedStart:
    """Authorise, then either the snapshot (a new feed) or nothing (a reconnect: the stream
    replays from `Last-Event-ID`)."""
    user_id = _viewer_id(
        db,
        settings=settings,
        access_token=access_token,
        ticket=ticket,
        session_id=session_id,
        now=now,
    )
    found, is_teacher = _load_viewer(db, user_id, session_id)
    session = found.session
    session_over = effective_status(session, now) is SessionStatus.ENDED
    opening = retry_hint(settings.feed_retry_ms)
    resume_after = _position(last_event_id)
    last = session.last_event_position
    if resume_after is not None and resume_after <= last:
        # The feed ends with `session.ended`: what the log holds after it is not shown.
        shown_until = found.ended_at_position or last
        return FeedStart(
            session_id,
            user_id,
            is_teacher,
            resume_after,
            opening,
            session_over,
            resume_after >= shown_until,
        )
    snapshot = _snapshot(db, session, found.roster, is_teacher=is_teacher, now=now)
    opening += frame("snapshot", snapshot, position=last)
    return FeedStart(session_id, user_id, is_teacher, last, opening, session_over, False)


def _load_viewer(
    db: Session, user_id: uuid.UUID, session_id: uuid.UUID
) -> tuple[FeedSnapshot, bool]:
    """The snapshot, and whether the viewer is the teacher; a student must hold a seat."""
    found = feed_crud.snapshot(db, session_id)
    if found is None:
        raise SessionNotFound()
    if found.session.teacher_id == user_id:
        return found, True
    seated = any(
        entry["user_id"] == str(user_id) and entry["status"] != "removed" for entry in found.roster
    )
    if not seated:
        raise SessionNotFound()
    return found, False


def _snapshot(
    db: Session,
    session: TutoringSession,
    roster: list[dict[str, Any]],
    *,
    is_teacher: bool,
    now: datetime,
) -> dict[str, Any]:
    read = to_read(db, session, now)
    if is_teacher:
        entries = [RosterEntry.model_validate(entry) for entry in roster]
        return TeacherSnapshot(session=read, roster=entries).model_dump(mode="json")
    students = [entry for entry in roster if entry["role"] == "student"]
    counts = FeedCounts(
        seated=sum(entry["status"] == "seated" for entry in students),
        in_call=sum(entry["status"] == "in_call" for entry in students),
    )
    return StudentSnapshot(session=read, counts=counts).model_dump(mode="json")


def _position(last_event_id: str | None) -> int | None:
    """Last-Event-ID as a position; anything else is ignored (a fresh snapshot is sent)."""
    if last_event_id is None or not last_event_id.strip().isdigit():
        return None
    return int(last_event_id.strip())
