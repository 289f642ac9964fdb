"""A database that cannot be reached answers 503 with Retry-After; nothing resets a connection.

The outage here is real: the API points at a port where nothing listens, so psycopg2 fails as
it does when PostgreSQL is stopped. Keep-alive is checked over a real socket against uvicorn,
because only a real server can close a connection behind a client's back.
"""

import logging
import socket
import threading
import uuid
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.security import create_access_token
from app.main import create_app
from tests.conftest import make_settings
from tests.e2e.stack import free_port

ME = "/api/v1/users/me"


@pytest.fixture
def down_settings() -> Settings:
    return make_settings(
        database_url=f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/tutorium_down",
        database_pool_timeout_seconds=1.0,
    )


@pytest.fixture
def down_app(down_settings: Settings) -> FastAPI:
    application = create_app(down_settings)

    @application.get("/_test/boom")
    def boom() -> None:
        raise RuntimeError("a bug, with SELECT secret FROM nowhere in its text")

    return application


def _bearer(settings: Settings) -> dict[str, str]:
    token = create_access_token(user_id=uuid.uuid4(), role="student", settings=settings).token
    return {"Authorization": f"Bearer {token}"}


def test_an_unreachable_database_is_a_503_with_retry_after_logged_once(
    down_app: FastAPI, down_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(down_app) as client, caplog.at_level(logging.ERROR, logger="app.db.outage"):
        answers = [client.get(ME, headers=_bearer(down_settings)) for _ in range(3)]
        ready = client.get("/health/ready")
        metrics = client.get("/metrics").text

    for response in answers:
        assert response.status_code == 503
        assert response.json() == {
            "detail": "The database is unavailable; try again shortly.",
            "code": "database_unavailable",
        }
        assert int(response.headers["Retry-After"]) >= 1
    assert ready.status_code == 503
    assert ready.json()["database"] == "unavailable"
    assert int(ready.headers["Retry-After"]) >= 1
    [logged] = [r for r in caplog.records if r.name == "app.db.outage"]
    assert "OperationalError" in logged.getMessage()
    assert "tutorium_database_unavailable_total" in metrics
    assert "tutorium_database_outages_total" in metrics


def test_other_errors_stay_a_500_without_their_text(down_app: FastAPI) -> None:
    with TestClient(down_app) as client:
        response = client.get("/_test/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error.", "code": "internal_error"}
    assert "SELECT" not in response.text


@pytest.fixture
def served(down_app: FastAPI) -> Iterator[int]:
    """The app under a real uvicorn, in a thread of this process."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(down_app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.05)
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def _exchange(sock: socket.socket, path: str, headers: dict[str, str]) -> bytes:
    """One request on a kept-alive socket; the response head and body (small, JSON)."""
    lines = [f"GET {path} HTTP/1.1", "Host: test"] + [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-body"
        body += chunk
    return head.split(b"\r\n")[0] + b" " + body


def test_error_answers_keep_the_connection_open(served: int, down_settings: Settings) -> None:
    with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
        assert b" 500 " in _exchange(sock, "/_test/boom", {})
        assert b" 503 " in _exchange(sock, ME, _bearer(down_settings))
        assert b" 503 " in _exchange(sock, "/health/ready", {})
        assert _exchange(sock, "/health", {}).endswith(b'{"status":"ok"}')
