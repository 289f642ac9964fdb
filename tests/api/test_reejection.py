"""Removals that stick: Daily forgets a ban once the call empties (daily-api.md §10), so a
removed student's `participant.joined` is answered by ejecting them again."""

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.models.session import TutoringSession
from app.services.reconcile import reconcile
from tests.conftest import Account
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import SESSIONS, create_session, seat
from tests.webhook_signing import RoomEvents, deliver

T0 = round(time.time() - 60, 3)


def remove(client: TestClient, teacher: Account, session: dict[str, Any], user: Account) -> int:
    url = f"{SESSIONS}/{session['id']}/participants/{user.id}/remove"
    return client.post(url, headers=teacher.headers).status_code


def event_types(client: TestClient, teacher: Account, session: dict[str, Any]) -> list[str]:
    events = client.get(f"{SESSIONS}/{session['id']}/events", headers=teacher.headers).json()
    return [event["type"] for event in events["items"]]


def test_a_removed_students_join_is_answered_with_an_eject(
    client: TestClient, teacher: Account, student: Account, daily: FakeDaily
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    assert remove(client, teacher, session, student) == 204
    room = RoomEvents(session["room_name"])

    response = deliver(client, room.joined(student.id, "sam-again", T0))

    assert response.status_code == 200
    assert response.json() == {"status": "processed"}
    expected = {"user_ids": [str(student.id)], "ban": True}
    assert daily.bodies("POST", f"/rooms/{session['room_name']}/eject") == [expected] * 2
    types = event_types(client, teacher, session)
    assert types.count("participant.reejected") == types.count("participant.joined") == 1
    # A seated student's join is left alone.
    other = deliver(client, room.joined(teacher.id, "ada-1", T0))
    assert other.status_code == 200
    assert len(daily.calls("POST", f"/rooms/{session['room_name']}/eject")) == 2


def test_a_failed_reeject_is_not_a_webhook_failure_and_reconcile_retries_it(
    app: FastAPI,
    client: TestClient,
    session_factory: sessionmaker[Session],
    teacher: Account,
    student: Account,
    daily: FakeDaily,
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    assert remove(client, teacher, session, student) == 204
    daily.router.routes["eject"].side_effect = lambda request, name: httpx.Response(
        500, json={"error": "server-error"}
    )
    response = deliver(client, RoomEvents(session["room_name"]).joined(student.id, "s-2", T0))
    assert response.status_code == 200

    daily.router.routes["eject"].side_effect = lambda request, name: httpx.Response(
        200, json={"ejectedIds": ["s-2"]}
    )
    summary = reconcile(session_factory, app.state.daily, prefix="tutorium")
    assert summary.removed_reejected == [f"{session['room_name']}/{student.id}"]
    assert summary.ok
    assert daily.bodies("POST", f"/rooms/{session['room_name']}/eject")[-1] == {
        "user_ids": [str(student.id)],
        "ban": True,
    }


def test_removal_from_a_session_past_its_end_but_not_reconciled_works(
    client: TestClient, teacher: Account, student: Account, daily: FakeDaily, db: Session
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    row = db.get(TutoringSession, uuid.UUID(session["id"]))
    assert row is not None
    row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.flush()
    daily.router.routes["eject"].side_effect = lambda request, name: httpx.Response(
        404, json={"error": "not-found", "info": f"room {name} not found"}
    )
    assert remove(client, teacher, session, student) == 204
    assert daily.calls("POST", f"/rooms/{session['room_name']}/eject") == []


def test_an_eject_404_means_nobody_to_eject(
    client: TestClient, teacher: Account, student: Account, daily: FakeDaily
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    daily.rooms.pop(session["room_name"])  # gone at Daily, e.g. expired and purged
    assert remove(client, teacher, session, student) == 204
    listing = client.get(f"{SESSIONS}/{session['id']}/participants", headers=teacher.headers)
    assert [row["status"] for row in listing.json()["items"]] == ["removed"]
