"""Attendance completed when a class ends, not only at the next reconcile.

Once a session's end has committed and its room is closed (everyone ejected, the room
deleted: `sessions.room_closing`), its attendance is backfilled from Daily's `/meetings`
(`backfill`) in the background: never in the request's path, so the end answers at once.
Right after the eject Daily may still report the meeting `ongoing` (its `meeting.ended` comes
up to 20 s late, daily-api.md §10), and a backfill skips running meetings; so it is tried
again on a bounded schedule (`RETRY_DELAYS_SECONDS`) until no meeting of the room is running,
then stops. Daily's own `meeting.ended` for an ended session brings the next try forward to
now: that is when Daily says the last call is over.

One daemon thread per process makes every session's tries, one at a time (Daily's rate limits
are per domain, and an hour's end can close many classes at once). It waits on a condition
variable, so it holds no database connection while it sleeps and never touches the event loop.
A failure (Daily's, the database's) is logged and tried again at the next step of the
schedule, never raised to anyone. What is still missing after the last try, and every try
pending when the process exits, is left to `app.cli reconcile`, which backfills every session
ended in the last 24 hours.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.core.errors import TutoriumError
from app.services.attendance.backfill import Backfilled

logger = logging.getLogger(__name__)

# The waits before each try, each from the one before: tries at about 5 s, 35 s and 125 s
# after the end, past Daily's documented 20 s lag for `meeting.ended`.
RETRY_DELAYS_SECONDS: tuple[float, ...] = (5.0, 30.0, 90.0)
# How long shutting down waits for a try in flight (its Daily calls are bounded by
# DAILY_RETRY_BUDGET_SECONDS anyway); the tries not yet due are dropped at once.
STOP_WAIT_SECONDS = 10.0

Backfill = Callable[[uuid.UUID], Backfilled]
"""One try for one session: `backfill.backfill_session` bound to a session factory and Daily."""


@dataclass
class _Plan:
    due: float  # time.monotonic() of the next try
    later: tuple[float, ...]  # the waits before the tries after it


class BackfillRetries:
    """The per-process scheduler of attendance backfills after a session's end."""

    def __init__(self, backfill: Backfill, *, delays: Sequence[float] = RETRY_DELAYS_SECONDS):
        if not delays:
            raise ValueError("at least one try")
        self._backfill = backfill
        self._delays = tuple(delays)
        self._plans: dict[uuid.UUID, _Plan] = {}
        self._changed = threading.Condition()
        self._worker: threading.Thread | None = None  # the thread that makes the tries

    def after_end(self, session_id: uuid.UUID) -> None:
        """The session's end committed and its room is closed: the first try comes after the
        first delay, time for Daily to see the meeting over. A session already planned keeps
        its plan."""
        self._plan(session_id, wait=self._delays[0], bring_forward=False)

    def meeting_ended(self, session_id: uuid.UUID) -> None:
        """Daily says a meeting of this ended session is over: try now (a planned session's
        next try moves to now; the rest of its schedule stays)."""
        self._plan(session_id, wait=0.0, bring_forward=True)

    def stop(self, timeout: float = STOP_WAIT_SECONDS) -> None:
        """Drop the tries not yet due (reconcile makes them) and end the thread once its try
        in flight is done; a later plan starts a new one (an app started again)."""
        with self._changed:
            dropped, worker = len(self._plans), self._worker
            self._plans.clear()
            self._worker = None
            self._changed.notify_all()
        if dropped:
            logger.info("%d planned attendance backfills left to reconcile at shutdown", dropped)
        if worker is not None:
            worker.join(timeout)

    def _plan(self, session_id: uuid.UUID, *, wait: float, bring_forward: bool) -> None:
        with self._changed:
            now = time.monotonic()
            plan = self._plans.get(session_id)
            if plan is None:
                self._plans[session_id] = _Plan(due=now + wait, later=self._delays[1:])
            elif bring_forward:
                plan.due = min(plan.due, now)
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, name="attendance-backfill", daemon=True
                )
                self._worker.start()
            self._changed.notify_all()

    def _work(self) -> None:
        while (due := self._next_due()) is not None:
            session_id, later = due
            if self._try(session_id):
                self._again(session_id, later)

    def _next_due(self) -> tuple[uuid.UUID, tuple[float, ...]] | None:
        """Sleep until some session's try is due (or the scheduler stops), and take it."""
        with self._changed:
            while self._worker is threading.current_thread():  # else: stopped
                if not self._plans:
                    self._changed.wait()
                    continue
                session_id, plan = min(self._plans.items(), key=lambda item: item[1].due)
                wait = plan.due - time.monotonic()
                if wait <= 0:
                    del self._plans[session_id]
                    return session_id, plan.later
                self._changed.wait(wait)
            return None

    def _try(self, session_id: uuid.UUID) -> bool:
        """One backfill; whether to try again (a meeting still running, or a failure)."""
        try:
            done = self._backfill(session_id)
        except TutoriumError as exc:
            logger.warning("attendance backfill of session %s failed (%s)", session_id, exc.code)
            return True
        except Exception:
            logger.exception("attendance backfill of session %s failed", session_id)
            return True
        if done.changed:
            logger.info(
                "attendance of session %s: %d presence intervals backfilled from Daily",
                session_id,
                done.changed,
            )
        return done.ongoing

    def _again(self, session_id: uuid.UUID, later: tuple[float, ...]) -> None:
        with self._changed:
            if self._worker is not threading.current_thread() or session_id in self._plans:
                return  # stopped, or Daily's meeting.ended planned a try meanwhile
            if later:
                self._plans[session_id] = _Plan(due=time.monotonic() + later[0], later=later[1:])
                return
        logger.info(
            "attendance backfill of session %s: Daily's record is not final after the last "
            "try (a meeting still running, or a failure); reconcile completes it",
            session_id,
        )
