"""Reset, persistence across restarts, room pages and the command line."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from devtools.daily_emulator.__main__ import banner
from devtools.daily_emulator.config import EmulatorConfig, parse_cli

from .conftest import Emulated


def test_reset_clears_everything_but_config_and_domain(emu: Emulated) -> None:
    domain_id = emu.domain_id
    emu.create_room(name="r")
    emu.join("r")
    emu.anon.post("/_emulator/faults", json={"path": "/v1/nothing", "status": 500})
    emu.anon.post("/_emulator/clock", json={"advance_s": 30})
    emu.flush()
    response = emu.anon.post("/_emulator/reset").json()
    assert response == {"reset": True, "domain_id": domain_id}
    assert emu.anon.get("/_emulator/webhooks").json()["data"] == []
    assert emu.anon.get("/_emulator/faults").json()["data"] == []
    assert emu.anon.get("/_emulator/requests").json()["data"] == []
    assert emu.anon.get("/_emulator/clock").json()["offset_s"] == 0
    assert emu.api.get("/v1/rooms").json() == {"total_count": 0, "data": []}
    assert emu.api.get("/v1/presence").json() == {}
    assert emu.api.get("/v1/").json()["domain_id"] == domain_id


def test_state_survives_a_restart(make_emulator: Callable[..., Emulated], tmp_path: Path) -> None:
    state_file = tmp_path / "state" / "daily.json"
    first = make_emulator(state_file=state_file, domain_id="9d1c5b44-5f1f-4a43-9a8c-1f2bd7a2c001")
    first.create_room(name="kept", privacy="private", properties={"max_participants": 3})
    first.create_room(name="dropped")
    first.api.delete("/v1/rooms/dropped")
    first.api.post("/v1/rooms/kept/eject", json={"user_ids": ["banned"], "ban": True})
    token = first.self_signed(r="kept", ud="banned")
    assert sorted(p.name for p in state_file.parent.iterdir()) == ["daily.json"]  # no temp left

    second = make_emulator(state_file=state_file)  # no domain_id: it comes from the file
    assert second.domain_id == first.domain_id
    room = second.api.get("/v1/rooms/kept").json()
    assert (room["privacy"], room["config"]) == ("private", {"max_participants": 3})
    assert second.api.get("/v1/rooms/dropped").status_code == 404
    # Bans are Daily's in-memory state of an active meeting: a restart forgets them.
    rejoined = second.anon.post("/_emulator/rooms/kept/join", json={"token": token})
    assert rejoined.status_code == 200, rejoined.text


def test_domain_id_is_stable_without_a_state_file(make_emulator: Callable[..., Emulated]) -> None:
    assert make_emulator().domain_id == make_emulator().domain_id


def test_room_page_escapes_everything_from_the_token(emu: Emulated) -> None:
    emu.create_room(name="page", privacy="private", properties={"enable_screenshare": False})
    evil = "<script>alert('x')</script>"
    token = emu.token(room_name="page", user_name=evil, is_owner=True)
    page = emu.anon.get("/page", params={"t": token})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page.text
    assert "<dt>Owner</dt><dd>yes</dd>" in page.text
    assert "<dt>Screen share allowed</dt><dd>no</dd>" in page.text
    assert "No audio or video flows" in page.text


def test_room_page_refusals(emu: Emulated) -> None:
    emu.create_room(name="locked", privacy="private")
    assert emu.anon.get("/locked").status_code == 403
    assert "Not allowed" in emu.anon.get("/locked", params={"t": "garbage"}).text
    missing = emu.anon.get("/no-such-room")
    assert missing.status_code == 404
    assert "Room not found" in missing.text
    public = emu.create_room(name="lobby")
    assert emu.anon.get("/lobby").status_code == 200
    assert public["url"].endswith("/lobby")


def test_cli_reads_flags_and_env(tmp_path: Path) -> None:
    secret = base64.b64encode(b"0123456789abcdef").decode()
    env = {
        "DAILY_EMULATOR_PORT": "9000",
        "DAILY_EMULATOR_API_KEY": "from-env",
        "DAILY_EMULATOR_WEBHOOK_URL": "http://127.0.0.1:8000/webhooks/daily",
        "DAILY_EMULATOR_WEBHOOK_SECRET": secret,
        "DAILY_EMULATOR_STATE_FILE": str(tmp_path / "s.json"),
        "DAILY_EMULATOR_LATENCY_MS": "80",
    }
    config, notes = parse_cli(["--api-key", "from-flag"], env)
    assert (config.api_key, config.port, config.latency_ms) == ("from-flag", 9000, 80)
    assert config.api_url == "http://127.0.0.1:9000/v1"
    assert config.state_file == tmp_path / "s.json"
    assert notes == []
    public, _ = parse_cli(["--public-url", "https://daily.dev.example/"], env)
    assert public.base_url == "https://daily.dev.example"


def test_cli_generates_and_prints_missing_secrets() -> None:
    config, notes = parse_cli([], {})
    assert len(notes) == 2
    assert config.api_key in notes[0]
    base64.b64decode(config.webhook_secret or "", validate=True)
    text = banner(config, "some-domain-id", notes)
    assert "DEVELOPMENT TOOL" in text
    assert "No audio or video flows" in text
    assert config.api_key in text


def test_config_fails_fast_on_bad_values() -> None:
    with pytest.raises(ValueError, match="base64"):
        EmulatorConfig(api_key="k", webhook_secret="not base64!")
    with pytest.raises(ValueError, match="latency"):
        EmulatorConfig(api_key="k", latency_ms=-1)


def test_controls_info(emu: Emulated) -> None:
    info = emu.anon.get("/_emulator").json()
    assert info["api_url"] == "http://127.0.0.1:8787/v1"
    assert info["domain_id"] == emu.domain_id
    assert time.time() <= emu.anon.get("/_emulator/clock").json()["now"] + 1
