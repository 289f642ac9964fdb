"""Attendance and the event log, read through the API after Daily's webhooks."""

import csv
import io
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account, AccountFactory
from tests.sessions_helpers import SESSIONS, create_session, seat
from tests.webhook_signing import RoomEvents, deliver

T0 = round(time.time() - 1800, 3)


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def attendance(
    client: TestClient,
    session: dict[str, Any],
    account: Account,
    *,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
):
    return client.get(
        f"{SESSIONS}/{session['id']}/attendance",
        headers={**account.headers, **(headers or {})},
        **kwargs,
    )


def rows_by_user(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["user_id"]: row for row in body["items"]}


def feed(client: TestClient, *events: dict[str, Any]) -> None:
    for event in events:
        response = deliver(client, event)
        assert response.status_code == 200, response.text


@pytest.fixture
def session(client: TestClient, teacher: Account) -> dict[str, Any]:
    return create_session(client, teacher)


def test_only_the_teacher_sees_attendance_and_events(
    client: TestClient,
    session: dict[str, Any],
    teacher: Account,
    student: Account,
    make_account: AccountFactory,
) -> None:
    seat(client, student, session)
    outsider = make_account("student")
    for path in ("attendance", "events"):
        url = f"{SESSIONS}/{session['id']}/{path}"
        assert client.get(url, headers=teacher.headers).status_code == 200
        as_student = client.get(url, headers=student.headers)
        assert as_student.status_code == 403
        assert as_student.json()["code"] == "not_session_teacher"
        assert client.get(url, headers=outsider.headers).status_code == 404
        assert client.get(url).status_code == 401


def test_a_session_that_never_started_has_rows_with_a_null_ratio(
    client: TestClient, session: dict[str, Any], teacher: Account, student: Account
) -> None:
    seat(client, student, session)
    body = attendance(client, session, teacher).json()
    assert [row["role"] for row in body["items"]] == ["teacher", "student"]
    teacher_row = body["items"][0]
    assert teacher_row == {
        "user_id": str(teacher.id),
        "full_name": "Ada Teacher",
        "role": "teacher",
        "first_joined_at": None,
        "last_left_at": None,
        "total_seconds": 0,
        "join_count": 0,
        "present_now": False,
        "attendance_ratio": None,
    }


def test_attendance_after_a_class_with_reconnects_and_a_lost_left(
    client: TestClient, session: dict[str, Any], teacher: Account, student: Account
) -> None:
    seat(client, student, session)
    room = RoomEvents(session["room_name"])
    feed(
        client,
        room.meeting_started(T0),
        room.joined(teacher.id, "p-t", T0),  # the teacher's `left` never comes
        room.joined(student.id, "p-1", T0 + 60),
        room.left(student.id, "p-1", T0 + 60, 540),  # 60…600
        room.left(student.id, "p-2", T0 + 700, 300),  # 700…1000, its `left` first
        room.joined(student.id, "p-2", T0 + 700),
        room.joined(student.id, "p-3", T0 + 1200),  # still there when the class ends
    )

    live = rows_by_user(attendance(client, session, teacher).json())
    assert live[str(student.id)]["present_now"] is True
    assert live[str(teacher.id)]["present_now"] is True

    ended = client.post(f"{SESSIONS}/{session['id']}/end", headers=teacher.headers).json()
    ended_at = datetime.fromisoformat(ended["ended_at"])
    running = (ended_at - utc(T0)).total_seconds()
    rows = rows_by_user(attendance(client, session, teacher).json())

    student_row = rows[str(student.id)]
    student_seconds = 540 + 300 + (ended_at - utc(T0 + 1200)).total_seconds()
    assert student_row["join_count"] == 3
    assert student_row["total_seconds"] == round(student_seconds)
    assert student_row["first_joined_at"] == utc(T0 + 60).isoformat().replace("+00:00", "Z")
    assert datetime.fromisoformat(student_row["last_left_at"]) == ended_at
    assert student_row["present_now"] is False
    assert student_row["attendance_ratio"] == round(student_seconds / running, 4)

    teacher_row = rows[str(teacher.id)]
    assert teacher_row["join_count"] == 1
    assert teacher_row["attendance_ratio"] == 1.0
    assert teacher_row["total_seconds"] == round(running)


def test_overlapping_connections_are_counted_once(
    client: TestClient, session: dict[str, Any], teacher: Account, student: Account
) -> None:
    seat(client, student, session)
    room = RoomEvents(session["room_name"])
    feed(
        client,
        room.meeting_started(T0),
        room.left(student.id, "tab-1", T0, 600),  # 0…600
        room.left(student.id, "tab-2", T0 + 300, 600),  # 300…900, a second tab
    )
    row = rows_by_user(attendance(client, session, teacher).json())[str(student.id)]
    assert (row["total_seconds"], row["join_count"]) == (900, 2)


def test_csv_has_the_same_rows_and_columns_as_json(
    client: TestClient,
    session: dict[str, Any],
    teacher: Account,
    student: Account,
    make_account: AccountFactory,
) -> None:
    seat(client, student, session)
    seat(client, make_account("student", full_name="Zoë, the quiet one"), session)
    room = RoomEvents(session["room_name"])
    feed(
        client,
        room.meeting_started(T0),
        room.joined(teacher.id, "p-t", T0),
        room.left(student.id, "p-1", T0 + 30, 600),
    )
    client.post(f"{SESSIONS}/{session['id']}/end", headers=teacher.headers)
    as_json = attendance(client, session, teacher).json()["items"]

    csv_url = f"{SESSIONS}/{session['id']}/attendance.csv"
    response = client.get(csv_url, headers=teacher.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    reader = csv.DictReader(io.StringIO(response.text))
    assert reader.fieldnames == list(as_json[0])
    as_csv = list(reader)
    assert len(as_csv) == len(as_json) == 3
    for csv_row, json_row in zip(as_csv, as_json, strict=True):
        expected = {
            key: (
                ""
                if value is None
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
            for key, value in json_row.items()
        }
        assert csv_row == expected

    # The JSON operation answers JSON whatever the Accept header asks for.
    asked_for_csv = attendance(client, session, teacher, headers={"Accept": "text/csv"})
    assert asked_for_csv.json()["items"] == as_json


def test_csv_is_the_teachers_only(
    client: TestClient, session: dict[str, Any], student: Account
) -> None:
    seat(client, student, session)
    response = client.get(f"{SESSIONS}/{session['id']}/attendance.csv", headers=student.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "not_session_teacher"


def test_the_event_log_is_paginated_oldest_first(
    client: TestClient, session: dict[str, Any], teacher: Account
) -> None:
    room = RoomEvents(session["room_name"])
    feed(client, room.meeting_started(T0), room.joined(teacher.id, "p-t", T0 + 1))
    url = f"{SESSIONS}/{session['id']}/events"
    everything = client.get(url, headers=teacher.headers).json()
    types = [item["type"] for item in everything["items"]]
    assert types[:2] == ["meeting.started", "participant.joined"]  # Daily's times, in the past
    assert "session.created" in types
    assert "session.started" in types
    times = [item["occurred_at"] for item in everything["items"]]
    assert times == sorted(times)
    assert everything["total"] == len(types)

    page = client.get(url, params={"limit": 1, "offset": 1}, headers=teacher.headers).json()
    assert (page["limit"], page["offset"], page["total"]) == (1, 1, everything["total"])
    assert page["items"] == everything["items"][1:2]
    assert client.get(url, params={"limit": 0}, headers=teacher.headers).status_code == 422
