"""Tutoring sessions: creating their Daily rooms, editing, ending and deleting them."""

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import BelowSeatedCount, SessionEnded, SessionInPast
from app.crud import event as event_crud
from app.crud import participant as participant_crud
from app.crud import session as session_crud
from app.db.session import after_commit, on_rollback
from app.models.event import EventSource
from app.models.session import SessionStatus, TutoringSession
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
from app.services.sessions import lifecycle
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
        name=room_name, max_participants=payload.max_participants + 1, expires_at=expires_at
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
        payload={"room_name": room.name, "expires_at": expires_at.isoformat()},
        occurred_at=now,
    )
    join = issue_join_info(
        minter, session, user_id=teacher.id, user_name=teacher.full_name, is_owner=True, now=now
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
) -> SessionRead:
    session = load_owned(db, user, session_id, lock=True)
    changes = {field: getattr(patch, field) for field in patch.model_fields_set}
    current = lifecycle.effective_status(session, now)
    target = changes.pop("status", None)
    if current is SessionStatus.ENDED:
        if changes or target not in (None, SessionStatus.ENDED):
            raise SessionEnded("This session has ended and can no longer change.")
        return to_read(db, session, now)
    if target is not None:
        lifecycle.ensure_forward(current, target)
    _apply_field_changes(db, daily=daily, session=session, changes=changes, now=now)
    if target is SessionStatus.ACTIVE:
        lifecycle.activate(db, session, now=now, source=EventSource.API, actor_id=user.id)
    elif target is SessionStatus.ENDED:
        lifecycle.end(db, session, now=now, daily=daily, source=EventSource.API, actor_id=user.id)
    return to_read(db, session, now)


def _apply_field_changes(
    db: Session,
    *,
    daily: DailyClient,
    session: TutoringSession,
    changes: dict[str, Any],
    now: datetime,
) -> None:
    changes = {k: v for k, v in changes.items() if getattr(session, k) != v}
    if not changes:
        return
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
    _sync_room(db, daily, session, changes)
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
    db: Session, daily: DailyClient, session: TutoringSession, changes: dict[str, Any]
) -> None:
    """Keep the room's size and `exp` equal to the session's; undo it if the commit fails."""
    if "max_participants" not in changes and "expires_at" not in changes:
        return
    room_name, old_size, old_exp = session.room_name, session.max_participants, session.expires_at
    new_size = changes.get("max_participants")
    daily.update_room(
        room_name,
        max_participants=new_size + 1 if new_size is not None else None,
        expires_at=changes.get("expires_at"),
    )
    on_rollback(
        db,
        lambda: daily.update_room(room_name, max_participants=old_size + 1, expires_at=old_exp),
    )


def end_session(
    db: Session, *, daily: DailyClient, user: User, session_id: uuid.UUID, now: datetime
) -> SessionRead:
    session = load_owned(db, user, session_id, lock=True)
    lifecycle.end(db, session, now=now, daily=daily, source=EventSource.API, actor_id=user.id)
    return to_read(db, session, now)


def delete_session(db: Session, *, daily: DailyClient, user: User, session_id: uuid.UUID) -> None:
    """Delete the row (and, by cascade, its participants and events), then the room.

    The room goes after the commit: if Daily fails then, the session is still
    gone, the failure is logged, and reconcile removes the orphaned room.
    """
    session = load_owned(db, user, session_id, lock=True)
    room_name = session.room_name
    db.execute(delete(TutoringSession).where(TutoringSession.id == session.id))
    db.expunge(session)
    after_commit(db, lambda: daily.delete_room(room_name))
