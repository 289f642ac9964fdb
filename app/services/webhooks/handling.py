"""Daily's webhooks: verified, deduplicated, then applied through the session state machine.

Daily delivers at least once, late, out of order, and sometimes resends an event under a new
`id`. So every accepted event is stored with its `id` (unique) and the
participant/meeting id it is about, and a second copy changes nothing. The whole thing is one
short transaction on the session's row lock and never calls Daily: a slow answer counts as a
failure, and three failures switch a circuit-breaker webhook off. (A removed student's join is
answered with an eject, but only after the commit and the response: `reejection`; a meeting's
end in a class already over plans its attendance backfill, after the commit:
`attendance.backfill_retries`.)
"""

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import InvalidJson
from app.core.metrics import WEBHOOK_EVENTS
from app.crud import event as event_crud
from app.crud import session as session_crud
from app.db.session import after_commit
from app.models.event import EventSource
from app.models.session import SessionStatus, TutoringSession
from app.schemas.webhook import WebhookAck
from app.services.attendance import presence, reejection
from app.services.attendance.reejection import Defer
from app.services.classroom import recording_events, screen_share
from app.services.daily.client import DailyClient
from app.services.daily.webhook_events import NOT_JSON, DailyEvent, parse_body, parse_envelope
from app.services.sessions import lifecycle
from app.services.webhooks.signature import InvalidWebhookSignature, decode_secret, verify

logger = logging.getLogger(__name__)

PROBE = {"test": "test"}
# Daily may resend an event with a new `id`; these payload fields identify what it is about.
_DEDUPE_KEYS = {
    "participant.joined": "session_id",
    "participant.left": "session_id",
    "meeting.started": "meeting_id",
    "meeting.ended": "meeting_id",
    **recording_events.DEDUPE_KEYS,
}
_warned: set[str] = set()
# Metric labels: Daily's documented event types; anything else is "other" (bounded cardinality).
_KNOWN_TYPES = frozenset(
    {
        "meeting.started",
        "meeting.ended",
        "participant.joined",
        "participant.left",
        "waiting-participant.joined",
        "waiting-participant.left",
        "recording.started",
        "recording.ready-to-download",
        "recording.error",
    }
)


def handle_daily_webhook(
    db: Session,
    *,
    settings: Settings,
    daily: DailyClient,
    defer: Defer,
    backfill: lifecycle.PlanBackfill,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: datetime,
) -> WebhookAck:
    """The probe first (Daily's create call needs a fast 200), then the signature, then JSON."""
    parsed = parse_body(body)
    if parsed == PROBE:
        _count("probe", "test")
        return WebhookAck(status="test")
    try:
        verify(
            key=_webhook_key(settings),
            body=body,
            parsed=None if parsed is NOT_JSON else parsed,
            signature=signature,
            timestamp=timestamp,
            now=now,
        )
    except InvalidWebhookSignature:
        _count("unverified", "invalid_signature")
        raise
    if parsed is NOT_JSON:
        _count("malformed", "invalid_json")
        raise InvalidJson()
    event = parse_envelope(parsed)
    if event is None:
        # Signed by Daily, so answering 4xx would only make it retry and trip its breaker.
        logger.warning("Daily webhook without a usable type/id/payload ignored")
        _count("malformed", "ignored")
        return WebhookAck(status="ignored")
    ack = apply_event(db, event, now=now, daily=daily, defer=defer, backfill=backfill)
    _count(event.type if event.type in _KNOWN_TYPES else "other", ack.status)
    return ack


def apply_event(
    db: Session,
    event: DailyEvent,
    *,
    now: datetime,
    daily: DailyClient,
    defer: Defer,
    backfill: lifecycle.PlanBackfill,
) -> WebhookAck:
    """Apply one verified event. Daily is called here only to find the room of a
    `recording.started` we do not know yet (Daily's payload has no room field), before any
    lock is taken; a removed student's join only schedules their re-eject for after the
    commit and the response (`reejection`), and a meeting's end in an ended session only
    plans its attendance backfill, after the commit."""
    room = event.room
    if room is None and event.type == "recording.started":
        room = recording_events.room_of_started(db, daily, event)
    session = session_crud.get_by_room_name_for_update(db, room) if room else None
    if session is None:
        # Daily sends every room of the domain: other apps', other environments'.
        logger.debug("Daily %s for room %r is not ours; ignored", event.type, event.room)
        return WebhookAck(status="ignored")
    if _already_applied(db, session, event):
        logger.info("Daily %s %s for session %s already applied", event.type, event.id, session.id)
        return WebhookAck(status="duplicate")
    handler = _HANDLERS.get(event.type)
    actor_id, occurred_at = (
        handler(db, session, event, now) if handler else (None, event.sent_at or now)
    )
    event_crud.record(
        db,
        session_id=session.id,
        type=_log_type(event),
        source=EventSource.WEBHOOK,
        actor_id=actor_id,
        payload=event.payload,
        external_id=event.id,
        occurred_at=occurred_at,
    )
    if event.type == "participant.joined" and actor_id is not None:
        reejection.reeject_if_removed(
            db,
            session,
            actor_id,
            daily_session_id=event.payload.get("session_id"),
            occurred_at=occurred_at,
            daily=daily,
            defer=defer,
        )
    if event.type == "meeting.ended" and session.status is SessionStatus.ENDED:
        # The class was over and now its call is too: Daily's record of it is final, and
        # the backfill fills in what webhooks lost (the end's own tries may be waiting).
        session_id = session.id
        after_commit(db, lambda: backfill(session_id))
    logger.info("Daily %s %s applied to session %s", event.type, event.id, session.id)
    return WebhookAck(status="processed")


def _already_applied(db: Session, session: TutoringSession, event: DailyEvent) -> bool:
    if event_crud.external_id_seen(db, event.id):
        return True
    key = _DEDUPE_KEYS.get(event.type)
    if key is None:
        return False
    value = event.payload.get(key)
    return isinstance(value, str) and event_crud.webhook_event_seen(
        db, session.id, _log_type(event), key, value
    )


def _log_type(event: DailyEvent) -> str:
    """The event log's name for it: Daily's type, except the recording events, which the
    live feed names recording.started / recording.ready / recording.failed."""
    return recording_events.LOG_TYPES.get(event.type, event.type)


Outcome = tuple[uuid.UUID | None, datetime]  # (the actor, when it happened)


def _meeting_started(
    db: Session, session: TutoringSession, event: DailyEvent, now: datetime
) -> Outcome:
    started_at = event.time("start_ts") or event.sent_at or now
    lifecycle.activate(db, session, now=now, source=EventSource.WEBHOOK, started_at=started_at)
    return None, started_at


def _meeting_ended(
    db: Session, session: TutoringSession, event: DailyEvent, now: datetime
) -> Outcome:
    """The call is over, the session is not: a teacher who dropped off can resume the class."""
    ended_at = event.time("end_ts") or event.sent_at or now
    presence.close_meeting(db, session, ended_at=ended_at)
    return None, ended_at


def _participant_event(
    db: Session, session: TutoringSession, event: DailyEvent, now: datetime
) -> Outcome:
    joined_at, left_at = event.participant_times(fallback=now)
    occurred_at = left_at or joined_at
    # Someone was in the room, so the meeting started, even if meeting.started never arrives.
    lifecycle.activate(db, session, now=now, source=EventSource.WEBHOOK, started_at=joined_at)
    user = presence.resolve_user(db, event.payload.get("user_id"))
    daily_session_id = event.payload.get("session_id")
    if not isinstance(daily_session_id, str) or not 0 < len(daily_session_id) <= 64:
        logger.warning("Daily %s %s has no usable session_id; stored only", event.type, event.id)
        return (user.id if user else None), occurred_at
    participant = presence.seat_for(db, session, user, at=joined_at)
    if participant is None:
        logger.info(
            "Daily %s for session %s: user_id %r holds no seat; stored only",
            event.type,
            session.id,
            event.payload.get("user_id"),
        )
        return (user.id if user else None), occurred_at
    screen_share.forget_on_rejoin_or_leave(
        db,
        session,
        participant.user_id,
        daily_id=daily_session_id,
        left=left_at is not None,
        now=now,
    )
    session_over = lifecycle.effective_status(session, now) is SessionStatus.ENDED
    if left_at is None:
        presence.record_joined(
            db,
            participant,
            daily_session_id=daily_session_id,
            joined_at=joined_at,
            session_over=session_over,
        )
    else:
        presence.record_left(
            db,
            participant,
            daily_session_id=daily_session_id,
            joined_at=joined_at,
            left_at=left_at,
            session_over=session_over,
        )
    return participant.user_id, occurred_at


_HANDLERS: dict[str, Callable[[Session, TutoringSession, DailyEvent, datetime], Outcome]] = {
    "meeting.started": _meeting_started,
    "meeting.ended": _meeting_ended,
    "participant.joined": _participant_event,
    "participant.left": _participant_event,
    "recording.started": recording_events.started,
    "recording.ready-to-download": recording_events.ready,
    "recording.error": recording_events.failed,
}


def _webhook_key(settings: Settings) -> bytes:
    """The HMAC key; without a (valid) secret every event is refused, and that is logged once."""
    secret = settings.daily_webhook_secret
    value = secret.get_secret_value().strip() if secret else ""
    if not value:
        _warn_once("DAILY_WEBHOOK_SECRET is not set: every Daily webhook is refused with 401")
        raise InvalidWebhookSignature()
    try:
        return decode_secret(value)
    except ValueError:
        _warn_once("DAILY_WEBHOOK_SECRET is not base64: every Daily webhook is refused with 401")
        raise InvalidWebhookSignature() from None


def _count(event_type: str, outcome: str) -> None:
    WEBHOOK_EVENTS.labels(event_type, outcome).inc()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        logger.warning(message)
