"""The SQL behind a session's live feed: its snapshot, its log after a position, its tickets."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from app.models.event import EventSource, SessionEvent
from app.models.feed_ticket import FeedTicket
from app.models.participant import ConnectionStatus, ParticipantRole, SessionParticipant
from app.models.presence import ParticipantPresence
from app.models.session import TutoringSession
from app.models.user import User

_participant = SessionParticipant
_in_call_now = exists().where(
    ParticipantPresence.session_id == _participant.session_id,
    ParticipantPresence.user_id == _participant.user_id,
    ParticipantPresence.left_at.is_(None),
)
# The roster's four statuses, by issue 13's rule (branch w13's `roster_status`, in SQL here so
# the snapshot stays one statement): removed beats everything, then an open presence interval
# (Daily's webhooks), then the stored place given up; else the student holds a seat.
ROSTER_STATUS = case(
    (_participant.removed_at.is_not(None), literal("removed")),
    (_in_call_now, literal("in_call")),
    (_participant.status == ConnectionStatus.LEFT, literal("left")),
    else_=literal("seated"),
)
_roster = (
    select(
        func.coalesce(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_object(
                        "user_id",
                        _participant.user_id,
                        "name",
                        User.full_name,
                        "role",
                        _participant.role,
                        "status",
                        ROSTER_STATUS,
                    ),
                    _participant.first_joined_at,
                )
            ),
            func.json_build_array(),
        )
    )
    .select_from(_participant)
    .join(User, User.id == _participant.user_id)
    .where(_participant.session_id == TutoringSession.id)
    .scalar_subquery()
)
_ended_at_position = (
    select(func.max(SessionEvent.position))
    .where(SessionEvent.session_id == TutoringSession.id, SessionEvent.type == "session.ended")
    .scalar_subquery()
)
_SNAPSHOT = select(TutoringSession, _roster, _ended_at_position).where(
    TutoringSession.id == bindparam("session_id")
)


@dataclass(frozen=True)
class FeedSnapshot:
    session: TutoringSession
    roster: list[dict[str, Any]]  # user_id, name, role, status: JSON from PostgreSQL
    ended_at_position: int | None  # the position of `session.ended`, once logged


def snapshot(db: Session, session_id: uuid.UUID) -> FeedSnapshot | None:
    """The session (with `last_event_position`) and its roster, read by ONE statement.

    One statement is one snapshot under READ COMMITTED: the roster is exactly what the
    session's log says up to `last_event_position`, so the feed can resume after it.
    """
    row = db.execute(_SNAPSHOT, {"session_id": session_id}).one_or_none()
    if row is None:
        return None
    return FeedSnapshot(row[0], list(row[1]), row[2])


_UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_payload_user = SessionEvent.payload["user_id"].as_string()
# Daily's webhooks carry whatever user_id a token held: cast only what is a uuid.
_subject = case((_payload_user.regexp_match(_UUID_PATTERN), cast(_payload_user, Uuid)), else_=None)
_EVENTS_AFTER = (
    select(
        SessionEvent.position,
        SessionEvent.type,
        SessionEvent.source,
        SessionEvent.payload,
        _participant.user_id,
        _participant.role,
        User.full_name,
    )
    .outerjoin(
        _participant,
        and_(_participant.session_id == SessionEvent.session_id, _participant.user_id == _subject),
    )
    .outerjoin(User, User.id == _participant.user_id)
    .where(
        SessionEvent.session_id == bindparam("session_id"),
        SessionEvent.position > bindparam("after"),
    )
    .order_by(SessionEvent.position)
    .limit(bindparam("limit"))
)


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One row of a session's log, with the participant it is about (if it is about one)."""

    position: int
    type: str
    source: EventSource
    payload: dict[str, Any]
    user_id: uuid.UUID | None
    role: ParticipantRole | None
    name: str | None


def events_after(
    connection: Connection | Session, session_id: uuid.UUID, after: int, *, limit: int
) -> Sequence[LoggedEvent]:
    """The session's events with a position above `after`, oldest first, at most `limit`."""
    rows = connection.execute(
        _EVENTS_AFTER, {"session_id": session_id, "after": after, "limit": limit}
    ).all()
    return [LoggedEvent(*row) for row in rows]


def create_ticket(
    db: Session,
    *,
    ticket_hash: str,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    expires_at: datetime,
    now: datetime,
) -> None:
    """Store a ticket; the caller's expired ones go at the same time, so none pile up."""
    expired = delete(FeedTicket).where(FeedTicket.user_id == user_id, FeedTicket.expires_at <= now)
    db.execute(expired)
    db.execute(
        insert(FeedTicket).values(
            ticket_hash=ticket_hash, user_id=user_id, session_id=session_id, expires_at=expires_at
        )
    )


_SPEND_TICKET = (
    delete(FeedTicket)
    .where(FeedTicket.ticket_hash == bindparam("ticket_hash"))
    .returning(FeedTicket.user_id, FeedTicket.session_id, FeedTicket.expires_at)
)


def spend_ticket(
    connection: Connection, ticket_hash: str
) -> tuple[uuid.UUID, uuid.UUID, datetime] | None:
    """Delete the ticket and say whose it was: a DELETE, so two uses race to one winner."""
    row = connection.execute(_SPEND_TICKET, {"ticket_hash": ticket_hash}).one_or_none()
    return None if row is None else (row[0], row[1], row[2])
