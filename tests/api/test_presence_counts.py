"""Seated is not present: a token handed out is a seat, Daily's webhooks say who is in the call."""

import time
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account, AccountFactory
from tests.sessions_helpers import SESSIONS, create_session, seat
from tests.webhook_signing import RoomEvents, deliver

T0 = round(time.time() - 600, 3)


def summary(client: TestClient, teacher: Account, session: dict[str, Any]) -> dict[str, Any]:
    body = client.get(f"{SESSIONS}/{session['id']}", headers=teacher.headers).json()
    return {key: body[key] for key in ("seated_count", "participant_count", "present_count")}


def statuses(client: TestClient, teacher: Account, session: dict[str, Any]) -> dict[str, str]:
    url = f"{SESSIONS}/{session['id']}/participants"
    return {
        row["user_id"]: row["status"]
        for row in client.get(url, headers=teacher.headers).json()["items"]
    }


def test_tokens_handed_out_are_seats_not_presence(
    client: TestClient, teacher: Account, make_account: AccountFactory
) -> None:
    session = create_session(client, teacher)
    ana, ben = make_account("student"), make_account("student")
    seat(client, ana, session)
    seat(client, ben, session)
    client.post(f"{SESSIONS}/{session['id']}/join", headers=teacher.headers)
    assert summary(client, teacher, session) == {
        "seated_count": 2,
        "participant_count": 2,
        "present_count": 0,
    }
    assert set(statuses(client, teacher, session).values()) == {"seated"}

    room = RoomEvents(session["room_name"])
    assert deliver(client, room.joined(ana.id, "ana-1", T0)).status_code == 200
    assert deliver(client, room.joined(teacher.id, "teacher-1", T0)).status_code == 200
    assert summary(client, teacher, session)["present_count"] == 2
    assert statuses(client, teacher, session) == {
        str(teacher.id): "in_call",
        str(ana.id): "in_call",
        str(ben.id): "seated",
    }

    assert deliver(client, room.left(ana.id, "ana-1", T0, 60)).status_code == 200
    assert summary(client, teacher, session)["present_count"] == 1
    assert statuses(client, teacher, session)[str(ana.id)] == "left"
    assert client.post(f"{SESSIONS}/{session['id']}/leave", headers=ben.headers).status_code == 204
    assert statuses(client, teacher, session)[str(ben.id)] == "left"


def test_a_removed_student_is_never_present(
    client: TestClient, teacher: Account, student: Account
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    room = RoomEvents(session["room_name"])
    assert deliver(client, room.joined(student.id, "sam-1", T0)).status_code == 200
    url = f"{SESSIONS}/{session['id']}/participants/{student.id}/remove"
    assert client.post(url, headers=teacher.headers).status_code == 204
    # Daily's eject answer arrives as participant.left later; until then the interval is open.
    assert summary(client, teacher, session)["present_count"] == 0
    assert statuses(client, teacher, session) == {str(student.id): "removed"}


def test_ending_the_session_leaves_everyone_left(
    client: TestClient, teacher: Account, student: Account
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    room = RoomEvents(session["room_name"])
    assert deliver(client, room.joined(student.id, "sam-1", T0)).status_code == 200
    assert (
        client.post(f"{SESSIONS}/{session['id']}/end", headers=teacher.headers).status_code == 200
    )
    assert summary(client, teacher, session)["present_count"] == 0
    assert statuses(client, teacher, session) == {str(student.id): "left"}
