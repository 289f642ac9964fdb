"""Joining: roles, seats, tokens and the refusals around them."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from jose import jwt

from tests.conftest import Account, AccountFactory, make_settings
from tests.daily_fake import DOMAIN_ID, FakeDaily
from tests.sessions_helpers import SESSIONS, create_session, join_by_code, seat

DAILY_KEY = "test-daily-api-key"


def claims_of(token: str) -> dict:
    return jwt.decode(token, DAILY_KEY, algorithms=["HS256"])


def test_teacher_join_gives_an_owner_token_and_starts_the_session(
    client: TestClient, teacher: Account
) -> None:
    session = create_session(client, teacher)
    response = client.post(f"{SESSIONS}/{session['id']}/join", headers=teacher.headers)
    assert response.status_code == 200, response.text
    join = response.json()
    assert join["role"] == "teacher"
    assert join["room_name"] == session["room_name"]
    assert join["room_url"] == session["room_url"]
    assert join["join_url"] == f"{session['room_url']}?t={join['token']}"
    assert jwt.get_unverified_header(join["token"])["alg"] == "HS256"
    claims = claims_of(join["token"])
    assert set(claims) == {"r", "d", "iat", "exp", "o", "ss", "u", "ud"}
    assert claims["r"] == session["room_name"]
    assert claims["d"] == DOMAIN_ID
    assert claims["o"] is True
    assert claims["ss"] is True
    assert claims["ud"] == str(teacher.id)
    assert claims["u"] == "Ada Teacher"
    assert claims["exp"] == int(datetime.fromisoformat(join["expires_at"]).timestamp())
    now = client.get(f"{SESSIONS}/{session['id']}", headers=teacher.headers).json()
    assert now["status"] == "active"
    assert now["started_at"] is not None


def test_student_joins_by_code_with_a_non_owner_token(
    client: TestClient, teacher: Account, student: Account
) -> None:
    session = create_session(client, teacher)
    join = seat(client, student, session)
    assert join["role"] == "student"
    claims = claims_of(join["token"])
    assert claims["o"] is False
    assert claims["ss"] is True  # the room's permissions keep the screen from students
    assert "sr" not in claims
    assert claims["ud"] == str(student.id)
    assert claims["r"] == session["room_name"]
    issued = datetime.fromtimestamp(claims["iat"], UTC)
    expires = datetime.fromtimestamp(claims["exp"], UTC)
    assert expires - issued == timedelta(minutes=15)  # STUDENT_TOKEN_TTL_MINUTES' default
    by_id = client.post(f"{SESSIONS}/{session['id']}/join", headers=student.headers)
    assert by_id.status_code == 200
    assert by_id.json()["role"] == "student"


def test_token_never_outlives_the_room(client: TestClient, teacher: Account) -> None:
    session = create_session(client, teacher, duration_minutes=30)
    join = client.post(f"{SESSIONS}/{session['id']}/join", headers=teacher.headers).json()
    assert join["expires_at"] == session["expires_at"]


@pytest.mark.parametrize("typed", ["{code}", "{lower}", "{spaced}", " {code} "])
def test_room_codes_are_normalised(
    client: TestClient, teacher: Account, student: Account, typed: str
) -> None:
    session = create_session(client, teacher)
    code = session["room_code"]
    raw = code.replace("-", "")
    text = typed.format(code=code, lower=code.lower(), spaced=f"{raw[:4].lower()} {raw[4:]}")
    assert join_by_code(client, student, text).status_code == 200


@pytest.mark.parametrize("code", ["ZZZZ-ZZZZ", "short", "IIII-OOOO", "ABCD-EFGH-JKMN"])
def test_unknown_code_is_404(client: TestClient, student: Account, code: str) -> None:
    response = join_by_code(client, student, code)
    assert response.status_code == 404
    assert response.json()["code"] == "room_code_not_found"


def test_code_join_by_the_own_teacher_gives_the_owner_token(
    client: TestClient, teacher: Account
) -> None:
    session = create_session(client, teacher)
    join = join_by_code(client, teacher, session["room_code"]).json()
    assert join["role"] == "teacher"
    assert claims_of(join["token"])["o"] is True


def test_another_teacher_joining_by_code_sits_as_a_student(
    client: TestClient, teacher: Account, make_account: AccountFactory
) -> None:
    session = create_session(client, teacher)
    guest = make_account("teacher")
    join = seat(client, guest, session)
    assert join["role"] == "student"
    assert claims_of(join["token"])["o"] is False


def test_join_by_id_needs_a_seat(client: TestClient, teacher: Account, student: Account) -> None:
    session = create_session(client, teacher)
    response = client.post(f"{SESSIONS}/{session['id']}/join", headers=student.headers)
    assert response.status_code == 404


def test_a_full_session_refuses_new_students_but_keeps_rejoins(
    client: TestClient, teacher: Account, make_account: AccountFactory
) -> None:
    session = create_session(client, teacher, max_participants=2)
    first, second, third = (make_account("student") for _ in range(3))
    seat(client, first, session)
    seat(client, second, session)
    refused = join_by_code(client, third, session["room_code"])
    assert refused.status_code == 409
    assert refused.json() == {"detail": "This session is full.", "code": "session_full"}
    left = client.post(f"{SESSIONS}/{session['id']}/leave", headers=first.headers)
    assert left.status_code == 204
    assert join_by_code(client, third, session["room_code"]).status_code == 409
    assert join_by_code(client, first, session["room_code"]).status_code == 200
    teacher_join = client.post(f"{SESSIONS}/{session['id']}/join", headers=teacher.headers)
    assert teacher_join.status_code == 200


def test_leave_and_participants(
    client: TestClient, teacher: Account, student: Account, make_account: AccountFactory
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    client.post(f"{SESSIONS}/{session['id']}/join", headers=teacher.headers)
    assert client.post(
        f"{SESSIONS}/{session['id']}/leave", headers=student.headers
    ).status_code == (204)
    listing = client.get(f"{SESSIONS}/{session['id']}/participants", headers=student.headers)
    assert listing.status_code == 200
    rows = {row["role"]: row for row in listing.json()["items"]}
    assert rows["teacher"]["status"] == "seated"  # a token, but no webhook says they came in
    assert rows["student"]["status"] == "left"
    assert rows["student"]["left_at"] is not None
    assert rows["student"]["full_name"] == "Sam Student"
    summary = client.get(f"{SESSIONS}/{session['id']}", headers=teacher.headers).json()
    assert summary["participant_count"] == summary["seated_count"] == 1
    assert summary["present_count"] == 0
    outsider = make_account("student")
    url = f"{SESSIONS}/{session['id']}"
    assert client.get(f"{url}/participants", headers=outsider.headers).status_code == 404
    assert client.post(f"{url}/leave", headers=outsider.headers).status_code == 404


def test_a_closed_account_cannot_join_by_code_or_by_id(
    client: TestClient, teacher: Account, student: Account
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    assert client.delete("/api/v1/users/me", headers=student.headers).status_code == 204
    known = join_by_code(client, student, session["room_code"])
    unknown = join_by_code(client, student, "ZZZZ-ZZZZ")
    by_id = client.post(f"{SESSIONS}/{session['id']}/join", headers=student.headers)
    assert [known.status_code, unknown.status_code, by_id.status_code] == [401, 401, 401]


def test_a_token_older_than_the_password_cannot_join(
    client: TestClient, teacher: Account, make_account: AccountFactory
) -> None:
    session = create_session(client, teacher)
    changed_later = make_account(
        "student", password_changed_at=datetime.now(UTC) + timedelta(minutes=1)
    )
    refused = join_by_code(client, changed_later, session["room_code"])
    assert refused.status_code == 401
    assert refused.json()["detail"] == "This token was issued before the password changed."


def test_a_seat_is_logged_once_and_a_rejoin_keeps_it(
    client: TestClient, teacher: Account, student: Account
) -> None:
    session = create_session(client, teacher, max_participants=1)
    url = f"{SESSIONS}/{session['id']}"
    seat(client, student, session)
    assert client.post(f"{url}/leave", headers=student.headers).status_code == 204
    seat(client, student, session)
    again = client.post(f"{url}/join", headers=student.headers)
    assert again.status_code == 200
    events = client.get(f"{url}/events", headers=teacher.headers).json()["items"]
    seated = [event for event in events if event["type"] == "participant.seated"]
    assert [event["payload"] for event in seated] == [
        {"user_id": str(student.id), "role": "student"}
    ]
    assert seated[0]["actor_id"] == str(student.id)
    assert seated[0]["source"] == "api"
    (row,) = client.get(f"{url}/participants", headers=teacher.headers).json()["items"]
    assert row["status"] == "seated"
    assert row["left_at"] is None


def test_ended_session_refuses_joins_by_code(
    client: TestClient, teacher: Account, student: Account
) -> None:
    session = create_session(client, teacher)
    client.post(f"{SESSIONS}/{session['id']}/end", headers=teacher.headers)
    response = join_by_code(client, student, session["room_code"])
    assert response.status_code == 409
    assert response.json()["code"] == "session_ended"


def test_api_token_mode_asks_daily_for_each_token(
    settings, session_factory, teacher: Account, student: Account, daily: FakeDaily
) -> None:
    from app.main import create_app

    app = create_app(make_settings(daily_token_mode="api"))
    app.state.session_factory = session_factory
    with TestClient(app) as client:
        session = create_session(client, teacher)
        seat(client, student, session)
    bodies = [json.loads(r.content) for r in daily.calls("POST", "/meeting-tokens")]
    expires = datetime.fromisoformat(session["expires_at"])
    owner, watcher = (body["properties"] for body in bodies)
    assert owner == {
        "room_name": session["room_name"],
        "exp": int(expires.timestamp()),
        "user_id": str(teacher.id),
        "user_name": "Ada Teacher",
        "is_owner": True,
        "enable_screenshare": True,
    }
    assert watcher["is_owner"] is False
    # Screen share is governed by the room's permissions, so a student can be invited to it.
    assert watcher["enable_screenshare"] is True
    assert watcher["user_id"] == str(student.id)


def test_student_token_lifetime_is_configurable_the_teachers_is_not(
    session_factory, teacher: Account, student: Account, daily: FakeDaily
) -> None:
    from app.main import create_app

    app = create_app(make_settings(student_token_ttl_minutes=5))
    app.state.session_factory = session_factory
    with TestClient(app) as client:
        session = create_session(client, teacher)
        url = f"{SESSIONS}/{session['id']}/join"
        teacher_claims = claims_of(client.post(url, headers=teacher.headers).json()["token"])
        student_claims = claims_of(seat(client, student, session)["token"])
    assert student_claims["exp"] - student_claims["iat"] == 5 * 60
    assert teacher_claims["exp"] == int(datetime.fromisoformat(session["expires_at"]).timestamp())
