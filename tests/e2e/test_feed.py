"""The live feed over real HTTP, against real processes: the stack's API (worker A) and a
second API process on the same database (worker B, standing for another worker or machine).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.e2e.feed_client import FeedSubscriber
from tests.e2e.stack import Stack, StackPool, start_api
from tests.e2e.steps import (
    Person,
    create_session,
    enter_room,
    join_by_code,
    sign_up,
    token_of,
)

V1 = "/api/v1"
TICKET_TTL_B = 5


@pytest.fixture(scope="module")
def worker_b(stacks: StackPool, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Worker B's base URL; its tickets last 5 s, so expiry is seen without a long wait."""
    live = stacks.get("self_signed")
    log: Path = tmp_path_factory.mktemp("feed") / "api-b.log"
    server, url = start_api(live.api_env, log, FEED_TICKET_TTL_SECONDS=str(TICKET_TTL_B))
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def api_b(worker_b: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=worker_b, timeout=15.0) as client:
        yield client


@pytest.fixture
def subscribers() -> Iterator[list[FeedSubscriber]]:
    opened: list[FeedSubscriber] = []
    yield opened
    for subscriber in opened:
        subscriber.close()


def _class(stack: Stack, students: int = 0) -> tuple[Person, dict[str, str], list[Person]]:
    teacher = sign_up(stack.api, "teacher", "Ada Teacher")
    created = create_session(stack.api, teacher, max_participants=150)
    assert created.status_code == 201, created.text
    people = [sign_up(stack.api, "student", f"Student {n}") for n in range(students)]
    return teacher, created.json(), people


def _feed(
    opened: list[FeedSubscriber], base_url: str, session_id: str, **kwargs: object
) -> FeedSubscriber:
    subscriber = FeedSubscriber(base_url, f"{V1}/sessions/{session_id}/feed", **kwargs)  # type: ignore[arg-type]
    opened.append(subscriber)
    return subscriber


def _log(engine: Engine, session_id: str) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT position, type FROM session_events WHERE session_id = :s ORDER BY 1"),
            {"s": session_id},
        )
        return [(row[0], row[1]) for row in rows]


def _seat(api: httpx.Client, student: Person, room_code: str) -> None:
    response = join_by_code(api, student, room_code)
    assert response.status_code == 200, response.text


def test_a_change_through_one_worker_reaches_subscribers_on_both(
    stack: Stack, api_b: httpx.Client, engine: Engine, subscribers: list[FeedSubscriber]
) -> None:
    teacher, session, (student,) = _class(stack, 1)
    on_a = _feed(subscribers, stack.api_url, session["id"], headers=teacher.headers)
    on_b = _feed(subscribers, str(api_b.base_url), session["id"], headers=teacher.headers)
    for subscriber in (on_a, on_b):
        (snapshot,) = subscriber.wait_count("snapshot", 1)
        assert subscriber.retry_ms is not None
        assert snapshot.data["session"]["id"] == session["id"]
        assert snapshot.data["roster"] == []
        assert snapshot.id == _log(engine, session["id"])[-1][0]

    _seat(api_b, student, session["room_code"])

    seated_position = next(
        p for p, kind in _log(engine, session["id"]) if kind == "participant.seated"
    )
    for subscriber in (on_a, on_b):
        messages = subscriber.wait_count("participant.seated", 1)
        seated = messages[-1]
        assert seated.id == seated_position
        assert seated.data == {
            "user_id": student.id,
            "name": "Student 0",
            "role": "student",
            "status": "seated",
        }


def test_reconnecting_with_last_event_id_mid_storm_loses_and_repeats_nothing(
    stack: Stack, api_b: httpx.Client, engine: Engine, subscribers: list[FeedSubscriber]
) -> None:
    teacher, session, students = _class(stack, 24)
    first = _feed(subscribers, stack.api_url, session["id"], headers=teacher.headers)
    first.wait_count("snapshot", 1)
    clients = [stack.api, api_b]

    def seat_all(group: list[Person], pool: ThreadPoolExecutor) -> list[Future[None]]:
        return [
            pool.submit(_seat, clients[n % 2], student, session["room_code"])
            for n, student in enumerate(group)
        ]

    with ThreadPoolExecutor(8) as pool:
        storm = seat_all(students[:12], pool)
        first.wait_count("participant.seated", 5, timeout=30)
        first.close()
        resume_at = first.last_event_id
        assert resume_at is not None
        # The rest of the storm commits while the second connection opens: 24 joins on a
        # quiet machine can all land before the first feed hangs up, leaving the reconnect
        # nothing to resume.
        storm += seat_all(students[12:], pool)
        second = _feed(
            subscribers,
            str(api_b.base_url),
            session["id"],
            headers={**teacher.headers, "Last-Event-ID": str(resume_at)},
        )
        for joined in storm:
            joined.result()
    logged = [p for p, kind in _log(engine, session["id"]) if kind == "participant.seated"]
    second.wait_for(lambda m: bool(m) and m[-1].id == logged[-1], timeout=30)
    assert not any(m.event == "snapshot" for m in second.messages)
    received = [m.id for m in first.messages + second.messages if m.event == "participant.seated"]
    assert received == logged  # every seat once, in log order: nothing lost, nothing twice
    assert len(logged) == len(students)


def test_a_ticket_opens_the_feed_once_on_any_worker_and_expires(
    stack: Stack, api_b: httpx.Client, subscribers: list[FeedSubscriber]
) -> None:
    teacher, session, _ = _class(stack)
    ticket_path = f"{V1}/sessions/{session['id']}/feed-ticket"
    issued = stack.api.post(ticket_path, headers=teacher.headers)
    assert issued.status_code == 201, issued.text
    ticket = issued.json()["ticket"]

    opened = _feed(subscribers, str(api_b.base_url), session["id"], params={"ticket": ticket})
    opened.wait_count("snapshot", 1)
    again = _feed(subscribers, stack.api_url, session["id"], params={"ticket": ticket})
    again.ended.wait(10)
    assert again.status == 401
    assert again.error_body()["code"] == "invalid_feed_ticket"

    _, other_session, _ = _class(stack)
    elsewhere = stack.api.post(ticket_path, headers=teacher.headers).json()["ticket"]
    wrong = _feed(subscribers, stack.api_url, other_session["id"], params={"ticket": elsewhere})
    wrong.ended.wait(10)
    assert wrong.status == 401  # a ticket is bound to its session

    short = api_b.post(ticket_path, headers=teacher.headers).json()["ticket"]
    time.sleep(TICKET_TTL_B + 0.5)
    late = _feed(subscribers, stack.api_url, session["id"], params={"ticket": short})
    late.ended.wait(10)
    assert late.status == 401


def test_who_may_listen_and_what_a_student_sees(
    stack: Stack, subscribers: list[FeedSubscriber]
) -> None:
    teacher, session, (first, second) = _class(stack, 2)
    outsider = sign_up(stack.api, "student", "Olive Outsider")
    for student in (first, second):
        _seat(stack.api, student, session["room_code"])

    stranger = _feed(subscribers, stack.api_url, session["id"], headers=outsider.headers)
    stranger.ended.wait(10)
    assert stranger.status == 404
    anonymous = _feed(subscribers, stack.api_url, session["id"])
    anonymous.ended.wait(10)
    assert anonymous.status == 401

    watching = _feed(subscribers, stack.api_url, session["id"], headers=second.headers)
    (snapshot,) = watching.wait_count("snapshot", 1)
    assert snapshot.data["counts"] == {"seated": 2, "in_call": 0}
    assert "roster" not in snapshot.data
    assert first.id not in str(snapshot.data)
    assert first.full_name not in str(snapshot.data)

    teachers = _feed(subscribers, stack.api_url, session["id"], headers=teacher.headers)
    (roster,) = teachers.wait_count("snapshot", 1)
    assert {(e["user_id"], e["status"]) for e in roster.data["roster"]} == {
        (first.id, "seated"),
        (second.id, "seated"),
    }

    removed = stack.api.post(
        f"{V1}/sessions/{session['id']}/participants/{second.id}/remove", headers=teacher.headers
    )
    assert removed.status_code == 204, removed.text
    watching.ended.wait(10)
    assert watching.ended.is_set()  # the removed student's stream ends with their removal
    assert watching.messages[-1].event == "participant.removed"
    assert watching.messages[-1].data == {"user_id": second.id, "status": "removed"}
    assert teachers.wait_count("participant.removed", 1)[-1].data["name"] == "Student 1"
    again = _feed(subscribers, stack.api_url, session["id"], headers=second.headers)
    again.ended.wait(10)
    assert again.status == 404


def test_entering_the_room_shows_on_the_teachers_feed_and_ending_closes_it(
    stack: Stack, subscribers: list[FeedSubscriber]
) -> None:
    teacher, session, (student,) = _class(stack, 1)
    teachers = _feed(subscribers, stack.api_url, session["id"], headers=teacher.headers)
    teachers.wait_count("snapshot", 1)
    joined = join_by_code(stack.api, student, session["room_code"]).json()
    enter_room(stack.emulator, session["room_name"], token_of(joined["join_url"]))
    stack.flush_webhooks()
    in_call = teachers.wait_count("participant.joined", 1, timeout=5)[-1]
    assert in_call.data["user_id"] == student.id
    assert in_call.data["status"] == "in_call"

    ended = stack.api.post(f"{V1}/sessions/{session['id']}/end", headers=teacher.headers)
    assert ended.status_code == 200, ended.text
    teachers.wait_count("session.ended", 1)
    assert teachers.ended.wait(10)
    stack.flush_webhooks()  # the call's own ending reaches the log after the session's
    reconnect = _feed(
        subscribers,
        stack.api_url,
        session["id"],
        headers={**teacher.headers, "Last-Event-ID": str(teachers.last_event_id)},
    )
    assert reconnect.ended.wait(10)
    assert reconnect.status == 204  # EventSource stops reconnecting


def test_subscribers_receive_every_event_after_the_listener_is_killed(
    stack: Stack, api_b: httpx.Client, engine: Engine, subscribers: list[FeedSubscriber]
) -> None:
    teacher, session, students = _class(stack, 6)
    on_a = _feed(subscribers, stack.api_url, session["id"], headers=teacher.headers)
    on_b = _feed(subscribers, str(api_b.base_url), session["id"], headers=teacher.headers)
    for subscriber in (on_a, on_b):
        subscriber.wait_count("snapshot", 1)
    _seat(stack.api, students[0], session["room_code"])
    for subscriber in (on_a, on_b):
        subscriber.wait_count("participant.seated", 1)

    with engine.connect() as connection:
        killed = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = 'tutorium-feed-listener'"
                " AND datname = current_database()"
            )
        ).scalar_one()
    # Both workers' listeners (an in-process test app on the same database may add its own;
    # bench/feed.py counts connections per process).
    assert killed >= 2
    for student in students[1:]:  # committed while no listener is connected
        _seat(api_b, student, session["room_code"])

    logged = [p for p, kind in _log(engine, session["id"]) if kind == "participant.seated"]
    for subscriber in (on_a, on_b):
        subscriber.wait_count("participant.seated", len(students), timeout=15)
        received = [m.id for m in subscriber.messages if m.event == "participant.seated"]
        assert received == logged
    for api in (stack.api, api_b):  # each process is listening again, on one connection
        assert _gauge(api, "tutorium_feed_listener_connected") == 1


def test_the_feed_is_documented(stack: Stack) -> None:
    schema = stack.api.get("/openapi.json").json()
    feed = schema["paths"]["/api/v1/sessions/{session_id}/feed"]["get"]
    assert "text/event-stream" in feed["responses"]["200"]["content"]
    assert "Last-Event-ID" in feed["description"]
    ticket = schema["paths"]["/api/v1/sessions/{session_id}/feed-ticket"]["post"]
    assert "201" in ticket["responses"]


def _gauge(api: httpx.Client, name: str) -> float:
    for line in api.get("/metrics").text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not in /metrics")


def test_hanging_up_frees_every_subscriber_and_task(
    stack: Stack, subscribers: list[FeedSubscriber]
) -> None:
    teacher, session, _ = _class(stack)
    tasks_before = _gauge(stack.api, "tutorium_event_loop_tasks")
    opened = [
        _feed(subscribers, stack.api_url, session["id"], headers=teacher.headers) for _ in range(20)
    ]
    for subscriber in opened:
        subscriber.wait_count("snapshot", 1)
    assert _gauge(stack.api, "tutorium_feed_subscribers") == 20
    assert _gauge(stack.api, "tutorium_feed_listener_connected") == 1
    for subscriber in opened:
        subscriber.close()
    deadline = time.monotonic() + 10
    while _gauge(stack.api, "tutorium_feed_subscribers") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gauge(stack.api, "tutorium_feed_subscribers") == 0
    assert _gauge(stack.api, "tutorium_event_loop_tasks") <= tasks_before
