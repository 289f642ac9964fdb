"""Small builders for session tests, so each test states only what it is about."""

from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.conftest import Account

SESSIONS = "/api/v1/sessions"


def create_session(client: TestClient, teacher: Account, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"title": "Algebra II", "max_participants": 5}
    body.update(fields)
    response = client.post(SESSIONS, json=body, headers=teacher.headers)
    assert response.status_code == 201, response.text
    return response.json()


def join_by_code(client: TestClient, account: Account, room_code: str) -> httpx.Response:
    return client.post(
        f"{SESSIONS}/join-by-code", json={"room_code": room_code}, headers=account.headers
    )


def seat(client: TestClient, account: Account, session: dict[str, Any]) -> dict[str, Any]:
    response = join_by_code(client, account, session["room_code"])
    assert response.status_code == 200, response.text
    return response.json()
