"""Daily's REST rules for auth, domain config and rooms, as the emulator reproduces them."""

from __future__ import annotations

import time

import pytest

from .conftest import API_KEY, Emulated


def test_missing_or_malformed_authorization_is_400(emu: Emulated) -> None:
    for headers in ({}, {"Authorization": API_KEY}, {"Authorization": "Basic abc"}):
        response = emu.anon.get("/v1/rooms", headers=headers)
        assert response.status_code == 400
        assert response.json()["error"] == "authorization-header-error"


def test_wrong_key_is_401_without_info(emu: Emulated) -> None:
    response = emu.anon.get("/v1/rooms", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert response.json() == {"error": "authentication-error"}


def test_domain_config_has_a_stable_domain_id(emu: Emulated) -> None:
    with_slash = emu.api.get("/v1/").json()
    without_slash = emu.api.get("/v1").json()
    assert with_slash == without_slash
    assert set(with_slash) == {"domain_name", "domain_id", "config"}
    assert with_slash["domain_id"] == emu.domain_id


def test_create_room_returns_daily_room_object(emu: Emulated) -> None:
    exp = time.time() + 3600
    room = emu.create_room(name="algebra-1", privacy="private", properties={"exp": exp})
    assert set(room) == {"id", "name", "api_created", "privacy", "url", "created_at", "config"}
    assert room["url"] == "http://127.0.0.1:8787/algebra-1"
    assert room["api_created"] is True
    assert room["privacy"] == "private"
    assert room["created_at"].endswith("Z")
    assert room["config"] == {"exp": exp}  # a float exp is accepted, as Daily does


def test_omitted_name_gets_a_random_one(emu: Emulated) -> None:
    first, second = emu.create_room(), emu.create_room()
    assert first["name"] != second["name"]
    assert first["name"].isalnum()
    assert first["privacy"] == "public"


@pytest.mark.parametrize("name", ["bad name", "bad/name", "ünï", "x" * 129, ""])
def test_invalid_room_names_are_refused(emu: Emulated, name: str) -> None:
    response = emu.api.post("/v1/rooms", json={"name": name})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid-request-error"


def test_longest_and_uuid_names_are_fine(emu: Emulated) -> None:
    emu.create_room(name="A_z-9" * 25 + "abc")
    emu.create_room(name="0b6c4a4e-57d5-4c50-9a3c-0a5d2c1f6a11")


def test_duplicate_name_is_refused_like_daily(emu: Emulated) -> None:
    emu.create_room(name="dup")
    response = emu.api.post("/v1/rooms", json={"name": "dup"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid-request-error",
        "info": "a room named dup already exists",
    }


@pytest.mark.parametrize(
    "properties",
    [
        {"enable_screenshar": False},  # unknown property (typo)
        {"enable_chat": "true"},  # bool must be bool
        {"max_participants": 2.5},  # int must be int
        {"max_participants": True},
        {"max_participants": 0},
        {"max_participants": 201},
        {"exp": "tomorrow"},
        {"lang": "xx"},
        {"permissions": {"canSend": ["smell"]}},
    ],
)
def test_bad_properties_are_refused(emu: Emulated, properties: dict[str, object]) -> None:
    response = emu.api.post("/v1/rooms", json={"name": "r", "properties": properties})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid-request-error"


def test_past_exp_is_refused_with_dailys_message(emu: Emulated) -> None:
    response = emu.api.post("/v1/rooms", json={"properties": {"exp": 1000}})
    assert response.status_code == 400
    assert "which is in the past rather than in the future" in response.json()["info"]


def test_unknown_top_level_key_privacy_and_bad_json(emu: Emulated) -> None:
    assert emu.api.post("/v1/rooms", json={"nme": "x"}).status_code == 400
    assert emu.api.post("/v1/rooms", json={"privacy": "secret"}).status_code == 400
    response = emu.api.post("/v1/rooms", content=b"{not json")
    assert response.status_code == 400
    assert response.json()["error"] == "json-parsing-error"


def test_get_missing_room_is_daily_not_found(emu: Emulated) -> None:
    response = emu.api.get("/v1/rooms/ghost")
    assert response.status_code == 404
    assert response.json() == {"error": "not-found", "info": "room ghost not found"}


def test_list_is_newest_first_and_paginates(emu: Emulated) -> None:
    rooms = [emu.create_room(name=f"room-{i}") for i in range(5)]
    ids = [r["id"] for r in reversed(rooms)]  # newest first
    everything = emu.api.get("/v1/rooms").json()
    assert everything["total_count"] == 5
    assert [r["id"] for r in everything["data"]] == ids
    page = emu.api.get("/v1/rooms", params={"limit": 2}).json()
    assert [r["id"] for r in page["data"]] == ids[:2]
    assert page["total_count"] == 5
    after = emu.api.get("/v1/rooms", params={"limit": 2, "starting_after": ids[1]}).json()
    assert [r["id"] for r in after["data"]] == ids[2:4]
    before = emu.api.get("/v1/rooms", params={"limit": 2, "ending_before": ids[3]}).json()
    assert [r["id"] for r in before["data"]] == ids[1:3]
    oldest = emu.api.get("/v1/rooms", params={"limit": 2, "ending_before": "OLDEST"}).json()
    assert [r["id"] for r in oldest["data"]] == ids[3:]
    assert emu.api.get("/v1/rooms", params={"limit": 101}).status_code == 400


def test_update_changes_privacy_and_null_resets_a_property(emu: Emulated) -> None:
    emu.create_room(name="upd", properties={"max_participants": 4, "enable_chat": True})
    response = emu.api.post(
        "/v1/rooms/upd", json={"privacy": "private", "properties": {"max_participants": None}}
    )
    assert response.status_code == 200
    assert response.json()["privacy"] == "private"
    assert response.json()["config"] == {"enable_chat": True}
    assert emu.api.get("/v1/rooms/upd").json()["config"] == {"enable_chat": True}
    assert emu.api.post("/v1/rooms/nope", json={"privacy": "public"}).status_code == 404
    bad = emu.api.post("/v1/rooms/upd", json={"properties": {"nope": 1}})
    assert bad.status_code == 400


def test_delete_room(emu: Emulated) -> None:
    emu.create_room(name="gone")
    response = emu.api.delete("/v1/rooms/gone")
    assert response.json() == {"deleted": True, "name": "gone"}
    again = emu.api.delete("/v1/rooms/gone")
    assert again.status_code == 404
    assert again.json()["error"] == "not-found"


def test_deleting_an_expired_room_is_404_with_deleted_true(emu: Emulated) -> None:
    emu.create_room(name="old", properties={"exp": time.time() + 60})
    emu.anon.post("/_emulator/clock", json={"advance_s": 120})
    response = emu.api.delete("/v1/rooms/old")
    assert response.status_code == 404
    assert response.json()["deleted"] is True
