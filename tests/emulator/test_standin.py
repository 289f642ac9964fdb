"""What the daily-js stand-in relies on: its two builds, CORS on the dev endpoints, the call
state it polls (with why someone left) and Daily's screen-share permission rule.

The stand-in's behaviour in a browser is tested by `make test-web` (web/tests)."""

from __future__ import annotations

import pytest

from .conftest import API_KEY, Emulated

PREFLIGHT = {
    "Origin": "http://127.0.0.1:5173",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


def _call(emu: Emulated, room: str, participant_id: str) -> dict[str, object]:
    response = emu.anon.get(
        f"/_emulator/rooms/{room}/call", params={"participant_id": participant_id}
    )
    assert response.status_code == 200, response.text
    return response.json()


def _share(emu: Emulated, room: str, participant_id: str, sharing: bool) -> bool:
    response = emu.anon.post(
        f"/_emulator/rooms/{room}/screen-share",
        json={"participant_id": participant_id, "sharing": sharing},
    )
    assert response.status_code == 200, response.text
    return response.json()["sharing"]


def test_both_builds_serve_the_same_source(emu: Emulated) -> None:
    module = emu.anon.get("/_emulator/daily-js.mjs")
    umd = emu.anon.get("/_emulator/daily-js.js")
    assert module.headers["content-type"].startswith("text/javascript")
    assert module.text.rstrip().endswith("export default DailyIframe;")
    source = module.text.rsplit("export default", 1)[0]
    assert source.strip() in umd.text
    assert "root.DailyIframe" in umd.text
    assert "export " not in umd.text.replace(source, "")


def test_dev_endpoints_answer_cors_and_the_rest_api_does_not(emu: Emulated) -> None:
    preflight = emu.anon.options("/_emulator/rooms/any/join", headers=PREFLIGHT)
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    module = emu.anon.get("/_emulator/daily-js.mjs", headers={"Origin": PREFLIGHT["Origin"]})
    assert module.headers["access-control-allow-origin"] == "*"
    api = emu.anon.options("/v1/rooms", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in api.headers


def test_call_state_says_who_shares_and_why_someone_left(emu: Emulated) -> None:
    emu.create_room(name="class", privacy="private")
    teacher = emu.join("class", emu.token(room_name="class", is_owner=True, user_name="Tess"))
    student = emu.join("class", emu.token(room_name="class", user_id="s-1", user_name="Sam"))
    assert _share(emu, "class", teacher["participant_id"], True) is True
    call = _call(emu, "class", student["participant_id"])
    assert call["departure"] is None
    assert call["room_exists"] is True
    assert [(p["user_name"], p["sharing_screen"]) for p in call["participants"]] == [
        ("Tess", True),
        ("Sam", False),
    ]
    emu.api.post("/v1/rooms/class/eject", json={"user_ids": ["s-1"]})
    assert _call(emu, "class", student["participant_id"])["departure"] == "ejected"
    # Daily does not promise that a delete ejects anyone; with the behaviour switched on, the
    # page learns its room was deleted.
    emu.anon.post("/_emulator/behaviour", json={"delete_room_ejects": True})
    emu.api.delete("/v1/rooms/class")
    gone = _call(emu, "class", teacher["participant_id"])
    assert (gone["departure"], gone["room_exists"], gone["participants"]) == (
        "room-deleted",
        False,
        [],
    )


def test_leaving_is_a_departure_too(emu: Emulated) -> None:
    emu.create_room(name="open")
    guest = emu.join("open", user_name="Guest")
    emu.leave("open", guest["participant_id"])
    assert _call(emu, "open", guest["participant_id"])["departure"] == "left"


@pytest.mark.parametrize(
    ("room_properties", "token_properties", "shares"),
    [
        ({}, {}, True),
        ({"enable_screenshare": False}, {"is_owner": True}, False),
        ({}, {"enable_screenshare": False}, False),
        ({}, {"permissions": {"canSend": ["video", "audio"]}}, False),
        ({}, {"permissions": {"canSend": ["screenVideo"]}}, True),
    ],
)
def test_screen_share_follows_dailys_permission_rule(
    emu: Emulated,
    room_properties: dict[str, object],
    token_properties: dict[str, object],
    shares: bool,
) -> None:
    emu.create_room(name="share", privacy="private", properties=room_properties)
    joined = emu.join("share", emu.token(room_name="share", **token_properties))
    assert _share(emu, "share", joined["participant_id"], True) is shares
    assert _share(emu, "share", joined["participant_id"], False) is False


def test_screen_share_refuses_bad_input_and_strangers(emu: Emulated) -> None:
    emu.create_room(name="open")
    path = "/_emulator/rooms/open/screen-share"
    assert emu.anon.post(path, json={"participant_id": "x"}).status_code == 400
    missing = emu.anon.post(path, json={"participant_id": "nobody", "sharing": True})
    assert missing.status_code == 404
    assert API_KEY not in missing.text
