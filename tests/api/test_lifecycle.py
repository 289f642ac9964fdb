"""One state machine for the API and the webhooks: scheduled → active → ended, never back."""

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models.session import SessionStatus, TutoringSession
from tests.conftest import Account
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import SESSIONS, create_session, seat
from tests.webhook_signing import RoomEvents, deliver

T0 = round(time.time() - 600, 3)


def status_of(client: TestClient, session: dict[str, Any], teacher: Account) -> dict[str, Any]:
    return client.get(f"{SESSIONS}/{session['id']}", headers=teacher.headers).json()


def delivered(client: TestClient, event: dict[str, Any]) -> str:
    response = deliver(client, event)
    assert response.status_code == 200, response.text
    return response.json()["status"]


def test_webhooks_and_the_api_drive_the_same_lifecycle(
    client: TestClient, teacher: Account, student: Account, daily: FakeDaily
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    room = RoomEvents(session["room_name"])
    assert status_of(client, session, teacher)["status"] == "scheduled"

    # The student is in the room first: Daily's meeting.started starts the session.
    delivered(client, room.meeting_started(T0))
    started = status_of(client, session, teacher)
    assert started["status"] == "active"
    assert datetime.fromisoformat(started["started_at"]) == datetime.fromtimestamp(T0, UTC)

    # The teacher joining later changes nothing: activation happens once.
    assert client.post(f"{SESSIONS}/{session['id']}/join", headers=teacher.headers).is_success
    assert status_of(client, session, teacher)["started_at"] == started["started_at"]

    # Everyone drops off: the meeting ends, the session does not, and the class can resume.
    delivered(client, room.meeting_ended(T0, T0 + 300))
    after_meeting = status_of(client, session, teacher)
    assert after_meeting["status"] == "active"
    assert after_meeting["present_count"] == 0
    assert client.post(f"{SESSIONS}/{session['id']}/join", headers=student.headers).is_success

    # The teacher ends it; a second end is a no-op; the room is deleted once.
    first = client.post(f"{SESSIONS}/{session['id']}/end", headers=teacher.headers)
    again = client.post(f"{SESSIONS}/{session['id']}/end", headers=teacher.headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "ended"
    assert again.json()["ended_at"] == first.json()["ended_at"]
    assert len(daily.calls("DELETE", f"/rooms/{session['room_name']}")) == 1

    # Nothing moves it back: not a late meeting.started, not a join.
    delivered(client, room.meeting_started(time.time()))
    assert status_of(client, session, teacher)["status"] == "ended"
    refused = client.post(f"{SESSIONS}/{session['id']}/join", headers=student.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "session_ended"


def test_a_teacher_join_through_the_api_starts_the_session_and_a_later_meeting_started_is_a_no_op(
    client: TestClient, teacher: Account
) -> None:
    session = create_session(client, teacher)
    assert client.post(f"{SESSIONS}/{session['id']}/join", headers=teacher.headers).is_success
    active = status_of(client, session, teacher)
    assert active["status"] == "active"
    assert delivered(client, RoomEvents(session["room_name"]).meeting_started(time.time())) == (
        "processed"
    )
    assert status_of(client, session, teacher)["started_at"] == active["started_at"]


def test_an_expired_session_is_not_started_by_webhooks_and_refuses_joins(
    client: TestClient, teacher: Account, student: Account, db: Session
) -> None:
    session = create_session(client, teacher)
    seat(client, student, session)
    row = db.get(TutoringSession, uuid.UUID(session["id"]))
    assert row is not None
    row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.flush()

    delivered(client, RoomEvents(session["room_name"]).meeting_started(time.time()))
    db.refresh(row)
    assert row.status is SessionStatus.SCHEDULED  # nothing written: it reads as ended
    assert status_of(client, session, teacher)["status"] == "ended"
    for account in (teacher, student):
        refused = client.post(f"{SESSIONS}/{session['id']}/join", headers=account.headers)
        assert refused.status_code == 409
        assert refused.json()["code"] == "session_ended"
