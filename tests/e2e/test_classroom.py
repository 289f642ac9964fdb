"""Classroom controls over real HTTP against the emulator, in both token modes: an automatic
recording from the teacher's join to a working download link, manual start/stop, and screen
share by invitation (granted, moved, revoked, dropped on rejoin)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from jose import jwt

from tests.e2e.stack import Stack
from tests.e2e.steps import (
    V1,
    Person,
    create_session,
    enter_room,
    join_by_code,
    join_session,
    leave_room,
    session_events,
    sign_up,
    token_of,
)

BOTH_MODES = pytest.mark.parametrize("stack", ["self_signed", "api"], indirect=True)


def _class(stack: Stack, recording: str) -> tuple[Person, list[Person], dict[str, Any]]:
    teacher = sign_up(stack.api, "teacher", "Ada Teacher")
    students = [sign_up(stack.api, "student", f"Student {n}") for n in range(2)]
    created = create_session(stack.api, teacher, recording=recording)
    assert created.status_code == 201, created.text
    session = created.json()
    assert session["recording"] == recording
    for student in students:
        assert join_by_code(stack.api, student, session["room_code"]).status_code == 200
    return teacher, students, session


def _enter(stack: Stack, person: Person, session: dict[str, Any]) -> dict[str, Any]:
    join = join_session(stack.api, person, session["id"])
    assert join.status_code == 200, join.text
    return enter_room(stack.emulator, session["room_name"], join.json()["token"])


def _recordings(stack: Stack, person: Person, session_id: str) -> httpx.Response:
    return stack.api.get(f"{V1}/sessions/{session_id}/recordings", headers=person.headers)


def _recording_call(stack: Stack, teacher: Person, session_id: str, verb: str) -> httpx.Response:
    return stack.api.post(f"{V1}/sessions/{session_id}/recording/{verb}", headers=teacher.headers)


def _assert_teacher_token_starts_recording(stack: Stack, token: str, room: str) -> None:
    if stack.token_mode == "api":
        minted = [r for r in stack.daily_requests() if r["path"] == "/v1/meeting-tokens"]
        teacher_token, *student_tokens = (r["body"]["properties"] for r in minted)
        assert teacher_token["start_cloud_recording"] is True
        assert all("start_cloud_recording" not in t for t in student_tokens)
    else:
        assert jwt.get_unverified_claims(token)["sr"] is True
    rooms = [r for r in stack.daily_requests() if r["path"] == "/v1/rooms"]
    assert rooms[0]["body"]["properties"]["enable_recording"] == "cloud"
    assert rooms[0]["body"]["name"] == room


@BOTH_MODES
def test_automatic_recording_from_the_teachers_join_to_a_download(stack: Stack) -> None:
    teacher, (student, _), session = _class(stack, "automatic")
    sid, room = session["id"], session["room_name"]
    outsider = sign_up(stack.api, "student", "Not In Class")
    _assert_teacher_token_starts_recording(stack, token_of(session["teacher_join_url"]), room)
    _enter(stack, teacher, session)
    _enter(stack, student, session)
    stack.flush_webhooks()
    (recording,) = _recordings(stack, student, sid).json()["items"]
    assert recording["status"] == "recording"
    # recording.started names no room: the API asked Daily which recording it was.
    assert any(r["path"] == f"/v1/recordings/{recording['id']}" for r in stack.daily_requests())

    stack.set_clock(advance_s=120)
    assert _recording_call(stack, teacher, sid, "stop").status_code == 202
    stack.flush_webhooks()
    (ready,) = _recordings(stack, student, sid).json()["items"]
    assert (ready["status"], ready["duration_seconds"]) == ("ready", 120)

    link_path = f"{V1}/sessions/{sid}/recordings/{ready['id']}/link"
    link = stack.api.get(link_path, headers=student.headers)
    assert link.status_code == 200, link.text
    media = httpx.get(link.json()["download_link"], timeout=10)
    assert media.status_code == 200
    assert media.content.startswith(b"RIFF")
    second = stack.api.get(link_path, headers=teacher.headers).json()
    assert "download_link" in second  # fetched fresh from Daily for each call
    links = [r for r in stack.daily_requests() if r["path"].endswith("/access-link")]
    assert len(links) == 2

    assert stack.api.get(link_path, headers=outsider.headers).status_code == 404
    assert _recordings(stack, outsider, sid).status_code == 404
    types = [e["type"] for e in session_events(stack.api, teacher, sid)]
    assert types.count("recording.started") == 1
    assert types.count("recording.ready") == 1


@BOTH_MODES
def test_manual_start_stop_and_stop_again(stack: Stack) -> None:
    teacher, (student, _), session = _class(stack, "manual")
    sid = session["id"]
    empty = _recording_call(stack, teacher, sid, "start")  # Daily: no meeting to record
    assert (empty.status_code, empty.json()["code"]) == (409, "recording_not_started")
    _enter(stack, teacher, session)
    stack.flush_webhooks()
    assert _recordings(stack, teacher, sid).json()["items"] == []  # nothing starts by itself

    forbidden = _recording_call(stack, student, sid, "start")
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "not_session_teacher")
    started = _recording_call(stack, teacher, sid, "start")
    assert (started.status_code, started.json()) == (202, {"status": "starting"})
    stack.flush_webhooks()
    (recording,) = _recordings(stack, teacher, sid).json()["items"]
    assert recording["status"] == "recording"
    early = stack.api.get(
        f"{V1}/sessions/{sid}/recordings/{recording['id']}/link", headers=teacher.headers
    )
    assert (early.status_code, early.json()["code"]) == (409, "recording_not_ready")

    stack.set_clock(advance_s=30)
    assert _recording_call(stack, teacher, sid, "stop").status_code == 202
    again = _recording_call(stack, teacher, sid, "stop")
    assert (again.status_code, again.json()["code"]) == (409, "not_recording")
    stack.flush_webhooks()
    (done,) = _recordings(stack, teacher, sid).json()["items"]
    assert done["status"] == "ready"

    # Daily's start limit (about 1/s): a 429 that outlasts the retries is a 503 + Retry-After.
    stack.add_fault(path="/v1/rooms/*/recordings/start", status=429, times=10)
    limited = _recording_call(stack, teacher, sid, "start")
    assert limited.status_code == 503
    assert limited.json()["code"] == "video_provider_unavailable"
    assert int(limited.headers["Retry-After"]) >= 1
    stack.emulator.delete("/_emulator/faults")

    # A recording that breaks at Daily is reported by recording.error: it is marked failed.
    assert _recording_call(stack, teacher, sid, "start").status_code == 202
    stack.flush_webhooks()
    broken = next(
        r for r in _recordings(stack, teacher, sid).json()["items"] if r["id"] != done["id"]
    )
    failed = stack.emulator.post(
        f"/_emulator/recordings/{broken['id']}/fail", json={"error_msg": "disk full"}
    )
    assert failed.status_code == 200
    stack.flush_webhooks()
    statuses = {
        r["id"]: (r["status"], r["error"]) for r in _recordings(stack, student, sid).json()["items"]
    }
    assert statuses == {done["id"]: ("ready", None), broken["id"]: ("failed", "disk full")}
    types = [e["type"] for e in session_events(stack.api, teacher, sid)]
    assert types.count("recording.failed") == 1

    deleted = stack.api.delete(
        f"{V1}/sessions/{sid}/recordings/{done['id']}", headers=teacher.headers
    )
    assert deleted.status_code == 204
    assert [r["id"] for r in _recordings(stack, teacher, sid).json()["items"]] == [broken["id"]]
    deletes = [r for r in stack.daily_requests() if r["method"] == "DELETE"]
    assert deletes[-1]["path"] == f"/v1/recordings/{done['id']}"


def _share(stack: Stack, room: str, participant: dict[str, Any]) -> bool:
    """daily-js's `startScreenShare()`: without the right no share starts (and no error)."""
    response = stack.emulator.post(
        f"/_emulator/rooms/{room}/screen-share",
        json={"participant_id": participant["participant_id"], "sharing": True},
    )
    assert response.status_code == 200, response.text
    sharing: bool = response.json()["sharing"]
    return sharing


def _allow(stack: Stack, teacher: Person, sid: str, student: Person, allowed: bool) -> Any:
    return stack.api.put(
        f"{V1}/sessions/{sid}/participants/{student.id}/screen-share",
        json={"allowed": allowed},
        headers=teacher.headers,
    )


@BOTH_MODES
def test_screen_share_by_invitation(stack: Stack) -> None:
    teacher, (first, second), session = _class(stack, "off")
    sid, room = session["id"], session["room_name"]
    teacher_in = _enter(stack, teacher, session)
    first_in, second_in = _enter(stack, first, session), _enter(stack, second, session)
    stack.flush_webhooks()
    assert _share(stack, room, teacher_in) is True  # the teacher always may
    assert _share(stack, room, first_in) is False  # students may not, until invited

    assert _allow(stack, teacher, sid, first, True).json() == {"user_id": first.id, "allowed": True}
    assert _share(stack, room, first_in) is True
    assert _allow(stack, teacher, sid, second, True).status_code == 200
    assert _share(stack, room, second_in) is True
    assert _share(stack, room, first_in) is False  # one guest sharer at a time
    assert _allow(stack, teacher, sid, second, False).status_code == 200
    assert _share(stack, room, second_in) is False

    assert _allow(stack, teacher, sid, first, True).status_code == 200
    leave_room(stack.emulator, room, first_in["participant_id"])
    back = _enter(stack, first, session)
    stack.flush_webhooks()
    assert _share(stack, room, back) is False  # a rejoin does not keep the grant
    leave_room(stack.emulator, room, back["participant_id"])
    stack.flush_webhooks()
    away = _allow(stack, teacher, sid, first, True)
    assert (away.status_code, away.json()["code"]) == (409, "not_in_call")

    shares = [
        (
            e["type"],
            e["payload"]["user_id"],
            e["payload"].get("reason", e["payload"].get("taken_from")),
        )
        for e in session_events(stack.api, teacher, sid)
        if e["type"].startswith("screen_share.")
    ]
    assert shares == [
        ("screen_share.granted", first.id, None),
        ("screen_share.granted", second.id, first.id),  # taken from the first
        ("screen_share.revoked", second.id, "revoked_by_teacher"),
        ("screen_share.granted", first.id, None),
        ("screen_share.revoked", first.id, "left_call"),
    ]
