"""Ending a class ends the call: everyone is ejected by user_id before the room is deleted.

Daily does not document that deleting a room ejects the people in it (daily-api.md §10).
"""

from fastapi.testclient import TestClient

from tests.conftest import Account, AccountFactory
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import SESSIONS, create_session, seat


def requests_to(daily: FakeDaily, room: str) -> list[tuple[str, str]]:
    return [
        (call.request.method, call.request.url.path.rsplit("/", 1)[-1])
        for call in daily.router.calls
        if f"/rooms/{room}" in call.request.url.path
    ]


def test_end_ejects_the_teacher_and_every_seated_student_then_deletes(
    client: TestClient, teacher: Account, make_account: AccountFactory, daily: FakeDaily
) -> None:
    session = create_session(client, teacher)
    ana, ben, cleo = (make_account("student") for _ in range(3))
    for student in (ana, ben, cleo):
        seat(client, student, session)
    url = f"{SESSIONS}/{session['id']}"
    assert client.post(f"{url}/leave", headers=ben.headers).status_code == 204  # still seated
    assert client.post(f"{url}/participants/{cleo.id}/remove", headers=teacher.headers).is_success
    room = session["room_name"]

    assert client.post(f"{url}/end", headers=teacher.headers).status_code == 200

    ejects = daily.bodies("POST", f"/rooms/{room}/eject")
    assert ejects[0] == {"user_ids": [str(cleo.id)], "ban": True}  # the removal
    assert sorted(ejects[1]["user_ids"]) == sorted(str(u.id) for u in (teacher, ana, ben))
    assert "ban" not in ejects[1]
    assert requests_to(daily, room)[-2:] == [("POST", "eject"), ("DELETE", room)]


def test_delete_session_ejects_before_deleting_the_room(
    client: TestClient, teacher: Account, student: Account, daily: FakeDaily
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    assert client.delete(f"{SESSIONS}/{session['id']}", headers=teacher.headers).status_code == 204
    room = session["room_name"]
    (eject,) = daily.bodies("POST", f"/rooms/{room}/eject")
    assert sorted(eject["user_ids"]) == sorted([str(teacher.id), str(student.id)])
    assert requests_to(daily, room)[-2:] == [("POST", "eject"), ("DELETE", room)]
