"""A whole class over HTTP, in both token modes: a teacher and three students join, the emulated
Daily validates their tokens and reports who was in the call, the teacher reads attendance and
ends the session, and a latecomer is turned away.

The emulator's clock runs an hour behind the API's, so every presence interval lies in the
API's past: when attendance is read the intervals are complete and their lengths exact.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import pytest
from jose import jwt

from tests.e2e.stack import Stack
from tests.e2e.steps import (
    Person,
    all_accepted,
    attendance,
    create_session,
    enter_room,
    get_session,
    join_by_code,
    join_session,
    leave_room,
    room_page,
    session_events,
    sign_up,
    token_of,
    try_entering,
    unix,
)

HOUR = 3600.0


def _expected_presence(deliveries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per user, what Daily itself reported: intervals (joined, left) from `participant.left`."""
    people: dict[str, dict[str, Any]] = defaultdict(lambda: {"intervals": [], "joins": 0})
    for delivery in deliveries:
        payload = delivery["payload"]
        if delivery["type"] == "participant.joined":
            people[payload["user_id"]]["joins"] += 1
        elif delivery["type"] == "participant.left":
            joined = payload["joined_at"]
            people[payload["user_id"]]["intervals"].append((joined, joined + payload["duration"]))
    return people


def _forged(token: str) -> str:
    """The same token with its signature's last characters changed."""
    return token[:-4] + ("BBBB" if token.endswith("AAAA") else "AAAA")


def _assert_room_page(stack: Stack, join_url: str, person: Person, room: str, owner: bool) -> None:
    facts = room_page(stack.emulator, join_url)
    assert facts["Room"] == room
    assert facts["Privacy"] == "private"
    assert facts["User"] == person.full_name
    assert facts["User id"] == person.id
    assert facts["Owner"] == ("yes" if owner else "no")
    assert facts["Screen share allowed"] == ("yes" if owner else "no")


def _assert_tokens_as_minted(
    stack: Stack, room: str, issued: list[tuple[Person, str, bool]]
) -> None:
    """`api` mode: one POST /meeting-tokens per token. `self_signed`: none, and the claims are
    Daily's short names with the domain id the API looked up."""
    minted = [r for r in stack.daily_requests() if r["path"] == "/v1/meeting-tokens"]
    if stack.token_mode == "api":
        assert [r["method"] for r in minted] == ["POST"] * len(issued)
        for request, (person, _, owner) in zip(minted, issued, strict=True):
            assert request["status"] == 200
            properties = request["body"]["properties"]
            assert properties["room_name"] == room
            assert properties["user_id"] == person.id
            assert properties["user_name"] == person.full_name
            assert properties["is_owner"] is owner
            assert properties["enable_screenshare"] is True  # permissions decide (room)
            assert isinstance(properties["exp"], int)
        return
    assert minted == []
    domain_id = stack.emulator.get("/_emulator").json()["domain_id"]
    for person, token, owner in issued:
        claims = jwt.get_unverified_claims(token)
        assert claims["r"] == room
        assert claims["d"] == domain_id
        assert claims["ud"] == person.id
        assert claims["u"] == person.full_name
        assert claims["o"] is owner
        assert claims["ss"] is True  # the room's permissions decide


@pytest.mark.parametrize("stack", ["self_signed", "api"], indirect=True)
def test_a_whole_class(stack: Stack) -> None:
    began = time.monotonic()
    api, emulator = stack.api, stack.emulator
    ready = api.get("/health/ready").json()
    assert ready["daily"] == {
        "configured": True,
        "emulated": True,
        "token_mode": stack.token_mode,
        "webhook_secret_configured": True,
    }
    stack.set_clock(offset_s=-HOUR)

    # The teacher signs up and creates a session: a private Daily room.
    teacher = sign_up(api, "teacher", "Ada Teacher")
    created = create_session(api, teacher, title="Algebra II")
    assert created.status_code == 201, created.text
    session = created.json()
    sid, room, code = session["id"], session["room_name"], session["room_code"]
    assert session["status"] == "scheduled"
    assert room.startswith("tutorium-")
    assert session["room_url"] == f"{stack.emulator_url}/{room}"
    [room_create] = [
        r for r in stack.daily_requests() if (r["method"], r["path"]) == ("POST", "/v1/rooms")
    ]
    assert room_create["status"] == 200
    assert room_create["body"]["name"] == room
    assert room_create["body"]["privacy"] == "private"
    expected_properties = {
        "max_participants": 11,  # ten students and the teacher
        "exp": int(unix(session["expires_at"]) or 0),
        "eject_at_room_exp": True,
        "enable_screenshare": True,
        "enable_knocking": False,
        "enforce_unique_user_ids": True,
        "permissions": {"canSend": ["video", "audio"]},
    }
    assert expected_properties.items() <= room_create["body"]["properties"].items()
    assert stack.room_exists(room)

    # The teacher opens the link the create call gave them: the first one in starts the call.
    teacher_link_token = token_of(session["teacher_join_url"])
    teacher_in = enter_room(emulator, room, teacher_link_token)
    assert (teacher_in["user_id"], teacher_in["owner"]) == (teacher.id, True)
    assert teacher_in["enable_screenshare"] is True
    stack.flush_webhooks()
    started = get_session(api, teacher, sid)
    assert started["status"] == "active"
    assert unix(started["started_at"]) == pytest.approx(teacher_in["joined_at"], abs=0.002)

    # A fresh teacher token by id (what the teacher app does at class time).
    teacher_join = join_session(api, teacher, sid)
    assert teacher_join.status_code == 200, teacher_join.text
    assert teacher_join.json()["role"] == "teacher"
    _assert_room_page(stack, teacher_join.json()["join_url"], teacher, room, owner=True)
    issued = [(teacher, teacher_link_token, True), (teacher, teacher_join.json()["token"], True)]

    # Three students join by code and enter the room a minute later.
    stack.set_clock(advance_s=60)
    students = [sign_up(api, "student", name) for name in ("Ana", "Ben", "Cleo")]
    ana, ben, cleo = students
    joins = {}
    for student in students:
        joined = join_by_code(api, student, code.lower())  # typed any way
        assert joined.status_code == 200, joined.text
        join = joins[student.id] = joined.json()
        assert (join["session_id"], join["role"], join["room_name"]) == (sid, "student", room)
        assert join["join_url"] == f"{session['room_url']}?t={join['token']}"
        _assert_room_page(stack, join["join_url"], student, room, owner=False)
        issued.append((student, join["token"], False))
    inside = {s.id: enter_room(emulator, room, joins[s.id]["token"]) for s in students}
    for student in students:
        entered = inside[student.id]
        assert (entered["user_id"], entered["user_name"]) == (student.id, student.full_name)
        assert (entered["owner"], entered["permissions"]["canSend"]) == (False, ["video", "audio"])

    # Daily's validator refuses what it should: no token, a forged one.
    assert try_entering(emulator, room, None).json()["type"] == "not-allowed"
    refused = try_entering(emulator, room, _forged(joins[ana.id]["token"]))
    assert (refused.status_code, refused.json()["type"]) == (403, "not-allowed")

    # Ten minutes in, Ana and Ben drop out; Ben comes back two minutes later with a new token.
    stack.set_clock(advance_s=600)
    ana_left = leave_room(emulator, room, inside[ana.id]["participant_id"])
    ben_left = leave_room(emulator, room, inside[ben.id]["participant_id"])
    stack.set_clock(advance_s=120)
    ben_again = join_session(api, ben, sid)
    assert ben_again.status_code == 200, ben_again.text
    issued.append((ben, ben_again.json()["token"], False))
    ben_back = enter_room(emulator, room, ben_again.json()["token"])
    stack.set_clock(advance_s=900)
    stack.flush_webhooks()

    running = get_session(api, teacher, sid)
    assert (running["participant_count"], running["present_count"]) == (3, 3)
    rows = attendance(api, teacher, sid)
    assert list(rows) == [teacher.id, ana.id, ben.id, cleo.id]  # teacher, then by arrival
    assert [rows[p.id]["join_count"] for p in (teacher, ana, ben, cleo)] == [1, 1, 2, 1]
    assert [rows[p.id]["present_now"] for p in (teacher, ana, ben, cleo)] == [
        True,
        False,
        True,
        True,
    ]
    for person in (teacher, *students):
        entered = teacher_in if person == teacher else inside[person.id]
        assert unix(rows[person.id]["first_joined_at"]) == pytest.approx(
            entered["joined_at"], abs=0.002
        )
    assert rows[ana.id]["total_seconds"] == pytest.approx(ana_left["duration"], abs=1)
    assert ana_left["duration"] == pytest.approx(600, abs=10)
    assert unix(rows[ana.id]["last_left_at"]) == pytest.approx(
        inside[ana.id]["joined_at"] + ana_left["duration"], abs=0.002
    )
    assert unix(rows[ben.id]["last_left_at"]) == pytest.approx(
        inside[ben.id]["joined_at"] + ben_left["duration"], abs=0.002
    )
    assert rows[teacher.id]["last_left_at"] is None
    refused_to_student = api.get(f"/api/v1/sessions/{sid}/attendance", headers=cleo.headers)
    assert refused_to_student.status_code == 403
    assert refused_to_student.json()["code"] == "not_session_teacher"

    # Ten minutes later the teacher ends the session: everyone is ejected, the room deleted.
    stack.set_clock(advance_s=600)
    ended = api.post(f"/api/v1/sessions/{sid}/end", headers=teacher.headers)
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "ended"
    deliveries = stack.flush_webhooks()
    assert all_accepted(deliveries)
    # The emulator's delete ejects nobody (Daily does not promise it): the service's eject does.
    closing = [
        (r["method"], r["path"], r["status"])
        for r in stack.daily_requests()
        if r["path"].startswith(f"/v1/rooms/{room}")
    ][-2:]
    assert closing == [
        ("POST", f"/v1/rooms/{room}/eject", 200),
        ("DELETE", f"/v1/rooms/{room}", 200),
    ]
    assert not stack.room_exists(room)
    assert [d["type"] for d in deliveries][-4:] == [
        "participant.left",
        "participant.left",
        "participant.left",
        "meeting.ended",
    ]

    # Attendance is what Daily reported: every interval closed by Daily's own `left`.
    final = get_session(api, teacher, sid)
    ran_for = unix(final["ended_at"]) - unix(final["started_at"])  # type: ignore[operator]
    assert ran_for == pytest.approx(HOUR, abs=60)  # emulated start, the API's real end
    reported = _expected_presence(deliveries)
    rows = attendance(api, teacher, sid)
    assert set(rows) == {teacher.id, *(s.id for s in students)} == set(reported)
    for user_id, row in rows.items():
        intervals = reported[user_id]["intervals"]
        present = sum(left - joined for joined, left in intervals)
        assert row["join_count"] == reported[user_id]["joins"] == len(intervals)
        assert row["total_seconds"] == pytest.approx(present, abs=1)
        assert unix(row["last_left_at"]) == pytest.approx(max(i[1] for i in intervals), abs=0.002)
        assert row["present_now"] is False
        assert row["attendance_ratio"] == pytest.approx(min(1.0, present / ran_for), abs=0.001)
    # The script's timeline, give or take the real seconds the test took (the emulated clock
    # moves with real time between the steps, so a loaded machine stretches it).
    real_seconds = time.monotonic() - began + 2
    assert [rows[p.id]["total_seconds"] for p in (teacher, ana, ben, cleo)] == pytest.approx(
        [2280, 600, 600 + 1500, 2220], abs=real_seconds
    )
    assert ben_back["joined_at"] == pytest.approx(
        inside[ben.id]["joined_at"] + 720, abs=real_seconds
    )

    # The log holds each webhook once, under Daily's event id.
    events = session_events(api, teacher, sid)
    from_daily = [e["external_id"] for e in events if e["external_id"] is not None]
    assert sorted(from_daily) == sorted(d["id"] for d in deliveries)
    assert [e["type"] for e in events].count("session.ended") == 1

    # A latecomer, and a student asking for a new token, are refused; old tokens open nothing.
    late = sign_up(api, "student", "Dora Late")
    for refused_join in (join_by_code(api, late, code), join_session(api, cleo, sid)):
        assert refused_join.status_code == 409, refused_join.text
        assert refused_join.json()["code"] == "session_ended"
    gone = try_entering(emulator, room, joins[cleo.id]["token"])
    assert (gone.status_code, gone.json()["type"]) == (404, "no-room")

    # What the API sent to Daily: tokens as the mode says, and always the key (never shown).
    _assert_tokens_as_minted(stack, room, issued)
    assert {r["authorization"] for r in stack.daily_requests()} == {"Bearer [redacted]"}
    api_log = stack.api_server.log.read_text(errors="replace")
    assert stack.api_key not in api_log
    assert stack.webhook_secret not in api_log
