"""Writing down what reads only compute, and cleaning up what a failed call left behind.

Reads treat a session past `expires_at` as ended without writing; this marks such sessions
ended (closing their open presence intervals). It ejects again removed students whose
presence is still open (a re-eject Daily refused). It then deletes Daily rooms that carry our
prefix but no live session: rooms of ended or deleted sessions whose after-commit delete
failed. Rooms without our prefix are never touched: the domain may serve other apps. Last,
recordings: gaps the webhooks left are filled and deleted sessions' recordings deleted
(`classroom.recording_sweep`).
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.core.errors import TutoriumError
from app.crud import participant as participant_crud
from app.crud import session as session_crud
from app.db.session import unit_of_work
from app.db.types import utcnow
from app.models.event import EventSource
from app.models.session import SessionStatus
from app.services.attendance import backfill, reejection
from app.services.classroom.recording_sweep import RecordingSweep, sweep_recordings
from app.services.daily.client import DailyClient, DailyRoom, is_rate_limited
from app.services.daily.pacing import Pacer
from app.services.sessions import lifecycle
from app.services.webhooks import subscription

logger = logging.getLogger(__name__)

# A room this young may belong to a session whose row is not committed yet: the room is
# created first, then the row.
MIN_ORPHAN_AGE = timedelta(minutes=10)
# Attendance of sessions ended this recently is completed from Daily's `/meetings`.
BACKFILL_WINDOW = timedelta(hours=24)
RECORDINGS_CALL_INTERVAL_SECONDS = 0.6


@dataclass
class ReconcileSummary:
    sessions_ended: list[str] = field(default_factory=list)
    rooms_checked: int = 0
    rooms_deleted: list[str] = field(default_factory=list)
    rooms_already_gone: list[str] = field(default_factory=list)
    rooms_too_young: list[str] = field(default_factory=list)
    rooms_failed: list[str] = field(default_factory=list)
    rooms_deferred: list[str] = field(default_factory=list)  # Daily said 429: next run
    removed_reejected: list[str] = field(default_factory=list)  # "<room>/<user id>"
    reejects_failed: list[str] = field(default_factory=list)
    intervals_backfilled: int = 0
    backfills_failed: list[str] = field(default_factory=list)
    webhook: str | None = None  # the webhook's state line, when checked
    webhook_ok: bool = True
    rooms_error: str | None = None
    rooms_skipped: str | None = None
    recordings: RecordingSweep | None = None
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        recordings_ok = self.recordings is None or not (
            self.recordings.failed or self.recordings.error
        )
        return (
            not self.rooms_failed
            and not self.reejects_failed
            and not self.backfills_failed
            and self.rooms_error is None
            and self.webhook_ok
            and recordings_ok
        )

    def lines(self) -> list[str]:
        """The summary the command prints; a dry run says what it would do."""
        end, delete = (
            ("to mark ended", "to delete") if self.dry_run else ("marked ended", "deleted")
        )
        lines = [f"expired sessions {end}: {len(self.sessions_ended)}"]
        if self.webhook:
            lines.append(self.webhook)
        if self.intervals_backfilled or self.backfills_failed:
            lines.append(
                f"presence intervals backfilled from Daily: {self.intervals_backfilled}, "
                f"sessions failed: {len(self.backfills_failed)}"
            )
        if self.removed_reejected or self.reejects_failed:
            lines.append(
                f"removed students still in a call ejected again: {len(self.removed_reejected)}"
                f", failed: {len(self.reejects_failed)}"
            )
        if self.rooms_error or self.rooms_skipped:
            lines.append(f"rooms not checked: {self.rooms_error or self.rooms_skipped}")
            return lines
        lines.append(
            f"Daily rooms with our prefix: {self.rooms_checked} checked, "
            f"{len(self.rooms_deleted)} {delete}, "
            f"{len(self.rooms_already_gone)} already gone, "
            f"{len(self.rooms_too_young)} too young to judge, "
            f"{len(self.rooms_deferred)} rate-limited (next run), "
            f"{len(self.rooms_failed)} failed"
        )
        lines.extend(f"  {delete}: {name}" for name in self.rooms_deleted)
        lines.extend(f"  FAILED: {name}" for name in self.rooms_failed)
        if self.recordings is not None:
            lines.extend(self.recordings.lines(dry_run=self.dry_run))
        return lines


def reconcile(
    session_factory: sessionmaker[Session],
    daily: DailyClient,
    *,
    prefix: str,
    now: datetime | None = None,
    check_rooms: bool = True,
    dry_run: bool = False,
    min_room_age: timedelta = MIN_ORPHAN_AGE,
    settings: Settings | None = None,
) -> ReconcileSummary:
    now = now or utcnow()
    summary = ReconcileSummary(dry_run=dry_run)
    summary.sessions_ended = _end_expired_sessions(session_factory, daily, now, dry_run=dry_run)
    if not check_rooms:
        summary.rooms_skipped = "DAILY_API_KEY is not set"
        return summary
    _reeject_removed(session_factory, daily, now, summary)
    if not dry_run:
        _backfill_attendance(session_factory, daily, now, summary)
    if settings is not None:
        _check_webhook(daily, settings, summary)
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
        people = session_crud.people_by_room(db, [room.name for room in rooms])
    finally:
        db.close()
    for room in rooms:
        if room.name in live:
            continue
        if not _old_enough(room, now, min_room_age):
            summary.rooms_too_young.append(room.name)
            continue
        if dry_run:
            summary.rooms_deleted.append(room.name)
            continue
        _sweep_room(daily, room.name, people.get(room.name, []), summary)
    # Daily's recordings endpoints are in its ~2 requests/second tier.
    recordings_pacer = Pacer(RECORDINGS_CALL_INTERVAL_SECONDS, time.sleep, time.monotonic)
    summary.recordings = sweep_recordings(
        session_factory, daily, prefix=prefix, now=now, dry_run=dry_run, pace=recordings_pacer.wait
    )
    return summary


def _sweep_room(
    daily: DailyClient, room_name: str, people: list[str], summary: ReconcileSummary
) -> None:
    """Eject whoever our tokens let in (Daily's delete is not documented to), then delete.

    The delete is paced by the client; a 429 means "later": the room stays for the next run.
    """
    try:
        daily.eject(room_name, user_ids=people, ban=False)
        existed = daily.delete_room(room_name)
    except TutoriumError as exc:
        if is_rate_limited(exc):
            summary.rooms_deferred.append(room_name)
            return
        logger.warning("closing Daily room %s failed (%s)", room_name, exc.code)
        summary.rooms_failed.append(room_name)
        return
    (summary.rooms_deleted if existed else summary.rooms_already_gone).append(room_name)


def _check_webhook(daily: DailyClient, settings: Settings, summary: ReconcileSummary) -> None:
    """A FAILED or missing webhook means no attendance at all: say so, and exit 1."""
    try:
        report = subscription.status(daily, settings)
    except subscription.WebhookNotConfigured as exc:
        summary.webhook = f"Daily webhook: not checked ({exc})"
        return
    except TutoriumError as exc:
        summary.webhook, summary.webhook_ok = f"Daily webhook: not checked ({exc.code})", False
        return
    summary.webhook, summary.webhook_ok = report.line(), report.active


def _backfill_attendance(
    session_factory: sessionmaker[Session],
    daily: DailyClient,
    now: datetime,
    summary: ReconcileSummary,
) -> None:
    """Sessions ended in the last day get presence webhooks never delivered, from Daily's
    `/meetings` (`attendance.backfill`); idempotent, so every run may repeat it. The API
    backfills each session it ends already (`attendance.backfill_retries`); this finishes
    what that could not: a meeting still running after its last try, a Daily outage, a
    process that exited first, and sessions ended here on expiry."""
    db = session_factory()
    try:
        ended = session_crud.list_recently_ended_ids(db, now, BACKFILL_WINDOW)
    finally:
        db.close()
    for session_id in ended:
        try:
            done = backfill.backfill_session(session_factory, daily, session_id)
        except TutoriumError as exc:
            logger.warning("attendance backfill of session %s failed (%s)", session_id, exc.code)
            summary.backfills_failed.append(str(session_id))
        else:
            summary.intervals_backfilled += done.changed


def _reeject_removed(
    session_factory: sessionmaker[Session],
    daily: DailyClient,
    now: datetime,
    summary: ReconcileSummary,
) -> None:
    """Retry the re-ejects a webhook scheduled but Daily refused (`attendance.reejection`):
    a removed student whose presence is still open is ejected and banned again."""
    db = session_factory()
    try:
        targets = participant_crud.removed_in_call(db, now)
    finally:
        db.close()
    for room_name, user_id in targets:
        label = f"{room_name}/{user_id}"
        if summary.dry_run or reejection.reeject(daily, room_name, str(user_id)):
            summary.removed_reejected.append(label)
        else:
            summary.reejects_failed.append(label)


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
                delete_room=False,  # ejected after the commit; the room sweep deletes it
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
