"""Attendance backfilled after a session's end, in the background (`backfill_retries`).

The end plans a backfill once the call is closed; Daily's `meeting.ended` for a session
already over brings it forward. The runner retries while Daily still reports the meeting
running, then stops; a Daily failure is logged, never raised.
"""

import logging
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models.event import EventSource, SessionEvent
from app.services.attendance.backfill import Backfilled, backfill_session
from app.services.attendance.backfill_retries import BackfillRetries
from tests.conftest import Account, PlannedBackfills
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import SESSIONS, create_session, seat
from tests.webhook_signing import RoomEvents, deliver

QUICK = (0.01, 0.01, 0.01)  # the retry schedule, shortened
WAIT_S = 10.0  # a bound on waiting for the runner's thread, not a speed claim


def end(client: TestClient, teacher: Account, session: dict[str, Any]) -> None:
    response = client.post(f"{SESSIONS}/{session['id']}/end", headers=teacher.headers)
    assert response.status_code == 200, response.text


def test_end_plans_a_backfill_after_closing_the_room(
    client: TestClient,
    teacher: Account,
    student: Account,
    daily: FakeDaily,
    planned_backfills: PlannedBackfills,
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    room = session["room_name"]
    closed_when_planned: list[list[str]] = []
    record = planned_backfills.after_end

    def after_end(session_id: uuid.UUID) -> None:
        to_room = [c.request for c in daily.router.calls if f"/rooms/{room}" in c.request.url.path]
        closed_when_planned.append([request.method for request in to_room[-2:]])
        record(session_id)

    planned_backfills.after_end = after_end  # type: ignore[method-assign]
    end(client, teacher, session)
    end(client, teacher, session)  # a no-op: nothing planned again

    assert planned_backfills.planned == [("after_end", uuid.UUID(session["id"]))]
    assert closed_when_planned == [["POST", "DELETE"]]  # eject, delete, then the plan


def test_patch_to_ended_plans_it_too(
    client: TestClient, teacher: Account, planned_backfills: PlannedBackfills
) -> None:
    session = create_session(client, teacher)
    response = client.patch(
        f"{SESSIONS}/{session['id']}", json={"status": "ended"}, headers=teacher.headers
    )
    assert response.status_code == 200, response.text
    assert planned_backfills.planned == [("after_end", uuid.UUID(session["id"]))]


def test_meeting_ended_of_an_ended_session_brings_its_backfill_forward(
    client: TestClient, teacher: Account, planned_backfills: PlannedBackfills
) -> None:
    session = create_session(client, teacher)
    room, now = RoomEvents(session["room_name"]), time.time()
    assert deliver(client, room.meeting_ended(now - 300, now - 200)).json()["status"] == (
        "processed"
    )
    assert planned_backfills.planned == []  # the class goes on: a teacher may come back

    end(client, teacher, session)
    last = RoomEvents(session["room_name"]).meeting_ended(now - 100, now)  # the next meeting
    assert deliver(client, last).json()["status"] == "processed"
    assert deliver(client, last).json()["status"] == "duplicate"
    session_id = uuid.UUID(session["id"])
    assert planned_backfills.planned == [("after_end", session_id), ("meeting_ended", session_id)]


@pytest.fixture
def real_backfills(app: FastAPI) -> Iterator[list[BackfillRetries]]:
    """Runners a test installs in the app; stopped (their thread joined) when it ends."""
    runners: list[BackfillRetries] = []
    yield runners
    for runner in runners:
        runner.stop()


def test_the_end_answers_while_the_backfill_still_runs(
    app: FastAPI,
    client: TestClient,
    teacher: Account,
    real_backfills: list[BackfillRetries],
) -> None:
    release, started, finished = threading.Event(), threading.Event(), queue.Queue[uuid.UUID]()

    def slow_backfill(session_id: uuid.UUID) -> Backfilled:
        started.set()
        assert release.wait(WAIT_S)
        finished.put(session_id)
        return Backfilled()

    runner = BackfillRetries(slow_backfill, delays=(0.0,))
    real_backfills.append(runner)
    app.state.backfill_retries = runner
    session = create_session(client, teacher)

    end(client, teacher, session)  # answers although the backfill cannot finish yet

    assert started.wait(WAIT_S)
    assert finished.empty()
    release.set()
    assert finished.get(timeout=WAIT_S) == uuid.UUID(session["id"])


def _meeting(meeting_id: str, room: str, *, ongoing: bool, start: float) -> dict[str, Any]:
    return {"id": meeting_id, "room": room, "start_time": int(start), "ongoing": ongoing}


def _daily_record(
    daily: FakeDaily, room: str, people: list[dict[str, Any]], ongoing_answers: int
) -> None:
    """Daily's `/meetings`: the room's one meeting is `ongoing` for the first
    `ongoing_answers` listings, then finished, with `people` in it."""
    listings = iter(range(10_000))
    start = min(person["join_time"] for person in people)

    def meetings(request: httpx.Request) -> httpx.Response:
        if "starting_after" in request.url.params:
            return httpx.Response(200, json={"total_count": 1, "data": []})
        ongoing = next(listings) < ongoing_answers
        meeting = _meeting("mtg-1", room, ongoing=ongoing, start=start)
        return httpx.Response(200, json={"total_count": 1, "data": [meeting]})

    def attended(request: httpx.Request, meeting: str) -> httpx.Response:
        page = [] if "joined_after" in request.url.params else people
        return httpx.Response(200, json={"total_count": len(people), "data": page})

    daily.router.routes["meetings"].side_effect = meetings
    daily.router.routes["attended"].side_effect = attended


def _runner(
    app: FastAPI, session_factory: sessionmaker[Session], results: "queue.Queue[Backfilled]"
) -> BackfillRetries:
    """The real thing with a short schedule; each try's result is also handed to the test."""

    def backfill(session_id: uuid.UUID) -> Backfilled:
        done = backfill_session(session_factory, app.state.daily, session_id)
        results.put(done)
        return done

    return BackfillRetries(backfill, delays=QUICK)


def test_retries_while_the_meeting_runs_then_backfills_once(
    app: FastAPI,
    client: TestClient,
    db: Session,
    session_factory: sessionmaker[Session],
    teacher: Account,
    student: Account,
    daily: FakeDaily,
    real_backfills: list[BackfillRetries],
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    end(client, teacher, session)
    now = time.time()
    # No webhook arrived: Daily's record is all there is.
    _daily_record(
        daily,
        session["room_name"],
        [
            {
                "participant_id": str(uuid.uuid4()),
                "user_id": str(student.id),
                "user_name": "S",
                "join_time": int(now - 900),
                "duration": 600,
            },
        ],
        ongoing_answers=1,
    )
    results: queue.Queue[Backfilled] = queue.Queue()
    runner = _runner(app, session_factory, results)
    real_backfills.append(runner)
    session_id = uuid.UUID(session["id"])

    runner.after_end(session_id)
    assert results.get(timeout=WAIT_S) == Backfilled(changed=0, ongoing=True)
    assert results.get(timeout=WAIT_S) == Backfilled(changed=1, ongoing=False)
    runner.after_end(session_id)  # planned again (a second end elsewhere): nothing to add
    assert results.get(timeout=WAIT_S) == Backfilled(changed=0, ongoing=False)
    runner.stop()
    assert results.empty()  # finished: no try after Daily said the meeting was over

    rows = client.get(f"{SESSIONS}/{session['id']}/attendance", headers=teacher.headers).json()
    (row,) = [r for r in rows["items"] if r["user_id"] == str(student.id)]
    assert (row["join_count"], row["total_seconds"]) == (1, 600)
    db.expire_all()
    backfilled = db.scalars(
        select(SessionEvent).where(
            SessionEvent.session_id == session_id, SessionEvent.source == EventSource.BACKFILL
        )
    ).all()
    assert [e.type for e in backfilled] == ["participant.backfilled"]


def test_a_daily_failure_is_logged_and_retried_never_raised(
    app: FastAPI,
    client: TestClient,
    session_factory: sessionmaker[Session],
    teacher: Account,
    daily: FakeDaily,
    real_backfills: list[BackfillRetries],
    caplog: pytest.LogCaptureFixture,
) -> None:
    session = create_session(client, teacher)
    end(client, teacher, session)
    daily.router.routes["meetings"].side_effect = lambda request: httpx.Response(
        400, json={"error": "invalid-request-error", "info": "no"}
    )
    results: queue.Queue[Backfilled] = queue.Queue()
    runner = _runner(app, session_factory, results)
    real_backfills.append(runner)
    caplog.set_level(logging.INFO, logger="app.services.attendance.backfill_retries")

    runner.after_end(uuid.UUID(session["id"]))
    # Until the runner gives up by itself: stopping it while its last try is still failing
    # (right after Daily's third call) would end the schedule before it says so.
    deadline = time.monotonic() + WAIT_S
    while not any("reconcile completes it" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "the runner never gave up"
        time.sleep(0.01)
    runner.stop()

    assert len(daily.calls("GET", "/meetings")) == len(QUICK)  # every try, then no more
    assert results.empty()  # no try returned: each raised, and the runner caught it
    messages = [r.getMessage() for r in caplog.records if r.name.endswith("backfill_retries")]
    assert messages[:-1] == [
        f"attendance backfill of session {session['id']} failed (video_provider_rejected)"
    ] * len(QUICK)
    assert "reconcile completes it" in messages[-1]
    assert "test-daily-api-key" not in caplog.text
