import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.session import TutoringSession
from app.services.sessions import management as sessions_service
from tests.conftest import Account, AccountFactory
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import SESSIONS, create_session, seat


def _count_sessions(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(TutoringSession)) or 0


def test_create_makes_a_private_room_and_returns_the_session(
    client: TestClient, teacher: Account, daily: FakeDaily
) -> None:
    before = datetime.now(UTC)
    session = create_session(client, teacher, title="Algebra II", max_participants=12)

    assert session["status"] == "scheduled"
    assert session["teacher_id"] == str(teacher.id)
    assert session["max_participants"] == 12
    assert session["participant_count"] == 0
    assert session["present_count"] == 0
    assert session["room_name"].startswith("tutorium-")
    assert len(session["room_name"]) == len("tutorium-") + 32
    assert session["room_url"] == f"https://tutorium.daily.co/{session['room_name']}"
    assert session["teacher_join_url"].startswith(session["room_url"] + "?t=")
    code = session["room_code"]
    assert len(code) == 9
    assert code[4] == "-"
    expires = datetime.fromisoformat(session["expires_at"])
    assert timedelta(minutes=119) < expires - before <= timedelta(minutes=121)

    (body,) = daily.bodies("POST", "/rooms")
    assert body == {
        "name": session["room_name"],
        "privacy": "private",
        "properties": {
            "enable_screenshare": True,
            "max_participants": 13,
            "exp": int(expires.timestamp()),
            "eject_at_room_exp": True,
            "enable_knocking": False,
            "enforce_unique_user_ids": True,
            "permissions": {"canSend": ["video", "audio"]},
        },
    }
    assert daily.calls("POST", "/rooms")[0].headers["Authorization"] == "Bearer test-daily-api-key"


def test_scheduled_start_sets_the_expiry(client: TestClient, teacher: Account) -> None:
    start = datetime.now(UTC) + timedelta(days=2)
    session = create_session(
        client, teacher, scheduled_start_at=start.isoformat(), duration_minutes=90
    )
    expires = datetime.fromisoformat(session["expires_at"])
    assert abs(expires - (start + timedelta(minutes=90))) < timedelta(seconds=1)


def test_students_cannot_create_sessions(client: TestClient, student: Account) -> None:
    response = client.post(SESSIONS, json={"title": "Mine"}, headers=student.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "teacher_only"


def test_anonymous_callers_are_refused(client: TestClient) -> None:
    assert client.post(SESSIONS, json={"title": "x"}).status_code == 401
    assert client.get(SESSIONS).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"title": "x" * 201},
        {"title": "\f \u3000"},
        {"title": " " + "x" * 200},
        {"title": "ok", "description": "d" * 5001},
        {"title": "ok", "max_participants": 0},
        {"title": "ok", "max_participants": 200},
        {"title": "ok", "duration_minutes": 4},
        {"title": "ok", "duration_minutes": 721},
        {"title": "ok", "scheduled_start_at": "2030-01-01T10:00:00"},
        {"title": "ok", "scheduled_start_at": "not a date"},
        {"title": "ok", "surprise": True},
        {"title": "nul\x00"},
    ],
)
def test_create_rejects_bad_input(
    client: TestClient, teacher: Account, daily: FakeDaily, body: dict
) -> None:
    response = client.post(SESSIONS, json=body, headers=teacher.headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert daily.calls("POST", "/rooms") == []


def test_titles_are_stored_without_surrounding_whitespace(
    client: TestClient, teacher: Account
) -> None:
    session = create_session(client, teacher, title="\t Algebra II \u2003", description="  ")
    assert (session["title"], session["description"]) == ("Algebra II", "")


def test_a_session_already_over_is_422(
    client: TestClient, teacher: Account, daily: FakeDaily
) -> None:
    start = datetime.now(UTC) - timedelta(hours=3)
    response = client.post(
        SESSIONS,
        json={
            "title": "Yesterday",
            "scheduled_start_at": start.isoformat(),
            "duration_minutes": 60,
        },
        headers=teacher.headers,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "session_in_past"
    assert daily.calls("POST", "/rooms") == []


def test_daily_outage_gives_503_and_no_row(
    client: TestClient, teacher: Account, daily: FakeDaily, db: Session
) -> None:
    daily.router.routes["create_room"].side_effect = None
    daily.router.routes["create_room"].return_value = httpx.Response(
        500, json={"error": "server-error"}
    )
    response = client.post(SESSIONS, json={"title": "Down"}, headers=teacher.headers)
    assert response.status_code == 503
    assert response.json()["code"] == "video_provider_unavailable"
    assert "Retry-After" in response.headers
    assert len(daily.calls("POST", "/rooms")) == 3
    assert _count_sessions(db) == 0


def test_daily_timeout_gives_503(
    client: TestClient, teacher: Account, daily: FakeDaily, db: Session
) -> None:
    daily.router.routes["create_room"].side_effect = httpx.ConnectTimeout("slow")
    response = client.post(SESSIONS, json={"title": "Slow"}, headers=teacher.headers)
    assert response.status_code == 503
    assert _count_sessions(db) == 0


def test_daily_rate_limit_then_success_creates_the_session(
    client: TestClient, teacher: Account, daily: FakeDaily
) -> None:
    route = daily.router.routes["create_room"]
    succeed = route.side_effect
    responses = iter([httpx.Response(429, json={"error": "rate-limit-error"})])
    route.side_effect = lambda request: next(responses, None) or succeed(request)
    response = client.post(SESSIONS, json={"title": "Busy"}, headers=teacher.headers)
    assert response.status_code == 201, response.text
    assert len(daily.calls("POST", "/rooms")) == 2


def test_daily_rejection_gives_502_and_no_row(
    client: TestClient, teacher: Account, daily: FakeDaily, db: Session
) -> None:
    daily.router.routes["create_room"].side_effect = lambda request: httpx.Response(
        400, json={"error": "invalid-request-error", "info": "max_participants too large"}
    )
    response = client.post(SESSIONS, json={"title": "Refused"}, headers=teacher.headers)
    assert response.status_code == 502
    assert response.json()["code"] == "video_provider_rejected"
    assert "test-daily-api-key" not in response.text
    assert len(daily.calls("POST", "/rooms")) == 1
    assert _count_sessions(db) == 0


def test_database_failure_after_room_create_deletes_the_room(
    app, teacher: Account, daily: FakeDaily, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        first = create_session(client, teacher)
        taken = first["room_code"].replace("-", "")
        monkeypatch.setattr(sessions_service, "_unique_room_code", lambda db: taken)
        response = client.post(SESSIONS, json={"title": "Twin"}, headers=teacher.headers)

    assert response.status_code == 500
    created = [body["name"] for body in daily.bodies("POST", "/rooms")]
    assert len(created) == 2
    deleted = [request.url.path.rsplit("/", 1)[1] for request in daily.calls("DELETE", "/rooms")]
    assert deleted == [created[1]]
    assert set(daily.rooms) == {first["room_name"]}


def test_list_shows_only_my_sessions_newest_first_with_pagination(
    client: TestClient, teacher: Account, make_account: AccountFactory
) -> None:
    other_teacher = make_account("teacher")
    titles = [create_session(client, teacher, title=f"S{i}")["title"] for i in range(3)]
    create_session(client, other_teacher, title="Not mine")

    page = client.get(f"{SESSIONS}?limit=2", headers=teacher.headers).json()
    assert page["total"] == 3
    assert page["limit"] == 2
    assert page["offset"] == 0
    assert [item["title"] for item in page["items"]] == titles[::-1][:2]
    rest = client.get(f"{SESSIONS}?limit=2&offset=2", headers=teacher.headers).json()
    assert [item["title"] for item in rest["items"]] == [titles[0]]


def test_list_includes_sessions_joined_as_a_student(
    client: TestClient, teacher: Account, student: Account
) -> None:
    session = create_session(client, teacher)
    create_session(client, teacher, title="Not joined")
    seat(client, student, session)
    page = client.get(SESSIONS, headers=student.headers).json()
    assert [item["id"] for item in page["items"]] == [session["id"]]
    assert page["items"][0]["seated_count"] == 1
    assert page["items"][0]["present_count"] == 0  # seated, not (yet) in the call


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "status=paused"])
def test_list_rejects_bad_query(client: TestClient, teacher: Account, query: str) -> None:
    assert client.get(f"{SESSIONS}?{query}", headers=teacher.headers).status_code == 422


def test_expired_sessions_read_as_ended_everywhere(
    client: TestClient, teacher: Account, db: Session
) -> None:
    session = create_session(client, teacher)
    row = db.get(TutoringSession, uuid.UUID(session["id"]))
    assert row is not None
    row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.flush()

    assert client.get(f"{SESSIONS}/{session['id']}", headers=teacher.headers).json()["status"] == (
        "ended"
    )
    ended = client.get(f"{SESSIONS}?status=ended", headers=teacher.headers).json()
    assert [item["id"] for item in ended["items"]] == [session["id"]]
    scheduled = client.get(f"{SESSIONS}?status=scheduled", headers=teacher.headers).json()
    assert scheduled["total"] == 0
    assert row.status.value == "scheduled"  # reads never write
    join = client.post(f"{SESSIONS}/{session['id']}/join", headers=teacher.headers)
    assert join.status_code == 409
    assert join.json()["code"] == "session_ended"


def test_get_is_for_the_teacher_and_participants_only(
    client: TestClient, teacher: Account, student: Account, make_account: AccountFactory
) -> None:
    session = create_session(client, teacher)
    url = f"{SESSIONS}/{session['id']}"
    assert client.get(url, headers=teacher.headers).status_code == 200
    outsider = client.get(url, headers=student.headers)
    assert outsider.status_code == 404
    assert outsider.json()["code"] == "session_not_found"
    seat(client, student, session)
    assert client.get(url, headers=student.headers).json()["participant_count"] == 1
    assert client.get(f"{SESSIONS}/{uuid.uuid4()}", headers=teacher.headers).status_code == 404
    assert client.get(f"{SESSIONS}/not-a-uuid", headers=teacher.headers).status_code == 422
    other_teacher = make_account("teacher")
    assert client.get(url, headers=other_teacher.headers).status_code == 404
