"""Reconcile's recording part: fill gaps the webhooks left, delete what deleted sessions left.

Webhooks can be lost (a failed delivery is dropped after Daily's retries), so Daily's own list,
`GET /recordings` (the ~2 req/s tier, paged), is read once: a recording of one of our rooms
updates its session's row (`recording_events.apply_listing`, which only moves a recording
forward); a recording of one of our rooms that no session owns any more belongs to a deleted
session whose after-commit delete failed, and is deleted at Daily, paced. Other apps'
recordings (rooms without our prefix) are never touched.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import TutoriumError
from app.crud import session as session_crud
from app.db.session import unit_of_work
from app.services.classroom.recording_events import apply_listing
from app.services.daily.client import DailyClient

logger = logging.getLogger(__name__)


@dataclass
class RecordingSweep:
    checked: int = 0
    filled: int = 0
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    error: str | None = None

    def lines(self, *, dry_run: bool) -> list[str]:
        if self.error:
            return [f"recordings not checked: {self.error}"]
        verb = "to delete" if dry_run else "deleted"
        return [
            f"Daily recordings of our rooms: {self.checked} checked, {self.filled} brought up to "
            f"date, {len(self.deleted)} of deleted sessions {verb}, {len(self.failed)} failed",
            *(f"  FAILED: recording {rid}" for rid in self.failed),
        ]


def sweep_recordings(
    session_factory: sessionmaker[Session],
    daily: DailyClient,
    *,
    prefix: str,
    now: datetime,
    dry_run: bool,
    pace: Callable[[], None],
) -> RecordingSweep:
    sweep = RecordingSweep()
    try:
        listed = [r for r in daily.iter_recordings() if _ours(r, prefix)]
    except TutoriumError as exc:
        sweep.error = f"listing Daily recordings failed ({exc.code})"
        return sweep
    sweep.checked = len(listed)
    for recording in listed:
        if _fill(session_factory, recording, now=now, dry_run=dry_run):
            sweep.filled += 1
            continue
        if _owned(session_factory, recording["room_name"]):
            continue
        recording_id = str(recording.get("id", ""))
        if not dry_run:
            pace()
            try:
                daily.delete_recording(recording_id)
            except (TutoriumError, ValueError) as exc:
                logger.warning("deleting Daily recording %s failed (%s)", recording_id, exc)
                sweep.failed.append(recording_id)
                continue
        sweep.deleted.append(recording_id)
    return sweep


def _ours(recording: dict[str, Any], prefix: str) -> bool:
    room = recording.get("room_name")
    return isinstance(room, str) and room.startswith(f"{prefix}-")


def _owned(session_factory: sessionmaker[Session], room_name: str) -> bool:
    db = session_factory()
    try:
        return session_crud.get_by_room_name(db, room_name) is not None
    finally:
        db.close()


def _fill(
    session_factory: sessionmaker[Session],
    recording: dict[str, Any],
    *,
    now: datetime,
    dry_run: bool,
) -> bool:
    """Bring the session's row up to Daily's state; True when that changed something. Under
    the session's row lock, as the webhooks take it, so the two never interleave."""
    with unit_of_work(session_factory) as db:
        session = session_crud.get_by_room_name_for_update(db, recording["room_name"])
        if session is None:
            return False
        changed = apply_listing(db, session, recording, now=now)
        if dry_run:
            db.rollback()
        return changed
