"""A whole class, logged at DEBUG: no secret, password or token may reach a log line."""

import io
import logging
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.logging import json_handler
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import SESSIONS
from tests.webhook_signing import RoomEvents, deliver

TEACHER_PASSWORD = "teacher secret passphrase"
STUDENT_PASSWORD = "student secret passphrase"


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = json_handler(stream)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def _register_and_login(client: TestClient, email: str, password: str, role: str) -> str:
    client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": password, "full_name": role.title(), "role": role},
    )
    client.post("/api/v1/auth/login", data={"username": email, "password": "wrong " + password})
    response = client.post("/api/v1/auth/login", data={"username": email, "password": password})
    return response.json()["access_token"]


def test_a_full_flow_logs_no_secret(
    client: TestClient, settings: Settings, daily: FakeDaily, log_text: io.StringIO
) -> None:
    teacher_token = _register_and_login(client, "t@example.com", TEACHER_PASSWORD, "teacher")
    student_token = _register_and_login(client, "s@example.com", STUDENT_PASSWORD, "student")
    teacher = {"Authorization": f"Bearer {teacher_token}"}
    student = {"Authorization": f"Bearer {student_token}"}
    session = client.post(SESSIONS, json={"title": "Secrets"}, headers=teacher).json()
    joined = client.post(
        f"{SESSIONS}/join-by-code", json={"room_code": session["room_code"]}, headers=student
    ).json()
    owner = client.post(f"{SESSIONS}/{session['id']}/join", headers=teacher).json()
    events = RoomEvents(session["room_name"])
    now = time.time()
    deliver(client, events.meeting_started(now))
    client.post(
        "/api/v1/webhooks/daily", content=b'{"type":"x"}', headers={"X-Webhook-Signature": "bad"}
    )
    client.post(f"{SESSIONS}/{session['id']}/end", headers=teacher)
    daily.router.routes["create_room"].side_effect = lambda request: httpx.Response(
        401, json={"error": "authentication-error"}
    )
    client.post(SESSIONS, json={"title": "Refused"}, headers=teacher)

    text = log_text.getvalue()
    assert "Daily POST /rooms" in text  # the capture works
    secrets = {
        "DAILY_API_KEY": settings.daily_api_key.get_secret_value(),  # type: ignore[union-attr]
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "DAILY_WEBHOOK_SECRET": settings.daily_webhook_secret.get_secret_value(),  # type: ignore[union-attr]
        "teacher password": TEACHER_PASSWORD,
        "student password": STUDENT_PASSWORD,
        "teacher access token": teacher_token,
        "student access token": student_token,
        "student meeting token": joined["token"],
        "owner meeting token": owner["token"],
    }
    leaked = [name for name, value in secrets.items() if value in text]
    assert leaked == []
