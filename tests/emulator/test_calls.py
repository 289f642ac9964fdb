"""Simulated calls: who may join, what leaving and ejecting do, and the webhooks that follow."""

from __future__ import annotations

import time

import pytest

from .conftest import Emulated, WebhookReceiver


def _types(deliveries: list[dict[str, object]]) -> list[object]:
    return [d["type"] for d in deliveries]


def test_join_and_leave_fire_webhooks_in_order(emu: Emulated, receiver: WebhookReceiver) -> None:
    emu.create_room(name="class", privacy="private")
    teacher = emu.join("class", emu.token(room_name="class", is_owner=True, user_id="t-1"))
    student = emu.join("class", emu.token(room_name="class", user_id="s-1", user_name="Sam"))
    assert teacher["owner"] is True
    assert teacher["permissions"]["canAdmin"] is True
    assert student["user_name"] == "Sam"
    assert student["meeting_id"] == teacher["meeting_id"]
    first_leave = emu.leave("class", teacher["participant_id"])
    assert first_leave["meeting_ended"] is False
    assert emu.leave("class", student["participant_id"])["meeting_ended"] is True
    deliveries = emu.flush()
    assert _types(deliveries) == [
        "meeting.started",
        "participant.joined",
        "participant.joined",
        "participant.left",
        "participant.left",
        "meeting.ended",
    ]
    assert all(d["outcome"] == "delivered" for d in deliveries)
    events = receiver.events()
    assert [e["id"] for e in events] == [d["id"] for d in deliveries]
    started, joined, left, ended = events[0], events[2], events[4], events[5]
    assert started["payload"]["room"] == "class"
    assert started["version"] == "1.0.0"
    assert joined["payload"]["session_id"] == student["participant_id"]
    assert joined["payload"]["user_id"] == "s-1"
    assert set(joined["payload"]["permissions"]) == {"hasPresence", "canSend", "canAdmin"}
    assert left["payload"]["duration"] >= 0
    assert ended["payload"]["meeting_id"] == teacher["meeting_id"]
    assert ended["payload"]["end_ts"] >= ended["payload"]["start_ts"]


def test_public_room_admits_without_token(emu: Emulated) -> None:
    emu.create_room(name="open")
    guest = emu.join("open", user_name="Guest", user_id="g-1")
    assert (guest["user_id"], guest["user_name"], guest["owner"]) == ("g-1", "Guest", False)
    anonymous = emu.join("open")
    assert anonymous["user_id"] == anonymous["participant_id"]  # Daily's default


def _refusal(emu: Emulated, room: str, token: str | None) -> tuple[int, str]:
    response = emu.anon.post(f"/_emulator/rooms/{room}/join", json={"token": token})
    return response.status_code, response.json()["type"]


def test_join_refusals_use_daily_js_error_types(emu: Emulated) -> None:
    now = time.time()
    emu.create_room(name="priv", privacy="private")
    emu.create_room(name="later", properties={"nbf": now + 600})
    assert _refusal(emu, "nowhere", None) == (404, "no-room")
    assert _refusal(emu, "priv", None) == (403, "not-allowed")
    assert _refusal(emu, "priv", emu.token(room_name="other")) == (403, "not-allowed")
    assert _refusal(emu, "priv", emu.self_signed(key="bad", r="priv")) == (403, "not-allowed")
    assert _refusal(emu, "priv", emu.self_signed(r="priv", exp=now - 1)) == (403, "exp-token")
    assert _refusal(emu, "priv", emu.self_signed(r="priv", nbf=now + 60)) == (403, "nbf-token")
    assert _refusal(emu, "later", None) == (403, "nbf-room")


def test_token_without_room_name_is_valid_for_every_room(emu: Emulated) -> None:
    emu.create_room(name="priv", privacy="private")
    assert emu.join("priv", emu.token(user_id="u"))["room"] == "priv"


def test_expired_room_refuses_entry(emu: Emulated) -> None:
    emu.create_room(name="short", properties={"exp": time.time() + 30})
    emu.anon.post("/_emulator/clock", json={"advance_s": 60})
    assert _refusal(emu, "short", None) == (403, "exp-room")


def test_meeting_full(emu: Emulated) -> None:
    emu.create_room(name="duo", properties={"max_participants": 2})
    emu.join("duo")
    emu.join("duo")
    assert _refusal(emu, "duo", None) == (403, "meeting-full")


def test_enforce_unique_user_ids_ejects_the_earlier_session(emu: Emulated) -> None:
    emu.create_room(name="uniq", properties={"enforce_unique_user_ids": True})
    token = emu.token(room_name="uniq", user_id="same")
    first = emu.join("uniq", token)
    second = emu.join("uniq", token)
    assert second["replaced_participant_ids"] == [first["participant_id"]]
    deliveries = emu.flush()
    assert _types(deliveries) == [
        "meeting.started",
        "participant.joined",
        "participant.joined",
        "participant.left",
    ]
    assert deliveries[3]["payload"]["session_id"] == first["participant_id"]
    ids = [
        p["participant_id"]
        for p in emu.anon.get("/_emulator/rooms/uniq/participants").json()["data"]
    ]
    assert ids == [second["participant_id"]]


def test_without_enforcement_a_shared_token_joins_twice(emu: Emulated) -> None:
    emu.create_room(name="shared")
    token = emu.token(room_name="shared", user_id="same")
    emu.join("shared", token)
    emu.join("shared", token)
    assert emu.api.get("/v1/rooms/shared/presence").json()["total_count"] == 2


def test_eject_with_ban_blocks_rejoin(emu: Emulated) -> None:
    emu.create_room(name="cls")
    troll = emu.join("cls", emu.token(room_name="cls", user_id="troll"))
    other = emu.join("cls", emu.token(room_name="cls", user_id="ok"))
    response = emu.api.post("/v1/rooms/cls/eject", json={"user_ids": ["troll"], "ban": True})
    assert response.json() == {"ejectedIds": [troll["participant_id"]]}
    assert _refusal(emu, "cls", emu.token(room_name="cls", user_id="troll")) == (403, "ejected")
    by_id = emu.api.post("/v1/rooms/cls/eject", json={"ids": [other["participant_id"]]})
    assert by_id.json() == {"ejectedIds": [other["participant_id"]]}
    assert emu.join("cls", emu.token(room_name="cls", user_id="ok"))  # not banned
    assert _types(emu.flush())[-4:] == [
        "participant.left",
        "meeting.ended",
        "meeting.started",
        "participant.joined",
    ]
    # The meeting ended in between, and Daily keeps a ban only while the meeting is active.
    assert emu.join("cls", emu.token(room_name="cls", user_id="troll"))


def test_a_ban_needs_an_active_meeting_and_user_ids(emu: Emulated) -> None:
    emu.create_room(name="cls")
    before = emu.api.post("/v1/rooms/cls/eject", json={"user_ids": ["early"], "ban": True})
    assert before.json() == {"ejectedIds": []}  # nobody there: success, and nothing remembered
    emu.join("cls", emu.token(room_name="cls", user_id="early"))
    other = emu.join("cls", emu.token(room_name="cls", user_id="by-id"))
    emu.join("cls", emu.token(room_name="cls", user_id="stays"))
    by_id = {"ids": [other["participant_id"]], "ban": True}
    assert emu.api.post("/v1/rooms/cls/eject", json=by_id).status_code == 200
    assert emu.join("cls", emu.token(room_name="cls", user_id="by-id"))  # ids are not banned
    emu.api.post("/v1/rooms/cls/eject", json={"user_ids": ["early"], "ban": True})
    assert _refusal(emu, "cls", emu.token(room_name="cls", user_id="early")) == (403, "ejected")


def test_eject_validation(emu: Emulated) -> None:
    emu.create_room(name="cls")
    too_many = {"ids": [str(i) for i in range(101)]}
    assert emu.api.post("/v1/rooms/cls/eject", json=too_many).status_code == 400
    assert emu.api.post("/v1/rooms/cls/eject", json={}).status_code == 400
    assert emu.api.post("/v1/rooms/ghost/eject", json={"ids": ["x"]}).status_code == 404


def test_ejecting_everyone_ends_the_meeting_deleting_does_not_by_default(emu: Emulated) -> None:
    """Daily does not document that deleting a room ejects anyone (daily-api.md §10)."""
    emu.create_room(name="a")
    emu.create_room(name="b")
    emu.join("a", user_id="x")
    emu.join("b", user_id="y")
    emu.api.post("/v1/rooms/a/eject", json={"user_ids": ["x"]})
    emu.api.delete("/v1/rooms/b")
    ended = [d["payload"]["room"] for d in emu.flush() if d["type"] == "meeting.ended"]
    assert ended == ["a"]
    assert list(emu.api.get("/v1/presence").json()) == ["b"]


def test_the_delete_ejects_switch(emu: Emulated) -> None:
    assert emu.anon.get("/_emulator/behaviour").json()["delete_room_ejects"] is False
    switched = emu.anon.post("/_emulator/behaviour", json={"delete_room_ejects": True})
    assert switched.json()["delete_room_ejects"] is True
    assert emu.anon.post("/_emulator/behaviour", json={"nope": True}).status_code == 400
    assert emu.anon.post("/_emulator/behaviour", json={"delete_room_ejects": 1}).status_code == 400
    emu.create_room(name="b")
    emu.join("b", user_id="y")
    emu.api.delete("/v1/rooms/b")
    assert [d["type"] for d in emu.flush()][-1] == "meeting.ended"
    assert emu.api.get("/v1/presence").json() == {}
    emu.anon.post("/_emulator/reset")
    assert emu.anon.get("/_emulator/behaviour").json()["delete_room_ejects"] is False


def test_presence_is_grouped_by_room(emu: Emulated) -> None:
    emu.create_room(name="p1")
    emu.create_room(name="p2")
    ana = emu.join("p1", user_id="ana", user_name="Ana")
    emu.join("p2", user_id="bo")
    presence = emu.api.get("/v1/presence").json()
    assert set(presence) == {"p1", "p2"}
    entry = presence["p1"][0]
    assert set(entry) == {"room", "id", "userId", "userName", "joinTime", "duration"}
    assert (entry["id"], entry["userId"], entry["userName"]) == (
        ana["participant_id"],
        "ana",
        "Ana",
    )
    filtered = emu.api.get("/v1/rooms/p1/presence", params={"userId": "nobody"}).json()
    assert filtered == {"total_count": 0, "data": []}
    assert emu.api.get("/v1/rooms/ghost/presence").status_code == 404


@pytest.mark.parametrize("advance", [50, 70])
def test_eject_at_token_exp_fires_when_the_clock_passes(emu: Emulated, advance: int) -> None:
    emu.create_room(name="timed")
    exp = int(time.time()) + 60
    joined = emu.join("timed", emu.token(room_name="timed", exp=exp, eject_at_token_exp=True))
    assert joined["will_eject_at"] == exp
    emu.anon.post("/_emulator/clock", json={"advance_s": advance})
    still_there = emu.api.get("/v1/rooms/timed/presence").json()["total_count"]
    assert still_there == (1 if advance < 60 else 0)


def test_room_eject_settings_are_fixed_at_join(emu: Emulated) -> None:
    emu.create_room(name="r", properties={"eject_after_elapsed": 300})
    joined = emu.join("r")
    assert joined["will_eject_at"] == int(joined["joined_at"] + 300)
    token_rules = emu.join("r", emu.token(room_name="r", eject_after_elapsed=10))
    assert token_rules["will_eject_at"] == int(token_rules["joined_at"] + 10)


def test_leave_unknown_participant_is_404(emu: Emulated) -> None:
    emu.create_room(name="r")
    response = emu.anon.post("/_emulator/rooms/r/leave", json={"participant_id": "nope"})
    assert response.status_code == 404
