"""The session state machine: scheduled → active → ended, never backwards.

One module, used by the API and by Daily's webhooks alike, so the two can never
disagree about what a transition means.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from app.core.errors import InvalidStatusTransition, SessionEnded
from app.crud import event as event_crud
from app.crud import participant as participant_crud
from app.crud import presence as presence_crud
from app.db.session import after_commit
from app.models.event import EventSource
from app.models.presence import PresenceCloser
from app.models.session import SessionStatus, TutoringSession
from app.services.daily.client import DailyClient
from app.services.sessions import room_closing

logger = logging.getLogger(__name__)

_ORDER = {SessionStatus.SCHEDULED: 0, SessionStatus.ACTIVE: 1, SessionStatus.ENDED: 2}

PlanBackfill = Callable[[uuid.UUID], object]
"""Plans the attendance backfill of an ended session (`attendance.backfill_retries`); it
returns at once, the backfill runs in the background."""


class Schedule(Protocol):
    """What the session's state depends on: a session row, or a join's `JoinTarget`."""

    @property
    def status(self) -> SessionStatus: ...
    @property
    def expires_at(self) -> datetime: ...


def effective_status(session: Schedule, now: datetime) -> SessionStatus:
    """What the session is now: one past `expires_at` is ended, whatever the row says.

    Computed on read so reads never write; `app.cli reconcile` writes it down.
    """
    if session.status is not SessionStatus.ENDED and now >= session.expires_at:
        return SessionStatus.ENDED
    return session.status


def ensure_not_ended(session: Schedule, now: datetime) -> None:
    if effective_status(session, now) is SessionStatus.ENDED:
        raise SessionEnded()


def ensure_forward(current: SessionStatus, target: SessionStatus) -> None:
    if _ORDER[target] < _ORDER[current]:
        raise InvalidStatusTransition(
            f"A session cannot go back from {current.value} to {target.value}."
        )


def activate(
    db: Session,
    session: TutoringSession,
    *,
    now: datetime,
    source: EventSource,
    actor_id: uuid.UUID | None = None,
    started_at: datetime | None = None,
    external_id: str | None = None,
    payload: dict[str, Any] | None = None,
) -> bool:
    """scheduled → active. Returns whether anything changed (a second start is a no-op)."""
    if effective_status(session, now) is not SessionStatus.SCHEDULED:
        return False
    session.status = SessionStatus.ACTIVE
    session.started_at = started_at or now
    event_crud.record(
        db,
        session_id=session.id,
        type="session.started",
        source=source,
        actor_id=actor_id,
        external_id=external_id,
        payload=payload or {"started_at": session.started_at.isoformat()},
        occurred_at=now,
    )
    return True


def end(
    db: Session,
    session: TutoringSession,
    *,
    now: datetime,
    daily: DailyClient,
    source: EventSource,
    actor_id: uuid.UUID | None = None,
    reason: str = "ended_by_teacher",
    delete_room: bool = True,
    backfill: PlanBackfill | None = None,
) -> bool:
    """→ ended: participants marked left, open presence closed, the call ended.

    After the commit everyone is ejected and the room deleted (`room_closing.close_room`), so
    a failed commit never leaves a live session without its room; a failed eject or delete is
    logged and reconcile retries it. Then, once the call is over, `backfill` (given by the
    API's routes) plans the attendance backfill from Daily's record, so webhooks Daily never
    delivered are filled in soon after the end rather than at the next reconcile. Returns
    whether anything changed (ending twice is a no-op). `delete_room=False` still ejects but
    leaves the delete to the caller (reconcile's room sweep, which backfills on its own).
    """
    if session.status is SessionStatus.ENDED:
        return False
    ended_at = min(now, session.expires_at)
    session.status = SessionStatus.ENDED
    session.ended_at = ended_at
    participant_crud.mark_all_left(db, session.id, ended_at)
    presence_crud.close_open(db, session.id, ended_at, PresenceCloser.SESSION_ENDED)
    event_crud.record(
        db,
        session_id=session.id,
        type="session.ended",
        source=source,
        actor_id=actor_id,
        payload={"reason": reason, "ended_at": ended_at.isoformat()},
        occurred_at=now,
    )
    session_id, room_name = session.id, session.room_name
    people = room_closing.people_of(db, session)
    after_commit(db, lambda: room_closing.close_room(daily, room_name, people, delete=delete_room))
    if backfill is not None:
        after_commit(db, lambda: backfill(session_id))
    return True
