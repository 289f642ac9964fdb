"""Daily failing under the API, injected through the emulator: a 500, a 429, a slow answer.

A session is a Daily room plus a row; whatever Daily does, the two must not drift apart, and
the teacher must get an answer within the retry budget.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, text

from tests.e2e.stack import MAX_ATTEMPTS, READ_TIMEOUT_S, RETRY_BUDGET_S, Stack
from tests.e2e.steps import create_session, sign_up

# Room creation plus the API's own work (auth, one insert) must fit in the budget plus this.
API_OVERHEAD_S = 1.0


def _room_creates(stack: Stack) -> list[dict[str, Any]]:
    return [r for r in stack.daily_requests() if (r["method"], r["path"]) == ("POST", "/v1/rooms")]


def _saved_sessions(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM sessions")).scalar_one()


def _wait_for_abandoned_requests(stack: Stack, fault_id: str) -> None:
    """A delayed request the API gave up on still runs in the emulator; wait until each one has
    finished (it is logged then) so it cannot create a room during the next test."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        [fault] = stack.emulator.get("/_emulator/faults").json()["data"]
        started = fault["times"] - fault["remaining"]
        finished = [r for r in stack.daily_requests() if r["fault"] == fault_id]
        if len(finished) == started:
            return
        time.sleep(0.05)
    raise AssertionError("the emulator did not finish the delayed requests")


def test_daily_500_on_room_create_is_a_503_and_saves_nothing(stack: Stack, engine: Engine) -> None:
    teacher = sign_up(stack.api, "teacher", "Ada Teacher")
    stack.add_fault(path="/v1/rooms", method="POST", status=500, times=MAX_ATTEMPTS)

    response = create_session(stack.api, teacher)

    assert response.status_code == 503, response.text
    assert response.json()["code"] == "video_provider_unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    attempts = _room_creates(stack)
    assert [a["status"] for a in attempts] == [500] * MAX_ATTEMPTS
    [room_name] = {a["body"]["name"] for a in attempts}  # one room, asked for again
    assert not stack.room_exists(room_name)
    assert _saved_sessions(engine) == 0
    listed = stack.api.get("/api/v1/sessions", headers=teacher.headers)
    assert listed.json()["total"] == 0


def test_a_429_is_retried_and_the_session_created(stack: Stack, engine: Engine) -> None:
    teacher = sign_up(stack.api, "teacher", "Ada Teacher")
    stack.add_fault(
        path="/v1/rooms",
        method="POST",
        status=429,
        body={"error": "rate-limit-error", "info": "Too many requests"},
        times=1,
    )

    response = create_session(stack.api, teacher)

    assert response.status_code == 201, response.text
    first, second = _room_creates(stack)
    assert (first["status"], second["status"]) == (429, 200)
    assert first["fault"] is not None
    assert second["fault"] is None
    assert first["body"] == second["body"]  # the same room, asked for again
    assert response.json()["room_name"] == second["body"]["name"]
    assert stack.room_exists(second["body"]["name"])
    assert _saved_sessions(engine) == 1


def test_a_slow_daily_is_a_503_within_the_retry_budget(stack: Stack, engine: Engine) -> None:
    teacher = sign_up(stack.api, "teacher", "Ada Teacher")
    slow_ms = int((READ_TIMEOUT_S + 0.5) * 1000)  # every answer comes after the read timeout
    fault = stack.add_fault(path="/v1/rooms", method="POST", delay_ms=slow_ms, times=10)

    started = time.monotonic()
    response = create_session(stack.api, teacher)
    elapsed = time.monotonic() - started

    assert response.status_code == 503, response.text
    assert response.json()["code"] == "video_provider_unavailable"
    assert READ_TIMEOUT_S <= elapsed < RETRY_BUDGET_S + API_OVERHEAD_S
    assert _saved_sessions(engine) == 0
    _wait_for_abandoned_requests(stack, fault["id"])
    assert 1 <= len(_room_creates(stack)) <= MAX_ATTEMPTS
