"""No join waits on Daily: a slow room update (PATCH) or eject (removal) holds no row lock.

The emulator holds the API's Daily call; while it is held, students of the same class join.
Were the call made under the session's row lock, every join would queue behind it and finish
after the teacher's request; here each one finishes while the teacher's is still waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.e2e.stack import READ_TIMEOUT_S, Stack
from tests.e2e.steps import V1, Person, create_session, join_by_code, sign_up

# Under the API's read timeout, so the held call is answered, not retried.
HELD_MS = int(READ_TIMEOUT_S * 1000 * 0.9)
JOINERS = 3


def _wait_until_held(stack: Stack, fault_id: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        faults = {f["id"]: f for f in stack.emulator.get("/_emulator/faults").json()["data"]}
        if faults[fault_id]["remaining"] == 0:
            return
        time.sleep(0.01)
    raise AssertionError("the API never called Daily")


def _joins_finish_while_held(
    stack: Stack, fault_id: str, teacher_request: Callable[[], httpx.Response], room_code: str
) -> httpx.Response:
    students = [sign_up(stack.api, "student", f"Student {n}") for n in range(JOINERS)]

    def join(student: Person) -> int:
        with httpx.Client(base_url=stack.api_url, timeout=15.0) as api:
            return join_by_code(api, student, room_code).status_code

    with ThreadPoolExecutor(JOINERS + 1) as pool:
        held = pool.submit(teacher_request)
        _wait_until_held(stack, fault_id)
        joined = [pool.submit(join, student) for student in students]
        statuses = [future.result() for future in joined]
        still_held = not held.done()
        answer = held.result()
    assert statuses == [200] * JOINERS
    assert still_held, "the joins waited for the teacher's Daily call"
    return answer


def _request(
    stack: Stack, person: Person, method: str, url: str, **kwargs: Any
) -> Callable[[], httpx.Response]:
    """The request, to be sent from another thread on a client of its own."""

    def send() -> httpx.Response:
        with httpx.Client(base_url=stack.api_url, timeout=15.0) as api:
            return api.request(method, url, headers=person.headers, **kwargs)

    return send


def _teacher_with_session(stack: Stack) -> tuple[Person, dict[str, str]]:
    teacher = sign_up(stack.api, "teacher", "Ada Teacher")
    created = create_session(stack.api, teacher, max_participants=JOINERS + 2)
    assert created.status_code == 201, created.text
    return teacher, created.json()


def test_joins_complete_while_a_patch_waits_on_daily(stack: Stack) -> None:
    teacher, session = _teacher_with_session(stack)
    fault = stack.add_fault(
        path=f"/v1/rooms/{session['room_name']}", method="POST", delay_ms=HELD_MS, times=1
    )

    resize = _request(
        stack,
        teacher,
        "PATCH",
        f"{V1}/sessions/{session['id']}",
        json={"max_participants": JOINERS + 5},
    )
    answer = _joins_finish_while_held(stack, fault["id"], resize, session["room_code"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["max_participants"] == JOINERS + 5


def test_joins_complete_while_a_removal_waits_on_daily(stack: Stack) -> None:
    teacher, session = _teacher_with_session(stack)
    removed = sign_up(stack.api, "student", "Removed Student")
    assert join_by_code(stack.api, removed, session["room_code"]).status_code == 200
    fault = stack.add_fault(
        path=f"/v1/rooms/{session['room_name']}/eject", method="POST", delay_ms=HELD_MS, times=1
    )

    remove = _request(
        stack, teacher, "POST", f"{V1}/sessions/{session['id']}/participants/{removed.id}/remove"
    )
    answer = _joins_finish_while_held(stack, fault["id"], remove, session["room_code"])
    assert answer.status_code == 204, answer.text
    assert join_by_code(stack.api, removed, session["room_code"]).json()["code"] == (
        "removed_from_session"
    )
