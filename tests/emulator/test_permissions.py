"""Permissions: room and token `permissions`, `update-permissions`, and screen share."""

from __future__ import annotations

from .conftest import Emulated

NO_SCREEN = {"permissions": {"canSend": ["video", "audio"]}}


def _share(emu: Emulated, room: str, participant_id: str) -> bool:
    """daily-js's `startScreenShare()`: without the right no share starts (and no error)."""
    response = emu.anon.post(
        f"/_emulator/rooms/{room}/screen-share",
        json={"participant_id": participant_id, "sharing": True},
    )
    assert response.status_code == 200, response.text
    sharing: bool = response.json()["sharing"]
    return sharing


def test_room_permissions_bind_students_not_the_owner(emu: Emulated) -> None:
    emu.create_room(name="r", privacy="private", properties=NO_SCREEN)
    owner = emu.join("r", emu.self_signed(r="r", o=True, ss=True))
    student = emu.join("r", emu.self_signed(r="r", ss=True))
    assert student["permissions"]["canSend"] == ["video", "audio"]
    assert owner["permissions"]["canSend"] is True
    assert _share(emu, "r", owner["participant_id"]) is True
    assert _share(emu, "r", student["participant_id"]) is False


def test_update_permissions_grants_for_this_stay_only(emu: Emulated) -> None:
    emu.create_room(name="r", privacy="private", properties=NO_SCREEN)
    token = emu.token(room_name="r", user_id="s1")
    student = emu.join("r", token)
    pid = student["participant_id"]
    grant = {"data": {pid: {"canSend": ["video", "audio", "screenVideo", "screenAudio"]}}}
    assert emu.api.post("/v1/rooms/r/update-permissions", json=grant).status_code == 200
    assert _share(emu, "r", pid) is True
    revoke = {"data": {pid: {"canSend": ["video", "audio"]}}}
    emu.api.post("/v1/rooms/r/update-permissions", json=revoke)
    assert _share(emu, "r", pid) is False
    emu.api.post("/v1/rooms/r/update-permissions", json=grant)
    emu.leave("r", pid)
    again = emu.join("r", token)
    assert _share(emu, "r", again["participant_id"]) is False


def test_token_enable_screenshare_false_wins_over_permissions(emu: Emulated) -> None:
    emu.create_room(name="r")
    person = emu.join("r", emu.self_signed(r="r", ss=False))
    assert _share(emu, "r", person["participant_id"]) is False


def test_update_permissions_refuses_what_daily_refuses(emu: Emulated) -> None:
    emu.create_room(name="r")
    bad = {"data": {"*": {"canSend": ["hologram"]}}}
    assert emu.api.post("/v1/rooms/r/update-permissions", json=bad).status_code == 400
    assert emu.api.post("/v1/rooms/r/update-permissions", json={"data": {}}).status_code == 400
    missing = emu.api.post("/v1/rooms/nope/update-permissions", json={"data": {"*": {}}})
    assert missing.status_code == 404


def test_room_page_tells_whether_the_token_may_share(emu: Emulated) -> None:
    emu.create_room(name="r", privacy="private", properties=NO_SCREEN)
    student_page = emu.anon.get(f"/r?t={emu.self_signed(r='r')}").text
    owner_page = emu.anon.get(f"/r?t={emu.self_signed(r='r', o=True)}").text
    assert "<dt>Screen share allowed</dt><dd>no</dd>" in student_page
    assert "<dt>Screen share allowed</dt><dd>yes</dd>" in owner_page
