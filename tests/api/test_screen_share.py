"""Screen share by invitation with Daily faked: what reaches `update-permissions`, the one
guest sharer, and the grant dropped when the student leaves or rejoins."""

import time
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account, AccountFactory
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import SESSIONS, create_session, seat
from tests.webhook_signing import RoomEvents, deliver

T0 = round(time.time() - 600, 3)
WITH_SCREEN = ["video", "audio", "screenVideo", "screenAudio"]
WITHOUT = ["video", "audio"]


def _put(client: TestClient, teacher: Account, sid: str, student: Account, allowed: bool) -> Any:
    return client.put(
        f"{SESSIONS}/{sid}/participants/{student.id}/screen-share",
        json={"allowed": allowed},
        headers=teacher.headers,
    )


def test_one_guest_sharer_at_a_time(
    client: TestClient, teacher: Account, make_account: AccountFactory, daily: FakeDaily
) -> None:
    session = create_session(client, teacher)
    sid, room = session["id"], RoomEvents(session["room_name"])
    first, second = make_account("student"), make_account("student")
    for n, student in enumerate((first, second)):
        seat(client, student, session)
        deliver(client, room.joined(student.id, f"p-{n}", T0))
    assert _put(client, teacher, sid, first, True).status_code == 200
    assert _put(client, teacher, sid, second, True).status_code == 200
    read = client.get(f"{SESSIONS}/{sid}", headers=first.headers).json()
    assert read["screen_sharer_id"] == str(second.id)
    assert _put(client, teacher, sid, second, False).status_code == 200
    assert daily.bodies("POST", f"/rooms/{room.room}/update-permissions") == [
        {"data": {"p-0": {"canSend": WITH_SCREEN}}},
        {"data": {"p-1": {"canSend": WITH_SCREEN}, "p-0": {"canSend": WITHOUT}}},
        {"data": {"p-1": {"canSend": WITHOUT}}},
    ]


def test_a_rejoin_drops_the_grant_and_the_latest_join_is_used(
    client: TestClient, teacher: Account, student: Account, daily: FakeDaily
) -> None:
    session = create_session(client, teacher)
    sid, room = session["id"], RoomEvents(session["room_name"])
    seat(client, student, session)
    deliver(client, room.joined(student.id, "p-old", T0))
    _put(client, teacher, sid, student, True)
    deliver(client, room.joined(student.id, "p-new", T0 + 60))  # rejoined: Daily dropped it
    deliver(client, room.left(student.id, "p-old", T0, 61))
    _put(client, teacher, sid, student, True)
    assert daily.bodies("POST", f"/rooms/{room.room}/update-permissions")[-1] == {
        "data": {"p-new": {"canSend": WITH_SCREEN}}
    }
    events = client.get(f"{SESSIONS}/{sid}/events", headers=teacher.headers).json()["items"]
    shares = [
        (e["type"], e["payload"].get("reason"))
        for e in events
        if e["type"].startswith("screen_share.")
    ]
    assert shares == [
        ("screen_share.granted", None),
        ("screen_share.revoked", "rejoined"),
        ("screen_share.granted", None),
    ]


def test_only_students_in_the_call(
    client: TestClient, teacher: Account, student: Account, daily: FakeDaily
) -> None:
    session = create_session(client, teacher)
    sid = session["id"]
    unseated = _put(client, teacher, sid, student, True)
    assert (unseated.status_code, unseated.json()["code"]) == (404, "participant_not_found")
    seat(client, student, session)
    away = _put(client, teacher, sid, student, True)
    assert (away.status_code, away.json()["code"]) == (409, "not_in_call")
    assert _put(client, teacher, sid, teacher, True).status_code == 404
    assert daily.calls("POST", f"/rooms/{session['room_name']}/update-permissions") == []
