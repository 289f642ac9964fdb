"""What the people in a class do, over HTTP: sign up, create and join sessions, enter the room.

Each step asserts only that it worked; the tests assert what it means.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

PASSWORD = "correct horse battery"
V1 = "/api/v1"
_FACT_RE = re.compile(r"<dt>(.*?)</dt><dd>(.*?)</dd>")
_WEBHOOK_METRIC = "tutorium_webhook_events_total"


@dataclass(frozen=True)
class Person:
    id: str
    full_name: str
    headers: dict[str, str]


def sign_up(api: httpx.Client, role: str, full_name: str) -> Person:
    """Register, then log in with the form the Swagger button uses."""
    email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
    registered = api.post(
        f"{V1}/auth/register",
        json={"email": email, "password": PASSWORD, "full_name": full_name, "role": role},
    )
    assert registered.status_code == 201, registered.text
    login = api.post(f"{V1}/auth/login", data={"username": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    return Person(registered.json()["id"], full_name, {"Authorization": f"Bearer {token}"})


def create_session(api: httpx.Client, teacher: Person, **fields: Any) -> httpx.Response:
    body = {"title": "Algebra II", "max_participants": 10, "duration_minutes": 180, **fields}
    return api.post(f"{V1}/sessions", json=body, headers=teacher.headers)


def join_by_code(api: httpx.Client, person: Person, room_code: str) -> httpx.Response:
    return api.post(
        f"{V1}/sessions/join-by-code", json={"room_code": room_code}, headers=person.headers
    )


def join_session(api: httpx.Client, person: Person, session_id: str) -> httpx.Response:
    return api.post(f"{V1}/sessions/{session_id}/join", headers=person.headers)


def get_session(api: httpx.Client, person: Person, session_id: str) -> dict[str, Any]:
    response = api.get(f"{V1}/sessions/{session_id}", headers=person.headers)
    assert response.status_code == 200, response.text
    return response.json()


def attendance(api: httpx.Client, teacher: Person, session_id: str) -> dict[str, dict[str, Any]]:
    """The attendance rows by user id."""
    response = api.get(f"{V1}/sessions/{session_id}/attendance", headers=teacher.headers)
    assert response.status_code == 200, response.text
    return {row["user_id"]: row for row in response.json()["items"]}


def session_events(api: httpx.Client, teacher: Person, session_id: str) -> list[dict[str, Any]]:
    response = api.get(
        f"{V1}/sessions/{session_id}/events", params={"limit": 200}, headers=teacher.headers
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return page["items"]


def token_of(join_url: str) -> str:
    return parse_qs(urlsplit(join_url).query)["t"][0]


def try_entering(emulator: httpx.Client, room_name: str, token: str | None) -> httpx.Response:
    """What daily-js does with `join({url, token})`, against the emulator's token validator."""
    return emulator.post(f"/_emulator/rooms/{room_name}/join", json={"token": token})


def enter_room(emulator: httpx.Client, room_name: str, token: str) -> dict[str, Any]:
    response = try_entering(emulator, room_name, token)
    assert response.status_code == 200, response.text
    return response.json()


def leave_room(emulator: httpx.Client, room_name: str, participant_id: str) -> dict[str, Any]:
    response = emulator.post(
        f"/_emulator/rooms/{room_name}/leave", json={"participant_id": participant_id}
    )
    assert response.status_code == 200, response.text
    return response.json()


def room_page(emulator: httpx.Client, join_url: str) -> dict[str, str]:
    """The facts the room page lists for the holder of the link's token (Room, User, Owner…)."""
    response = emulator.get(join_url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return {unescape(name): unescape(value) for name, value in _FACT_RE.findall(response.text)}


def all_accepted(deliveries: list[dict[str, Any]]) -> bool:
    """Every webhook reached the API and none was refused (a slow answer may add a retry)."""
    return all(
        d["outcome"] == "delivered" and set(d["status_codes"]) <= {200, None} for d in deliveries
    )


def unix(moment: str | None) -> float | None:
    return None if moment is None else datetime.fromisoformat(moment).timestamp()


def duplicate_webhooks_seen(api: httpx.Client) -> float:
    """How many webhook events the API has recognised as repeats (its Prometheus counter)."""
    response = api.get("/metrics")
    assert response.status_code == 200, response.text
    total = 0.0
    for line in response.text.splitlines():
        if line.startswith(f"{_WEBHOOK_METRIC}{{") and 'outcome="duplicate"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total
