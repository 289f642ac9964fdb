"""A removal sticks although Daily forgets the ban once the call empties (daily-api.md §10).

The student is alone in the call when the teacher removes them: the eject empties the call, the
meeting ends, and with it Daily's ban. Their old token still admits them; the service answers
the `participant.joined` by ejecting them again.
"""

from __future__ import annotations

import time

from tests.e2e.stack import Stack
from tests.e2e.steps import (
    create_session,
    enter_room,
    join_by_code,
    session_events,
    sign_up,
)


def _in_call(stack: Stack, room: str) -> list[str]:
    people = stack.emulator.get(f"/_emulator/rooms/{room}/participants").json()["data"]
    return [person["user_id"] for person in people]


def _wait_until_out(stack: Stack, room: str, user_id: str) -> None:
    """The re-eject runs after the webhook's response: poll, do not sleep a fixed time. Then
    deliver the webhooks the eject queued, so the API's event log is settled before a test
    reads it (a page read while they land could count one more than it lists)."""
    deadline = time.monotonic() + 15
    while user_id in _in_call(stack, room):
        assert time.monotonic() < deadline, f"{user_id} was never ejected again"
        time.sleep(0.1)
    stack.flush_webhooks()


def test_a_removed_student_who_rejoins_an_emptied_call_is_ejected_again(stack: Stack) -> None:
    api, emulator = stack.api, stack.emulator
    teacher = sign_up(api, "teacher", "Ada Teacher")
    session = create_session(api, teacher).json()
    sid, room = session["id"], session["room_name"]
    student = sign_up(api, "student", "Ana")
    token = join_by_code(api, student, session["room_code"]).json()["token"]
    enter_room(emulator, room, token)  # alone in the call, before the teacher comes
    stack.flush_webhooks()

    removed = api.post(
        f"/api/v1/sessions/{sid}/participants/{student.id}/remove", headers=teacher.headers
    )
    assert removed.status_code == 204, removed.text
    assert _in_call(stack, room) == []
    types = [d["type"] for d in stack.flush_webhooks()]
    assert types[-2:] == ["participant.left", "meeting.ended"]  # the ban is gone with it

    back = enter_room(emulator, room, token)  # Daily lets the old token in again
    assert back["user_id"] == student.id
    stack.flush_webhooks()
    _wait_until_out(stack, room, student.id)

    ejects = [
        r["body"]
        for r in stack.daily_requests()
        if r["method"] == "POST" and r["path"] == f"/v1/rooms/{room}/eject"
    ]
    assert ejects == [{"user_ids": [student.id], "ban": True}] * 2
    reejected = [
        e for e in session_events(api, teacher, sid) if e["type"] == "participant.reejected"
    ]
    assert [e["payload"]["user_id"] for e in reejected] == [student.id]
    assert reejected[0]["payload"]["daily_session_id"] == back["participant_id"]
    roster = api.get(f"/api/v1/sessions/{sid}/participants", headers=teacher.headers).json()
    assert [row["status"] for row in roster["items"]] == ["removed"]
