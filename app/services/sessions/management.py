"""Tutoring sessions: creating their Daily rooms, editing, ending and deleting them."""

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import (
    BelowSeatedCount,
    RecordingModeLocked,
    SessionChanged,
    SessionEnded,
    SessionInPast,
)
from app.crud import event as event_crud
from app.crud import participant as participant_crud
from app.crud import recording as recording_crud
from app.crud import session as session_crud
from app.db.session import after_commit, on_rollback
from app.models.event import EventSource
from app.models.session import RecordingMode, SessionStatus, TutoringSession
from app.models.user import User
from app.schemas.session import (
    SessionCreate,
    SessionCreated,
    SessionPage,
    SessionRead,
    SessionUpdate,
)
from app.services.daily.client import DailyClient
from app.services.daily.meeting_tokens import MeetingTokenMinter
from app.services.sessions import lifecycle, room_closing
from app.services.sessions.access import load_owned, load_visible
from app.services.sessions.join_info import issue_join_info
from app.services.sessions.room_codes import generate_room_code
from app.services.sessions.views import to_read, to_reads

logger = logging.getLogger(__name__)

ROOM_CODE_ATTEMPTS = 8


def compute_expiry(start: datetime | None, created_at: datetime, duration_minutes: int) -> datetime:
    return (start or created_at) + timedelta(minutes=duration_minutes)


def _ensure_future(expires_at: datetime, now: datetime) -> None:
    if expires_at <= now:
        raise SessionInPast()


def _unique_room_code(db: Session) -> str:
    for _ in range(ROOM_CODE_ATTEMPTS):
        code = generate_room_code()
        if not session_crud.room_code_taken(db, code):
            return code
    raise RuntimeError("could not find a free room code")  # ~1e-80 with 40-bit codes


def create_session(
    db: Session,
    *,
    daily: DailyClient,
    minter: MeetingTokenMinter,
    settings: Settings,
    teacher: User,
    payload: SessionCreate,
    now: datetime,
) -> SessionCreated:
    """Daily room first, then the row; if the row cannot be committed, the room is deleted."""
    expires_at = compute_expiry(payload.scheduled_start_at, now, payload.duration_minutes)
    _ensure_future(expires_at, now)
    room_name = f"{settings.daily_room_prefix}-{uuid.uuid4().hex}"
    room = daily.create_room(
        name=room_name,
        max_participants=payload.max_participants + 1,
        expires_at=expires_at,
        cloud_recording=payload.recording is not RecordingMode.OFF,
    )
    on_rollback(db, lambda: daily.delete_room(room_name))
    session = TutoringSession(
        title=payload.title,
        description=payload.description,
        teacher_id=teacher.id,
        status=SessionStatus.SCHEDULED,
        max_participants=payload.max_participants,
        room_name=room.name,
        room_url=room.url,
        room_code=_unique_room_code(db),
        scheduled_start_at=payload.scheduled_start_at,
        duration_minutes=payload.duration_minutes,
        recording=payload.recording,
        expires_at=expires_at,
        created_at=now,
        updated_at=now,
    )
    db.add(session)
    db.flush()
    event_crud.record(
        db,
        session_id=session.id,
        type="session.created",
        actor_id=teacher.id,
        payload={
            "room_name": room.name,
            "expires_at": expires_at.isoformat(),
            "recording": payload.recording.value,
        },
        occurred_at=now,
    )
    join = issue_join_info(
        minter,
        session,
        user_id=teacher.id,
        user_name=teacher.full_name,
        is_owner=True,
        now=now,
        start_cloud_recording=payload.recording is RecordingMode.AUTOMATIC,
    )
    return SessionCreated(**to_read(db, session, now).model_dump(), teacher_join_url=join.join_url)


def list_sessions(
    db: Session,
    user: User,
    *,
    status: SessionStatus | None,
    limit: int,
    offset: int,
    now: datetime,
) -> SessionPage:
    rows, total = session_crud.list_for_user(
        db, user.id, status=status, now=now, limit=limit, offset=offset
    )
    return SessionPage(items=to_reads(db, rows, now), total=total, limit=limit, offset=offset)


def get_session(db: Session, user: User, session_id: uuid.UUID, now: datetime) -> SessionRead:
    session, _ = load_visible(db, user, session_id)
    return to_read(db, session, now)


def update_session(
    db: Session,
    *,
    daily: DailyClient,
    user: User,
    session_id: uuid.UUID,
    patch: SessionUpdate,
    now: datetime,
    backfill: lifecycle.PlanBackfill,
) -> SessionRead:
    """Daily first, then the row lock: no join of the class waits on Daily.

    The room's new size and `exp` are sent while nothing is locked; then the row is locked,
    everything is checked again, and the change is applied. Call-first rather than
    commit-then-call: undoing a committed size in a second transaction would race the joins
    the new size let in (a session could end up over its seats), while undoing a room
    update whose row cannot follow is what `on_rollback` already does. If the session's
    size or schedule changed between the two reads and this request touches the room, it
    is refused (`SessionChanged`) rather than leave the room set from a stale read.
    """
    unlocked = load_owned(db, user, session_id, lock=False)
    planned = _room_change(_plan(db, unlocked, patch, now))
    basis = (unlocked.max_participants, unlocked.expires_at)
    restore_to = _sync_room(db, daily, unlocked, planned) if planned else {}
    session = load_owned(db, user, session_id, lock=True)
    raced = (session.max_participants, session.expires_at) != basis
    if raced:  # an undo sets the room to what the row says now (the winner's), not our read
        restore_to.update(max_participants=session.max_participants, exp=session.expires_at)
    plan = _plan(db, session, patch, now)
    if raced and (planned or _room_change(plan)):
        raise SessionChanged()
    if plan is None:
        return to_read(db, session, now)
    changes, target = plan
    _apply_field_changes(db, session=session, changes=changes, now=now)
    if target is SessionStatus.ACTIVE:
        lifecycle.activate(db, session, now=now, source=EventSource.API, actor_id=user.id)
    elif target is SessionStatus.ENDED:
        _end(db, session, daily=daily, user=user, now=now, backfill=backfill)
    return to_read(db, session, now)


_Plan = tuple[dict[str, Any], SessionStatus | None]
_ROOM_FIELDS = ("max_participants", "expires_at", "recording")


def _plan(
    db: Session, session: TutoringSession, patch: SessionUpdate, now: datetime
) -> _Plan | None:
    """The field changes and the status target, checked; None: an ended session, no-op."""
    changes = {field: getattr(patch, field) for field in patch.model_fields_set}
    current = lifecycle.effective_status(session, now)
    target = changes.pop("status", None)
    if current is SessionStatus.ENDED:
        if changes or target not in (None, SessionStatus.ENDED):
            raise SessionEnded("This session has ended and can no longer change.")
        return None
    if target is not None:
        lifecycle.ensure_forward(current, target)
    return _checked_field_changes(db, session, changes, now), target


def _room_change(plan: _Plan | None) -> dict[str, Any]:
    changes = plan[0] if plan else {}
    return {field: changes[field] for field in _ROOM_FIELDS if field in changes}


def _checked_field_changes(
    db: Session, session: TutoringSession, changes: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The fields that really change, with the new `expires_at` they imply."""
    changes = {k: v for k, v in changes.items() if getattr(session, k) != v}
    if not changes:
        return changes
    if "recording" in changes and lifecycle.effective_status(session, now) is not (
        SessionStatus.SCHEDULED
    ):
        raise RecordingModeLocked()
    if "max_participants" in changes:
        seated = participant_crud.seated_students(db, session.id)
        if changes["max_participants"] < seated:
            raise BelowSeatedCount(
                f"{seated} students already hold a seat; max_participants cannot go below that."
            )
    expires_at = compute_expiry(
        changes.get("scheduled_start_at", session.scheduled_start_at),
        session.created_at,
        changes.get("duration_minutes", session.duration_minutes),
    )
    if expires_at != session.expires_at:
        _ensure_future(expires_at, now)
        changes["expires_at"] = expires_at
    return changes


def _apply_field_changes(
    db: Session, *, session: TutoringSession, changes: dict[str, Any], now: datetime
) -> None:
    if not changes:
        return
    for field, value in changes.items():
        setattr(session, field, value)
    session.updated_at = now
    event_crud.record(
        db,
        session_id=session.id,
        type="session.updated",
        actor_id=session.teacher_id,
        payload={"fields": sorted(changes)},
        occurred_at=now,
    )


def _sync_room(
    db: Session, daily: DailyClient, session: TutoringSession, room_change: dict[str, Any]
) -> dict[str, Any]:
    """Set the room's size, `exp` and cloud recording to the session's new ones; undo it if
    the row does not follow (a refusal under the lock, a failed commit). Returns what the
    undo restores, for the caller to correct when the row turned out to have changed
    meanwhile."""
    room_name = session.room_name
    old_cloud = session.recording is not RecordingMode.OFF
    restore_to: dict[str, Any] = {
        "max_participants": session.max_participants,
        "exp": session.expires_at,
    }
    new_size = room_change.get("max_participants")
    new_mode = room_change.get("recording")
    new_cloud = None if new_mode is None else new_mode is not RecordingMode.OFF
    daily.update_room(
        room_name,
        max_participants=new_size + 1 if new_size is not None else None,
        expires_at=room_change.get("expires_at"),
        cloud_recording=None if new_cloud == old_cloud else new_cloud,
    )
    on_rollback(
        db,
        lambda: daily.update_room(
            room_name,
            max_participants=restore_to["max_participants"] + 1,
            expires_at=restore_to["exp"],
            cloud_recording=old_cloud,
        ),
    )
    return restore_to


def end_session(
    db: Session,
    *,
    daily: DailyClient,
    user: User,
    session_id: uuid.UUID,
    now: datetime,
    backfill: lifecycle.PlanBackfill,
) -> SessionRead:
    session = load_owned(db, user, session_id, lock=True)
    _end(db, session, daily=daily, user=user, now=now, backfill=backfill)
    return to_read(db, session, now)


def _end(
    db: Session,
    session: TutoringSession,
    *,
    daily: DailyClient,
    user: User,
    now: datetime,
    backfill: lifecycle.PlanBackfill,
) -> None:
    """The teacher's end (`POST …/end`, or a PATCH to `ended`): the call is closed after the
    commit, then attendance is backfilled from Daily in the background (`lifecycle.end`)."""
    lifecycle.end(
        db,
        session,
        now=now,
        daily=daily,
        source=EventSource.API,
        actor_id=user.id,
        backfill=backfill,
    )


def delete_session(db: Session, *, daily: DailyClient, user: User, session_id: uuid.UUID) -> None:
    """Delete the row (and, by cascade, its participants, events and recordings), then the
    call, the room and the recordings at Daily.

    Daily's part goes after the commit: if Daily fails then, the session is still
    gone, the failure is logged, and reconcile removes the orphaned room and recordings
    (it lists Daily's recordings of rooms no session owns).
    """
    session = load_owned(db, user, session_id, lock=True)
    room_name, people = session.room_name, room_closing.people_of(db, session)
    recording_ids = recording_crud.ids_for_session(db, session.id)
    db.execute(delete(TutoringSession).where(TutoringSession.id == session.id))
    db.expunge(session)
    after_commit(db, lambda: room_closing.close_room(daily, room_name, people, delete=True))
    for recording_id in recording_ids:
        after_commit(db, _deferred_recording_delete(daily, recording_id))


def _deferred_recording_delete(daily: DailyClient, recording_id: str) -> Callable[[], object]:
    """The after-commit step that deletes one recording at Daily (its failure is logged and
    reconcile retries it), bound to this recording."""
    return lambda: daily.delete_recording(recording_id)
