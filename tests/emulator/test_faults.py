"""Fault injection, latency and the request log on the `/v1` surface."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from devtools.daily_emulator.faults import DroppedConnection

from .conftest import API_KEY, AUTH, Emulated, live_server


def _arm(emu: Emulated, **fault: object) -> dict[str, object]:
    response = emu.anon.post("/_emulator/faults", json=fault)
    assert response.status_code == 200, response.text
    return response.json()


def test_status_fault_replaces_the_next_n_matching_responses(emu: Emulated) -> None:
    fault = _arm(emu, path="/v1/rooms*", method="post", status=503, times=2)
    assert emu.api.get("/v1/rooms").status_code == 200  # other method: untouched
    first = emu.api.post("/v1/rooms", json={"name": "x"})
    assert first.status_code == 503
    assert first.json()["error"] == "server-error"
    assert emu.api.post("/v1/rooms", json={"name": "x"}).status_code == 503
    assert emu.api.post("/v1/rooms", json={"name": "x"}).status_code == 200
    listed = emu.anon.get("/_emulator/faults").json()["data"]
    assert listed == [{**fault, "remaining": 0}]


def test_status_fault_with_custom_body(emu: Emulated) -> None:
    body = {"error": "rate-limit-error", "info": "slow down"}
    _arm(emu, path="/v1/meeting-tokens", status=429, body=body)
    response = emu.api.post("/v1/meeting-tokens", json={"properties": {}})
    assert (response.status_code, response.json()) == (429, body)


def test_delay_fault_then_normal_answer(emu: Emulated) -> None:
    _arm(emu, path="/v1/rooms/*", delay_ms=200)
    emu.create_room(name="slow")
    started = time.monotonic()
    assert emu.api.get("/v1/rooms/slow").status_code == 200
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    emu.api.get("/v1/rooms/slow")
    assert time.monotonic() - started < 0.2


def test_drop_fault_in_process_raises(emu: Emulated) -> None:
    _arm(emu, path="/v1/rooms", drop=True)
    with pytest.raises(DroppedConnection):
        emu.api.post("/v1/rooms", json={"name": "lost"})
    assert emu.api.post("/v1/rooms", json={"name": "kept"}).status_code == 200
    dropped = emu.anon.get("/_emulator/requests").json()["data"][0]
    assert dropped["dropped"] is True


def test_invalid_faults_are_refused_and_delete_clears(emu: Emulated) -> None:
    for fault in (
        {"path": "/v1/*"},
        {"status": 500},
        {"path": "/v1/*", "status": 500, "drop": True},
    ):
        assert emu.anon.post("/_emulator/faults", json=fault).status_code == 400
    _arm(emu, path="/v1/*", status=500, times=5)
    assert emu.anon.delete("/_emulator/faults").status_code == 200
    assert emu.anon.get("/_emulator/faults").json() == {"data": []}
    assert emu.api.get("/v1/rooms").status_code == 200


def test_request_log_records_calls_and_redacts_the_key(emu: Emulated) -> None:
    emu.create_room(name="logged", properties={"enable_chat": True})
    emu.api.get("/v1/rooms/missing", params={"x": "1"})
    emu.anon.get("/v1/rooms", headers={"Authorization": f"Bearer {API_KEY}-wrong"})
    entries = emu.anon.get("/_emulator/requests").json()["data"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/v1/rooms", 200),
        ("GET", "/v1/rooms/missing", 404),
        ("GET", "/v1/rooms", 401),
    ]
    assert entries[0]["body"] == {"name": "logged", "properties": {"enable_chat": True}}
    assert entries[1]["query"] == {"x": "1"}
    assert entries[0]["authorization"] == "Bearer [redacted]"
    assert API_KEY not in json.dumps(entries)


def test_drop_closes_the_socket_on_a_real_server(make_emulator: Callable[..., Emulated]) -> None:
    emu = make_emulator()
    with live_server(emu.app) as base_url, httpx.Client(base_url=base_url, headers=AUTH) as http:
        _arm(emu, path="/v1/rooms", method="GET", drop=True)
        with pytest.raises(httpx.TransportError):
            http.get("/v1/rooms")
        assert http.get("/v1/rooms").status_code == 200


def test_latency_is_added_without_blocking_other_requests(
    make_emulator: Callable[..., Emulated],
) -> None:
    emu = make_emulator(latency_ms=300)
    with live_server(emu.app) as base_url, httpx.Client(base_url=base_url, headers=AUTH) as http:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(lambda _: http.get("/v1/").status_code, range(6)))
        elapsed = time.monotonic() - started
    assert statuses == [200] * 6
    assert 0.3 <= elapsed < 1.2  # serial would take 1.8 s
