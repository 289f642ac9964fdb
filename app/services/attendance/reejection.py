"""Removals that stick: a removed student who gets back into the call is ejected again.

Daily remembers an eject's `ban` only while the meeting is active, in memory, and may lose it
(daily-api.md §10), and a meeting token cannot be revoked. So a student removed before class,
or while the call was empty, can come back with an old join link until its `exp`. Daily's
`participant.joined` says so; the service then ejects them again (`user_ids`, `ban: true`).

The eject runs after the webhook's transaction commits and after its response is sent
(`defer`), outside any lock: the webhook answers 200 at once, and a slow or failed eject never
becomes a webhook failure (three of those switch a circuit-breaker webhook off). A failure is
logged; `app.cli reconcile` ejects every removed student whose presence is still open.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from app.core.errors import TutoriumError
from app.crud import event as event_crud
from app.crud import participant as participant_crud
from app.db.session import after_commit
from app.models.event import EventSource
from app.models.session import TutoringSession
from app.services.daily.client import DailyClient

logger = logging.getLogger(__name__)

Defer = Callable[[Callable[[], object]], None]
"""Runs a step once the response has been sent (the route's `BackgroundTasks.add_task`)."""


def reeject_if_removed(
    db: Session,
    session: TutoringSession,
    user_id: uuid.UUID,
    *,
    daily_session_id: object,
    occurred_at: datetime,
    daily: DailyClient,
    defer: Defer,
) -> bool:
    """After a `participant.joined`: if the user's place is removed, record
    `participant.reejected` and eject them once this transaction has committed."""
    participant = participant_crud.get(db, session.id, user_id)
    if participant is None or participant.removed_at is None:
        return False
    event_crud.record(
        db,
        session_id=session.id,
        type="participant.reejected",
        source=EventSource.WEBHOOK,
        actor_id=user_id,
        payload={"user_id": str(user_id), "daily_session_id": daily_session_id},
        occurred_at=occurred_at,
    )
    room_name = session.room_name
    after_commit(db, lambda: defer(lambda: reeject(daily, room_name, str(user_id))))
    return True


def reeject(daily: DailyClient, room_name: str, user_id: str) -> bool:
    """Eject and ban `user_id` again; False (logged) when Daily fails: reconcile retries."""
    try:
        daily.eject(room_name, user_ids=[user_id], ban=True)
    except TutoriumError as exc:
        logger.warning(
            "re-ejecting a removed participant from Daily room %s failed (%s); "
            "reconcile retries it",
            room_name,
            exc.code,
        )
        return False
    return True
