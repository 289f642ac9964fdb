"""Writing down what reads only compute, and cleaning up what a failed call left behind.

Reads treat a session past `expires_at` as ended without writing; this marks such sessions
ended (closing their open presence intervals). It then deletes Daily rooms that carry our
prefix but no live session: rooms of ended or deleted sessions whose after-commit delete
failed. Rooms without our prefix are never touched: the domain may serve other apps. Last,
recordings: gaps the webhooks left are filled and deleted sessions' recordings deleted
(`classroom.recording_sweep`).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import TutoriumError
from app.crud import session as session_crud
from app.db.session import unit_of_work
from app.db.types import utcnow
from app.models.event import EventSource
from app.models.session import SessionStatus
from app.services.classroom.recording_sweep import RecordingSweep, sweep_recordings
from app.services.daily.client import DailyClient, DailyRoom
from app.services.sessions import lifecycle

logger = logging.getLogger(__name__)

# Daily allows about 2 DELETE /rooms per second; stay under it.
ROOM_DELETE_INTERVAL_SECONDS = 0.6
# A room this young may belong to a session whose row is not committed yet: the room is
# created first, then the row.
MIN_ORPHAN_AGE = timedelta(minutes=10)


@dataclass
class ReconcileSummary:
    sessions_ended: list[str] = field(default_factory=list)
    rooms_checked: int = 0
    rooms_deleted: list[str] = field(default_factory=list)
    rooms_already_gone: list[str] = field(default_factory=list)
    rooms_too_young: list[str] = field(default_factory=list)
    rooms_failed: list[str] = field(default_factory=list)
    rooms_error: str | None = None
    rooms_skipped: str | None = None
    recordings: RecordingSweep | None = None
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        recordings_ok = self.recordings is None or not (
            self.recordings.failed or self.recordings.error
        )
        return not self.rooms_failed and self.rooms_error is None and recordings_ok

    def lines(self) -> list[str]:
        """The summary the command prints; a dry run says what it would do."""
        end, delete = (
            ("to mark ended", "to delete") if self.dry_run else ("marked ended", "deleted")
        )
        lines = [f"expired sessions {end}: {len(self.sessions_ended)}"]
        if self.rooms_error or self.rooms_skipped:
            lines.append(f"rooms not checked: {self.rooms_error or self.rooms_skipped}")
            return lines
        lines.append(
            f"Daily rooms with our prefix: {self.rooms_checked} checked, "
            f"{len(self.rooms_deleted)} {delete}, "
            f"{len(self.rooms_already_gone)} already gone, "
            f"{len(self.rooms_too_young)} too young to judge, "
            f"{len(self.rooms_failed)} failed"
        )
        lines.extend(f"  {delete}: {name}" for name in self.rooms_deleted)
        lines.extend(f"  FAILED: {name}" for name in self.rooms_failed)
        if self.recordings is not None:
            lines.extend(self.recordings.lines(dry_run=self.dry_run))
        return lines


class _Pacer:
    """Spaces calls at least `interval` seconds apart."""

    def __init__(
        self, interval: float, sleep: Callable[[float], None], clock: Callable[[], float]
    ) -> None:
        self._interval, self._sleep, self._clock = interval, sleep, clock
        self._next_at: float | None = None

    def wait(self) -> None:
        now = self._clock()
        if self._next_at is not None and now < self._next_at:
            self._sleep(self._next_at - now)
            now = self._next_at
        self._next_at = now + self._interval


def reconcile(
    session_factory: sessionmaker[Session],
    daily: DailyClient,
    *,
    prefix: str,
    now: datetime | None = None,
    check_rooms: bool = True,
    dry_run: bool = False,
    min_room_age: timedelta = MIN_ORPHAN_AGE,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ReconcileSummary:
    now = now or utcnow()
    summary = ReconcileSummary(dry_run=dry_run)
    summary.sessions_ended = _end_expired_sessions(session_factory, daily, now, dry_run=dry_run)
    if not check_rooms:
        summary.rooms_skipped = "DAILY_API_KEY is not set"
        return summary
    try:
        # All pages first: deleting while paging would shift Daily's cursor under us.
        rooms = [room for room in daily.iter_rooms(prefix) if room.name.startswith(f"{prefix}-")]
    except TutoriumError as exc:
        summary.rooms_error = f"listing Daily rooms failed ({exc.code})"
        return summary
    summary.rooms_checked = len(rooms)
    # Read after listing, so a room listed before its session committed is caught by its age.
    db = session_factory()
    try:
        live = session_crud.live_room_names(db, now)
    finally:
        db.close()
    pacer = _Pacer(ROOM_DELETE_INTERVAL_SECONDS, sleep, clock)
    for room in rooms:
        if room.name in live:
            continue
        if not _old_enough(room, now, min_room_age):
            summary.rooms_too_young.append(room.name)
            continue
        if dry_run:
            summary.rooms_deleted.append(room.name)
            continue
        pacer.wait()
        try:
            existed = daily.delete_room(room.name)
        except TutoriumError as exc:
            logger.warning("deleting Daily room %s failed (%s)", room.name, exc.code)
            summary.rooms_failed.append(room.name)
            continue
        (summary.rooms_deleted if existed else summary.rooms_already_gone).append(room.name)
    # Same ~2 req/s tier as room deletes, so the same pacer spaces both.
    summary.recordings = sweep_recordings(
        session_factory, daily, prefix=prefix, now=now, dry_run=dry_run, pace=pacer.wait
    )
    return summary


def _end_expired_sessions(
    session_factory: sessionmaker[Session], daily: DailyClient, now: datetime, *, dry_run: bool
) -> list[str]:
    db = session_factory()
    try:
        expired = list(session_crud.list_expired_unended_ids(db, now))
    finally:
        db.close()
    if dry_run:
        return [str(session_id) for session_id in expired]
    ended = []
    for session_id in expired:
        # One short transaction each: a teacher's request waits on one row lock at most.
        with unit_of_work(session_factory) as db:
            session = session_crud.get_for_update(db, session_id)
            if session is None or session.status is SessionStatus.ENDED:
                continue
            if lifecycle.effective_status(session, now) is not SessionStatus.ENDED:
                continue  # extended in the meantime
            lifecycle.end(
                db,
                session,
                now=now,
                daily=daily,
                source=EventSource.API,
                reason="expired",
                delete_room=False,  # the room sweep below deletes it, paced
            )
            ended.append(str(session_id))
    return ended


def _old_enough(room: DailyRoom, now: datetime, min_age: timedelta) -> bool:
    if not room.created_at:
        return False
    try:
        created_at = datetime.fromisoformat(room.created_at)
    except ValueError:
        logger.warning("Daily room %s has an unreadable created_at; left alone", room.name)
        return False
    if created_at.tzinfo is None:
        return False
    return now - created_at >= min_age
