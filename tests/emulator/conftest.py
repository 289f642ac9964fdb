"""Fixtures for the Daily emulator tests: an in-process emulator and a real webhook receiver.

The receiver is a real HTTP server on a free port (not a mock), so signing, the raw body bytes
and retry behaviour are tested exactly as Tutorium's API would experience them.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jose import jwt

from devtools.daily_emulator import EmulatorConfig, create_app

API_KEY = "emulator-test-key"
WEBHOOK_SECRET = base64.b64encode(b"emulator-test-webhook-secret-012").decode()
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@dataclass
class ReceivedWebhook:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


class WebhookReceiver:
    """Records POSTs; answers with queued statuses (`respond_with`), then 200."""

    def __init__(self) -> None:
        self.received: list[ReceivedWebhook] = []
        self.respond_with: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.received.append(ReceivedWebhook(dict(self.headers.items()), body))
                    status = receiver.respond_with.pop(0) if receiver.respond_with else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/daily"

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.event for r in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Emulated:
    """An in-process emulator with an authenticated and an anonymous client."""

    app: FastAPI
    api: TestClient
    anon: TestClient

    @property
    def domain_id(self) -> str:
        return self.app.state.emulator.store.domain_id

    def create_room(self, **body: Any) -> dict[str, Any]:
        response = self.api.post("/v1/rooms", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def token(self, **properties: Any) -> str:
        response = self.api.post("/v1/meeting-tokens", json={"properties": properties})
        assert response.status_code == 200, response.text
        return response.json()["token"]

    def self_signed(self, key: str = API_KEY, **claims: Any) -> str:
        payload = {"d": self.domain_id, "iat": int(time.time()), **claims}
        return jwt.encode(payload, key, algorithm="HS256")

    def join(self, room: str, token: str | None = None, **extra: Any) -> dict[str, Any]:
        response = self.anon.post(f"/_emulator/rooms/{room}/join", json={"token": token, **extra})
        assert response.status_code == 200, response.text
        return response.json()

    def leave(self, room: str, participant_id: str) -> dict[str, Any]:
        response = self.anon.post(
            f"/_emulator/rooms/{room}/leave", json={"participant_id": participant_id}
        )
        assert response.status_code == 200, response.text
        return response.json()

    def flush(self) -> list[dict[str, Any]]:
        assert self.anon.post("/_emulator/webhooks/flush").json()["idle"] is True
        return self.anon.get("/_emulator/webhooks").json()["data"]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def make_emulator(receiver: WebhookReceiver) -> Iterator[Callable[..., Emulated]]:
    apps: list[FastAPI] = []

    def build(**overrides: Any) -> Emulated:
        values: dict[str, Any] = {
            "api_key": API_KEY,
            "webhook_url": receiver.url,
            "webhook_secret": WEBHOOK_SECRET,
            "webhook_backoff_s": 0.01,
            "webhook_timeout_s": 2.0,
        }
        values.update(overrides)
        app = create_app(EmulatorConfig(**values))
        apps.append(app)
        return Emulated(app, TestClient(app, headers=AUTH), TestClient(app))

    yield build
    for app in apps:
        app.state.emulator.shutdown()


@pytest.fixture
def emu(make_emulator: Callable[..., Emulated]) -> Emulated:
    return make_emulator()


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve `app` with real uvicorn on a free port (for socket-level behaviour)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()
