"""Daily's recording webhooks applied to the `recordings` table (facts: daily-api.md §5, §10).

`recording.started` names no room: it is matched by its `recording_id` (a row we already
have) or looked up with `GET /recordings/:id`, before any row lock is taken. The other two
carry `room_name`. A recording's state only moves forward (recording -> ready | failed): a
late or repeated `recording.started` never undoes `ready`, so order and duplicates do not
matter. Stored in the event log under the feed's names: recording.started, recording.ready,
recording.failed.
"""

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.core.errors import TutoriumError
from app.crud import recording as recording_crud
from app.crud import session as session_crud
from app.models.recording import Recording, RecordingStatus
from app.models.session import TutoringSession
from app.services.daily.client import DailyClient
from app.services.daily.unix_time import unix_time
from app.services.daily.webhook_events import DailyEvent

logger = logging.getLogger(__name__)

LOG_TYPES = {
    "recording.started": "recording.started",
    "recording.ready-to-download": "recording.ready",
    "recording.error": "recording.failed",
}
# What each event is about, for recognising a redelivery under a new event id. Not
# `recording.error`: its `instance_id` is reused by every recording of the room (Daily's
# default instance), so it cannot tell two failures apart; applying one twice changes nothing.
DEDUPE_KEYS = {
    "recording.started": "recording_id",
    "recording.ready-to-download": "recording_id",
}
_MAX_ID = 64


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= _MAX_ID else None


def room_of_started(db: Session, daily: DailyClient | None, event: DailyEvent) -> str | None:
    """The room a `recording.started` is about: ours by id, else Daily's answer. A Daily
    failure leaves it unmatched (acknowledged; reconcile fills the row from Daily's list)."""
    recording_id = _text(event.payload.get("recording_id"))
    if recording_id is None:
        return None
    session_id = recording_crud.session_of(db, recording_id)
    if session_id is not None:
        session = session_crud.get(db, session_id)
        return session.room_name if session else None
    if daily is None:
        return None
    try:
        found = daily.get_recording(recording_id)
    except (TutoriumError, ValueError):
        logger.warning("Daily recording %s could not be looked up; left to reconcile", recording_id)
        return None
    room = (found or {}).get("room_name")
    return room if isinstance(room, str) and room else None


def _upsert(
    db: Session, session: TutoringSession, recording_id: str, now: datetime
) -> tuple[Recording, bool]:
    recording = recording_crud.get(db, recording_id, lock=True)
    if recording is not None:
        return recording, False
    recording = Recording(
        id=recording_id,
        session_id=session.id,
        status=RecordingStatus.RECORDING,
        created_at=now,
        updated_at=now,
    )
    db.add(recording)
    return recording, True


def started(
    db: Session, session: TutoringSession, event: DailyEvent, now: datetime
) -> tuple[uuid.UUID | None, datetime]:
    started_at = event.time("start_ts") or event.sent_at or now
    recording_id = _text(event.payload.get("recording_id"))
    if recording_id is not None:
        recording, _ = _upsert(db, session, recording_id, now)
        recording.started_at = recording.started_at or started_at
        recording.instance_id = recording.instance_id or _text(event.payload.get("instance_id"))
        db.flush()
    return None, started_at


def ready(
    db: Session, session: TutoringSession, event: DailyEvent, now: datetime
) -> tuple[uuid.UUID | None, datetime]:
    recording_id = _text(event.payload.get("recording_id"))
    if recording_id is not None:
        apply_listing(db, session, {**event.payload, "id": recording_id}, now=now)
    return None, event.sent_at or now


def failed(
    db: Session, session: TutoringSession, event: DailyEvent, now: datetime
) -> tuple[uuid.UUID | None, datetime]:
    """`recording.error` names the instance, not the recording: its latest recording fails."""
    failed_at = event.time("timestamp") or event.sent_at or now
    instance_id = _text(event.payload.get("instance_id"))
    recording = recording_crud.by_instance(db, session.id, instance_id) if instance_id else None
    if recording is not None and recording.status is RecordingStatus.RECORDING:
        recording.status = RecordingStatus.FAILED
        message = event.payload.get("error_msg")
        recording.error = message[:2000] if isinstance(message, str) else "recording failed"
        recording.updated_at = now
    return None, failed_at


def apply_listing(
    db: Session, session: TutoringSession, listed: dict[str, Any], *, now: datetime
) -> bool:
    """One recording as Daily describes it (a REST listing entry or the ready webhook's
    payload): `finished` is ready; anything else is still recording. Returns whether our row
    changed (created, or now ready)."""
    recording_id = _text(listed.get("id"))
    if recording_id is None:
        return False
    recording, created = _upsert(db, session, recording_id, now)
    recording.started_at = recording.started_at or unix_time(listed.get("start_ts"))
    duration = listed.get("duration")
    finished = listed.get("status") == "finished" and recording.status is not RecordingStatus.READY
    if finished:
        recording.status = RecordingStatus.READY
        recording.error = None
        if isinstance(duration, int | float) and not isinstance(duration, bool):
            recording.duration_seconds = int(duration)
        recording.updated_at = now
    db.flush()
    return created or finished
