"""The scheduler of backfills after an end, with a stand-in backfill (no database, no Daily).

Waits are bounded (`WAIT_S`), never speed claims: the schedules here are either near zero or
an hour, so what happens is decided by the plan, not by how fast the machine is.
"""

import logging
import queue
import uuid

import pytest

from app.services.attendance.backfill import Backfilled
from app.services.attendance.backfill_retries import RETRY_DELAYS_SECONDS, BackfillRetries

HOUR = 3600.0
WAIT_S = 10.0


class Tries:
    """A backfill that answers from a script and hands every call to the test."""

    def __init__(self, *answers: Backfilled | Exception) -> None:
        self.answers = list(answers)
        self.calls: queue.Queue[uuid.UUID] = queue.Queue()

    def __call__(self, session_id: uuid.UUID) -> Backfilled:
        self.calls.put(session_id)
        answer = self.answers.pop(0) if self.answers else Backfilled()
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_daily_saying_the_meeting_ended_brings_the_planned_try_forward() -> None:
    tries = Tries()
    runner = BackfillRetries(tries, delays=(HOUR, HOUR))
    session_id = uuid.uuid4()
    try:
        runner.after_end(session_id)  # first try in an hour
        runner.meeting_ended(session_id)  # now
        assert tries.calls.get(timeout=WAIT_S) == session_id
    finally:
        runner.stop()
    assert tries.calls.empty()  # done: not tried again in an hour


def test_an_unexpected_error_is_logged_and_the_next_try_still_comes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tries = Tries(RuntimeError("database went away"), Backfilled(changed=2))
    runner = BackfillRetries(tries, delays=(0.0, 0.0, HOUR))
    session_id = uuid.uuid4()
    try:
        runner.after_end(session_id)
        assert tries.calls.get(timeout=WAIT_S) == session_id
        assert tries.calls.get(timeout=WAIT_S) == session_id
    finally:
        runner.stop()
    assert tries.calls.empty()
    (failure,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert failure.getMessage() == f"attendance backfill of session {session_id} failed"


def test_tries_not_yet_due_at_shutdown_are_left_to_reconcile(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="app.services.attendance.backfill_retries")
    tries = Tries()
    runner = BackfillRetries(tries, delays=(HOUR,))
    runner.after_end(uuid.uuid4())
    runner.after_end(uuid.uuid4())
    runner.stop()
    assert tries.calls.empty()
    assert "2 planned attendance backfills left to reconcile at shutdown" in caplog.messages

    runner.meeting_ended(session_id := uuid.uuid4())  # an app started again: a new thread
    try:
        assert tries.calls.get(timeout=WAIT_S) == session_id
    finally:
        runner.stop()


def test_the_schedule_is_the_one_readme_gives() -> None:
    """README: tries about 5 s, 35 s and 125 s after the end (past Daily's 20 s lag)."""
    assert RETRY_DELAYS_SECONDS == (5.0, 30.0, 90.0)
