"""Kicks that stick: a removed student gets no new token and loses the seat."""

import httpx
from fastapi.testclient import TestClient

from tests.conftest import Account, AccountFactory
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import SESSIONS, create_session, join_by_code, seat


def remove(client: TestClient, by: Account, session: dict, user_id: object) -> httpx.Response:
    return client.post(
        f"{SESSIONS}/{session['id']}/participants/{user_id}/remove", headers=by.headers
    )


def test_removed_student_is_ejected_banned_and_refused(
    client: TestClient, teacher: Account, student: Account, daily: FakeDaily
) -> None:
    session = create_session(client, teacher, max_participants=1)
    seat(client, student, session)
    assert remove(client, teacher, session, student.id).status_code == 204

    assert daily.bodies("POST", f"/rooms/{session['room_name']}/eject") == [
        {"user_ids": [str(student.id)], "ban": True}
    ]
    by_code = join_by_code(client, student, session["room_code"])
    assert by_code.status_code == 403
    assert by_code.json()["code"] == "removed_from_session"
    by_id = client.post(f"{SESSIONS}/{session['id']}/join", headers=student.headers)
    assert by_id.status_code == 403
    assert by_id.json()["code"] == "removed_from_session"
    roster = client.get(f"{SESSIONS}/{session['id']}/participants", headers=teacher.headers)
    (row,) = roster.json()["items"]
    assert row["removed"] is True
    assert row["status"] == "removed"


def test_removal_frees_the_seat(
    client: TestClient, teacher: Account, student: Account, make_account: AccountFactory
) -> None:
    session = create_session(client, teacher, max_participants=1)
    seat(client, student, session)
    newcomer = make_account("student")
    assert join_by_code(client, newcomer, session["room_code"]).status_code == 409
    remove(client, teacher, session, student.id)
    assert join_by_code(client, newcomer, session["room_code"]).status_code == 200
    summary = client.get(f"{SESSIONS}/{session['id']}", headers=teacher.headers).json()
    assert summary["participant_count"] == 1


def test_removal_fails_whole_when_daily_fails(
    client: TestClient, teacher: Account, student: Account, daily: FakeDaily
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    daily.router.routes["eject"].side_effect = lambda request, name: httpx.Response(
        500, json={"error": "server-error"}
    )
    assert remove(client, teacher, session, student.id).status_code == 503
    assert join_by_code(client, student, session["room_code"]).status_code == 200

    daily.router.routes["eject"].side_effect = lambda request, name: httpx.Response(
        400, json={"error": "invalid-request-error"}
    )
    assert remove(client, teacher, session, student.id).status_code == 502


def test_refusals(
    client: TestClient, teacher: Account, student: Account, make_account: AccountFactory
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    client.post(f"{SESSIONS}/{session['id']}/join", headers=teacher.headers)
    teacher_removal = remove(client, teacher, session, teacher.id)
    assert teacher_removal.status_code == 409
    assert teacher_removal.json()["code"] == "cannot_remove_teacher"
    stranger = make_account("student")
    missing = remove(client, teacher, session, stranger.id)
    assert missing.status_code == 404
    assert missing.json()["code"] == "participant_not_found"
    assert remove(client, student, session, student.id).status_code == 403
    assert remove(client, stranger, session, student.id).status_code == 404
    assert remove(client, make_account("teacher"), session, student.id).status_code == 404


def test_removing_from_an_ended_session_needs_no_room(
    client: TestClient, teacher: Account, student: Account, daily: FakeDaily
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    client.post(f"{SESSIONS}/{session['id']}/end", headers=teacher.headers)
    ejects = f"/rooms/{session['room_name']}/eject"
    assert len(daily.calls("POST", ejects)) == 1  # the end's own eject of everyone
    assert remove(client, teacher, session, student.id).status_code == 204
    assert len(daily.calls("POST", ejects)) == 1
