"""Cloud recordings of a session's call: start, stop, list, download link, delete.

Recording is billed by Daily per recorded minute, so it is off unless the teacher chose
`manual` or `automatic`. The recordings list follows Daily's webhooks (`recording_events`):
a start or stop here is a request to Daily, and Daily reports what actually happened.
No Daily call is made while a row lock is held.
"""

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from app.core.errors import (
    NotRecording,
    RecordingDisabled,
    RecordingNotFound,
    RecordingNotReady,
    RecordingNotStarted,
    RemovedFromSession,
)
from app.crud import event as event_crud
from app.crud import recording as recording_crud
from app.models.recording import RecordingStatus
from app.models.session import RecordingMode, TutoringSession
from app.models.user import User
from app.schemas.classroom import RecordingCommand, RecordingLink, RecordingList, RecordingRead
from app.services.daily.client import DailyClient
from app.services.daily.unix_time import unix_time
from app.services.sessions import lifecycle
from app.services.sessions.access import load_owned, load_visible


def _recordable(db: Session, user: User, session_id: uuid.UUID, now: datetime) -> TutoringSession:
    session = load_owned(db, user, session_id, lock=False)
    lifecycle.ensure_not_ended(session, now)
    if session.recording is RecordingMode.OFF:
        raise RecordingDisabled()
    return session


def start(
    db: Session, *, daily: DailyClient, user: User, session_id: uuid.UUID, now: datetime
) -> RecordingCommand:
    """Daily's start (about 1 request/s per domain): a 429 that outlasts the retry budget is a
    503 with Retry-After, and nothing is written, so the client simply tries again."""
    session = _recordable(db, user, session_id, now)
    if not daily.start_recording(session.room_name):
        raise RecordingNotStarted()
    _log(db, session, "recording.start_requested", user, now)
    return RecordingCommand(status="starting")


def stop(
    db: Session, *, daily: DailyClient, user: User, session_id: uuid.UUID, now: datetime
) -> RecordingCommand:
    session = load_owned(db, user, session_id, lock=False)
    if session.recording is RecordingMode.OFF or not daily.stop_recording(session.room_name):
        raise NotRecording()
    _log(db, session, "recording.stop_requested", user, now)
    return RecordingCommand(status="stopping")


def _log(db: Session, session: TutoringSession, type: str, user: User, now: datetime) -> None:
    event_crud.record(db, session_id=session.id, type=type, actor_id=user.id, occurred_at=now)


def _viewable(db: Session, user: User, session_id: uuid.UUID) -> TutoringSession:
    """The teacher and the class's students; a removed student sees no recordings."""
    session, participant = load_visible(db, user, session_id)
    if session.teacher_id != user.id and participant is not None and participant.removed_at:
        raise RemovedFromSession()
    return session


def list_recordings(db: Session, *, user: User, session_id: uuid.UUID) -> RecordingList:
    session = _viewable(db, user, session_id)
    rows = recording_crud.list_for_session(db, session.id)
    return RecordingList(items=[RecordingRead.model_validate(row) for row in rows])


def access_link(
    db: Session, *, daily: DailyClient, user: User, session_id: uuid.UUID, recording_id: str
) -> RecordingLink:
    """Daily's `access-link`, fresh for each call and never stored: the link is a signed URL
    that works for anyone holding it until it expires."""
    session = _viewable(db, user, session_id)
    recording = recording_crud.get_in_session(db, session.id, recording_id)
    if recording is None:
        raise RecordingNotFound()
    if recording.status is not RecordingStatus.READY:
        raise RecordingNotReady()
    link = daily.recording_access_link(recording.id)
    expires_at = unix_time((link or {}).get("expires"))
    download_link = (link or {}).get("download_link")
    if not isinstance(download_link, str) or expires_at is None:
        raise RecordingNotFound("Daily no longer has this recording.")
    return RecordingLink(download_link=download_link, expires_at=expires_at)


def delete(
    db: Session,
    *,
    daily: DailyClient,
    user: User,
    session_id: uuid.UUID,
    recording_id: str,
    now: datetime,
) -> None:
    """At Daily first (already gone there counts as done), then the row: a Daily outage
    leaves both in place and the teacher can simply retry."""
    session = load_owned(db, user, session_id, lock=False)
    recording = recording_crud.get_in_session(db, session.id, recording_id)
    if recording is None:
        raise RecordingNotFound()
    daily.delete_recording(recording.id)
    db.delete(recording)
    event_crud.record(
        db,
        session_id=session.id,
        type="recording.deleted",
        actor_id=user.id,
        payload={"recording_id": recording_id},
        occurred_at=now,
    )
