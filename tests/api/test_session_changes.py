"""PATCH, end and DELETE: the teacher's changes, and who may make them."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models.session import TutoringSession
from tests.conftest import Account, AccountFactory
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import SESSIONS, create_session, seat


def patch(client: TestClient, account: Account, session: dict, **fields: object) -> httpx.Response:
    return client.patch(f"{SESSIONS}/{session['id']}", json=fields, headers=account.headers)


def test_teacher_edits_title_and_description(client: TestClient, teacher: Account) -> None:
    session = create_session(client, teacher)
    response = patch(client, teacher, session, title="Geometry", description="Triangles")
    assert response.status_code == 200
    assert response.json()["title"] == "Geometry"
    assert response.json()["description"] == "Triangles"
    cleared = patch(client, teacher, session, description=None)
    assert cleared.json()["description"] is None


def test_changing_size_and_duration_updates_the_room(
    client: TestClient, teacher: Account, daily: FakeDaily
) -> None:
    session = create_session(client, teacher, duration_minutes=60)
    response = patch(client, teacher, session, max_participants=20, duration_minutes=90)
    assert response.status_code == 200, response.text
    expires = datetime.fromisoformat(response.json()["expires_at"])
    assert expires - datetime.fromisoformat(session["expires_at"]) == timedelta(minutes=30)
    update = daily.bodies("POST", f"/rooms/{session['room_name']}")
    assert update == [{"properties": {"max_participants": 21, "exp": int(expires.timestamp())}}]


def test_a_failed_room_update_leaves_the_session_unchanged(
    client: TestClient, teacher: Account, daily: FakeDaily
) -> None:
    session = create_session(client, teacher)
    daily.router.routes["update_room"].side_effect = lambda request, name: httpx.Response(
        503, json={"error": "server-error"}
    )
    response = patch(client, teacher, session, max_participants=9, title="Renamed")
    assert response.status_code == 503
    current = client.get(f"{SESSIONS}/{session['id']}", headers=teacher.headers).json()
    assert current["max_participants"] == session["max_participants"]
    assert current["title"] == session["title"]


def test_rescheduling_into_the_past_is_422(client: TestClient, teacher: Account) -> None:
    session = create_session(client, teacher)
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    response = patch(client, teacher, session, scheduled_start_at=past)
    assert response.status_code == 422
    assert response.json()["code"] == "session_in_past"


def test_max_participants_cannot_go_below_the_seated_students(
    client: TestClient, teacher: Account, make_account: AccountFactory
) -> None:
    session = create_session(client, teacher, max_participants=5)
    for _ in range(3):
        seat(client, make_account("student"), session)
    response = patch(client, teacher, session, max_participants=2)
    assert response.status_code == 409
    assert response.json()["code"] == "below_seated_count"
    assert patch(client, teacher, session, max_participants=3).status_code == 200


@pytest.mark.parametrize(
    "fields", [{"title": None}, {"max_participants": 0}, {"status": "paused"}, {"room_code": "X"}]
)
def test_patch_shape_errors_are_422(client: TestClient, teacher: Account, fields: dict) -> None:
    session = create_session(client, teacher)
    assert patch(client, teacher, session, **fields).status_code == 422


def test_status_moves_forward_only(client: TestClient, teacher: Account, daily: FakeDaily) -> None:
    session = create_session(client, teacher)
    same = patch(client, teacher, session, status="scheduled")
    assert same.status_code == 200
    assert same.json()["status"] == "scheduled"
    active = patch(client, teacher, session, status="active")
    assert active.json()["status"] == "active"
    assert active.json()["started_at"] is not None
    back = patch(client, teacher, session, status="scheduled")
    assert back.status_code == 409
    assert back.json()["code"] == "invalid_status_transition"
    ended = patch(client, teacher, session, status="ended")
    assert ended.json()["status"] == "ended"
    assert session["room_name"] not in daily.rooms
    assert patch(client, teacher, session, status="ended").status_code == 200
    edit = patch(client, teacher, session, title="Too late")
    assert edit.status_code == 409
    assert edit.json()["code"] == "session_ended"
    assert patch(client, teacher, session, status="active").status_code == 409


def test_only_the_teacher_may_change_a_session(
    client: TestClient, teacher: Account, student: Account, make_account: AccountFactory
) -> None:
    session = create_session(client, teacher)
    outsider = make_account("student")
    other_teacher = make_account("teacher")
    seat(client, student, session)
    url = f"{SESSIONS}/{session['id']}"
    assert patch(client, student, session, title="Mine").status_code == 403
    assert patch(client, outsider, session, title="Mine").status_code == 404
    assert patch(client, other_teacher, session, title="Mine").status_code == 404
    assert client.delete(url, headers=student.headers).status_code == 403
    assert client.delete(url, headers=outsider.headers).status_code == 404
    assert client.post(f"{url}/end", headers=student.headers).status_code == 403
    assert client.post(f"{url}/end", headers=outsider.headers).status_code == 404


def test_end_marks_everyone_left_deletes_the_room_and_is_idempotent(
    client: TestClient, teacher: Account, student: Account, daily: FakeDaily
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    url = f"{SESSIONS}/{session['id']}"
    ended = client.post(f"{url}/end", headers=teacher.headers)
    assert ended.status_code == 200
    assert ended.json()["status"] == "ended"
    assert ended.json()["present_count"] == 0
    assert session["room_name"] not in daily.rooms
    again = client.post(f"{url}/end", headers=teacher.headers)
    assert again.status_code == 200
    assert again.json()["ended_at"] == ended.json()["ended_at"]
    assert len(daily.calls("DELETE", "/rooms")) == 1
    late = client.post(f"{url}/join", headers=student.headers)
    assert late.status_code == 409
    assert late.json()["code"] == "session_ended"


def test_delete_removes_session_and_room(
    client: TestClient, teacher: Account, student: Account, daily: FakeDaily
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    url = f"{SESSIONS}/{session['id']}"
    assert client.delete(url, headers=teacher.headers).status_code == 204
    assert session["room_name"] not in daily.rooms
    assert client.get(url, headers=teacher.headers).status_code == 404
    assert client.get(SESSIONS, headers=student.headers).json()["total"] == 0


def test_delete_succeeds_even_when_daily_fails(
    client: TestClient, teacher: Account, daily: FakeDaily, caplog: pytest.LogCaptureFixture
) -> None:
    session = create_session(client, teacher)
    daily.router.routes["delete_room"].side_effect = lambda request, name: httpx.Response(
        500, json={"error": "server-error"}
    )
    url = f"{SESSIONS}/{session['id']}"
    assert client.delete(url, headers=teacher.headers).status_code == 204
    assert client.get(url, headers=teacher.headers).status_code == 404
    assert "reconcile" in caplog.text


def test_a_resize_that_lost_a_race_is_refused_and_the_room_put_back(
    client: TestClient, teacher: Account, daily: FakeDaily, db: Session
) -> None:
    """The room is updated before the row is locked; if another change to the size landed in
    between, the request is refused and the room set to the winner's size, not our read's."""
    session = create_session(client, teacher, max_participants=5)
    update_room = daily.router.routes["update_room"]
    answer_daily = update_room.side_effect

    def concurrent_resize(request: httpx.Request, name: str) -> httpx.Response:
        update_room.side_effect = answer_daily  # once: the compensation goes through as usual
        db.execute(
            update(TutoringSession)
            .where(TutoringSession.id == uuid.UUID(session["id"]))
            .values(max_participants=7)
        )
        return answer_daily(request, name)

    update_room.side_effect = concurrent_resize
    response = patch(client, teacher, session, max_participants=9)

    assert response.status_code == 409
    assert response.json()["code"] == "session_changed"
    sizes = [
        b["properties"]["max_participants"]
        for b in daily.bodies("POST", f"/rooms/{session['room_name']}")
    ]
    assert sizes == [10, 8]  # set, then put to what the row says now (seats plus the teacher)
