"""Attendance that survives lost webhooks: with 30 % of Daily's deliveries dropped, the backfill
from `/meetings` makes attendance equal the emulator's own record of the calls, both soon
after the teacher's end (no reconcile) and in reconcile, for a class that ran out its time."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from app.services.daily.client import DailyClient, build_http_client
from app.services.reconcile import reconcile
from tests.conftest import make_settings
from tests.e2e.stack import Stack
from tests.e2e.steps import (
    Person,
    attendance,
    create_session,
    enter_room,
    join_by_code,
    leave_room,
    session_events,
    sign_up,
    token_of,
)

HOUR = 3600
# A bound on waiting for the API's background backfill (its first try comes about 5 s after
# the end, or at once on Daily's meeting.ended); not a speed claim.
CONVERGE_S = 60.0


@dataclass
class LossyClass:
    teacher: Person
    session_id: str
    room: str
    still_inside: list[str]  # participant ids of those who never left


def _lossy_class(stack: Stack) -> LossyClass:
    """A class whose comings and goings Daily only partly reports: 30 % of webhooks dropped.
    Everyone comes and goes twice, a few minutes at a time; the teacher and half the students
    are still inside at the end."""
    api, emulator = stack.api, stack.emulator
    assert emulator.post(
        "/_emulator/behaviour", json={"webhook_drop_share": 0.3, "webhook_drop_seed": 13}
    ).is_success
    stack.set_clock(offset_s=-HOUR)
    teacher = sign_up(api, "teacher", "Ada Teacher")
    session = create_session(api, teacher).json()
    room = session["room_name"]
    students = [sign_up(api, "student", name) for name in ("Ana", "Ben", "Cleo", "Dan")]
    tokens = {s.id: join_by_code(api, s, session["room_code"]).json()["token"] for s in students}
    still_inside = [enter_room(emulator, room, token_of(session["teacher_join_url"]))]
    for round_ in range(2):
        inside = {s.id: enter_room(emulator, room, tokens[s.id]) for s in students}
        for n, student in enumerate(students):
            stack.set_clock(advance_s=60 + 30 * n)
            if round_ == 0 or n % 2:
                leave_room(emulator, room, inside[student.id]["participant_id"])
            else:
                still_inside.append(inside[student.id])
        if round_ == 0:
            stack.set_clock(advance_s=120)
    stack.set_clock(advance_s=300)
    return LossyClass(teacher, session["id"], room, [p["participant_id"] for p in still_inside])


def _daily_record(stack: Stack, room: str) -> dict[str, dict[str, Any]]:
    """What the emulator itself says each user did: Daily's `/meetings` view."""
    auth = {"Authorization": f"Bearer {stack.api_key}"}
    meetings = stack.emulator.get("/v1/meetings", params={"room": room}, headers=auth).json()
    record: dict[str, dict[str, Any]] = defaultdict(lambda: {"seconds": 0, "joins": 0})
    for meeting in meetings["data"]:
        assert meeting["ongoing"] is False
        for person in meeting["participants"]:
            record[person["user_id"]]["seconds"] += person["duration"]
            record[person["user_id"]]["joins"] += 1
    return dict(record)


def _differences(rows: dict[str, dict[str, Any]], record: dict[str, dict[str, Any]]) -> list[str]:
    """Where attendance and Daily's record disagree; Daily reports whole seconds, while
    webhook-recorded intervals keep milliseconds."""
    if set(rows) != set(record):
        return [f"people: {sorted(rows)} != {sorted(record)}"]
    return [
        f"{user_id}: {row['join_count']} joins, {row['total_seconds']} s; Daily: {expected}"
        for user_id, row in rows.items()
        if row["join_count"] != (expected := record[user_id])["joins"]
        or abs(row["total_seconds"] - expected["seconds"]) > expected["joins"]
    ]


def _backfill_events(stack: Stack, lossy: LossyClass) -> list[dict[str, Any]]:
    events = session_events(stack.api, lossy.teacher, lossy.session_id)
    return [e for e in events if e["source"] == "backfill"]


def test_attendance_equals_dailys_record_soon_after_the_end_without_reconcile(
    stack: Stack,
) -> None:
    lossy = _lossy_class(stack)
    ended = stack.api.post(
        f"/api/v1/sessions/{lossy.session_id}/end", headers=lossy.teacher.headers
    )
    assert ended.status_code == 200, ended.text
    deliveries = stack.flush_webhooks()
    assert len([d for d in deliveries if d["outcome"] == "dropped"]) >= 5  # it is about something
    record = _daily_record(stack, lossy.room)  # the end's eject closed the meeting

    deadline = time.monotonic() + CONVERGE_S
    while differences := _differences(
        attendance(stack.api, lossy.teacher, lossy.session_id), record
    ):
        assert time.monotonic() < deadline, differences
        time.sleep(0.5)
    backfilled = _backfill_events(stack, lossy)
    assert backfilled  # the API's background backfill did it, not the webhooks
    assert {e["type"] for e in backfilled} == {"participant.backfilled"}


def test_reconcile_backfills_a_class_that_ran_out_its_time(stack: Stack, engine: Engine) -> None:
    """No teacher's end, so no backfill by the API: reconcile ends the class and completes
    its attendance, and a second run changes nothing."""
    lossy = _lossy_class(stack)
    for participant_id in lossy.still_inside:  # the call is over before the class's time is
        leave_room(stack.emulator, lossy.room, participant_id)
    deliveries = stack.flush_webhooks()
    assert len([d for d in deliveries if d["outcome"] == "dropped"]) >= 5
    with engine.begin() as connection:  # the API's clock cannot be moved: its time runs out
        connection.execute(
            text("UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE id = :id"),
            {"id": lossy.session_id},
        )
    record = _daily_record(stack, lossy.room)
    assert _differences(attendance(stack.api, lossy.teacher, lossy.session_id), record)

    settings = make_settings(daily_api_url=f"{stack.emulator_url}/v1", daily_api_key=stack.api_key)
    http = build_http_client(settings)
    try:
        daily = DailyClient(http, settings)
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        first = reconcile(factory, daily, prefix="tutorium", check_rooms=True)
        again = reconcile(factory, daily, prefix="tutorium", check_rooms=True)
    finally:
        http.close()
    assert first.ok
    assert again.ok
    assert first.sessions_ended == [lossy.session_id]
    assert first.intervals_backfilled > 0
    assert again.intervals_backfilled == 0  # idempotent

    rows = attendance(stack.api, lossy.teacher, lossy.session_id)
    assert _differences(rows, record) == []
    backfilled = _backfill_events(stack, lossy)
    assert len(backfilled) == first.intervals_backfilled
    assert {e["type"] for e in backfilled} == {"participant.backfilled"}


def test_meetings_are_paged_like_daily(stack: Stack) -> None:
    auth = {"Authorization": f"Bearer {stack.api_key}"}
    bad = stack.emulator.get("/v1/meetings", params={"limit": 101}, headers=auth)
    assert bad.status_code == 400
    missing = stack.emulator.get("/v1/meetings/nope/participants", headers=auth)
    assert missing.status_code == 404
    assert stack.emulator.get("/v1/meetings", headers=auth).json() == {"total_count": 0, "data": []}
