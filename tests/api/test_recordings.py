"""Recordings through the API with Daily faked: mode, webhooks (order, duplicates, errors),
access rules, deletion here and at Daily, and reconcile's gap fill and clean-up."""

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.services.daily.client import DailyClient, build_http_client
from app.services.reconcile import reconcile
from tests.conftest import Account, AccountFactory
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import SESSIONS, create_session, seat
from tests.webhook_signing import deliver, envelope

NOW = time.time()


def _ok(response: Any, status: str = "processed") -> None:
    assert response.status_code == 200, response.text
    assert response.json() == {"status": status}


def _started(recording_id: str, instance_id: str = "inst-1") -> dict[str, Any]:
    payload = {
        "recording_id": recording_id,
        "action": "start-cloud-recording",
        "layout": {"preset": "default"},
        "started_by": "p-teacher",
        "instance_id": instance_id,
        "start_ts": int(NOW - 600),
    }
    return envelope("recording.started", payload)


def _ready(room: str, recording_id: str, duration: int = 300) -> dict[str, Any]:
    payload = {
        "type": "cloud",
        "recording_id": recording_id,
        "room_name": room,
        "start_ts": int(NOW - 600),
        "status": "finished",
        "max_participants": 3,
        "duration": duration,
        "s3_key": f"tutorium/{room}/{recording_id}",
        "tracks": None,
    }
    return envelope("recording.ready-to-download", payload)


def _listing(room: str, recording_id: str, status: str = "finished") -> dict[str, Any]:
    return {
        "id": recording_id,
        "room_name": room,
        "start_ts": int(NOW - 600),
        "status": status,
        "max_participants": 3,
        "duration": 300,
        "s3Key": "k",
    }


def _items(client: TestClient, account: Account, session: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"{SESSIONS}/{session['id']}/recordings", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.fixture
def manual(client: TestClient, teacher: Account) -> dict[str, Any]:
    return create_session(client, teacher, recording="manual")


def test_recording_mode_sets_cloud_recording_on_the_room(
    client: TestClient, teacher: Account, daily: FakeDaily, manual: dict[str, Any]
) -> None:
    assert manual["recording"] == "manual"
    assert daily.rooms[manual["room_name"]]["config"]["enable_recording"] == "cloud"
    off = create_session(client, teacher)
    assert off["recording"] == "off"
    assert "enable_recording" not in daily.rooms[off["room_name"]]["config"]


def test_recording_mode_changes_before_the_start_only(
    client: TestClient, teacher: Account, daily: FakeDaily
) -> None:
    session = create_session(client, teacher)
    url = f"{SESSIONS}/{session['id']}"
    changed = client.patch(url, json={"recording": "automatic"}, headers=teacher.headers)
    assert changed.json()["recording"] == "automatic"
    assert daily.bodies("POST", f"/rooms/{session['room_name']}")[-1] == {
        "properties": {"enable_recording": "cloud"}
    }
    client.patch(url, json={"recording": "off"}, headers=teacher.headers)
    assert daily.bodies("POST", f"/rooms/{session['room_name']}")[-1] == {
        "properties": {"enable_recording": None}
    }
    client.post(f"{url}/join", headers=teacher.headers)  # the teacher's join starts it
    locked = client.patch(url, json={"recording": "manual"}, headers=teacher.headers)
    assert (locked.status_code, locked.json()["code"]) == (409, "recording_mode_locked")


def test_start_and_stop_call_daily_and_map_its_answers(
    client: TestClient, teacher: Account, daily: FakeDaily, manual: dict[str, Any]
) -> None:
    base = f"{SESSIONS}/{manual['id']}/recording"
    stopped = client.post(f"{base}/stop", headers=teacher.headers)
    assert (stopped.status_code, stopped.json()["code"]) == (409, "not_recording")
    assert client.post(f"{base}/start", headers=teacher.headers).status_code == 202
    assert daily.bodies("POST", f"/rooms/{manual['room_name']}/recordings/start") == [
        {"type": "cloud"}
    ]
    assert client.post(f"{base}/stop", headers=teacher.headers).status_code == 202


def test_webhooks_build_the_list_whatever_their_order(
    client: TestClient, teacher: Account, student: Account, daily: FakeDaily, manual: dict[str, Any]
) -> None:
    seat(client, student, manual)
    room, rid = manual["room_name"], str(uuid.uuid4())
    _ok(deliver(client, _ready(room, rid)))  # ready arrives first
    daily.recordings[rid] = _listing(room, rid)
    _ok(deliver(client, _started(rid)))  # found by its id: no lookup at Daily
    assert daily.calls("GET", f"/recordings/{rid}") == []
    (item,) = _items(client, student, manual)
    assert (item["id"], item["status"], item["duration_seconds"]) == (rid, "ready", 300)
    _ok(deliver(client, _ready(room, rid)), "duplicate")  # a resend under a new event id


def test_an_unknown_recording_started_is_looked_up_at_daily(
    client: TestClient, teacher: Account, daily: FakeDaily, manual: dict[str, Any]
) -> None:
    rid = str(uuid.uuid4())
    daily.recordings[rid] = _listing(manual["room_name"], rid, status="in-progress")
    _ok(deliver(client, _started(rid)))
    (item,) = _items(client, teacher, manual)
    assert item["status"] == "recording"
    other = str(uuid.uuid4())  # another app's recording: Daily does not know it for us
    _ok(deliver(client, _started(other)), "ignored")


def test_a_failed_lookup_is_acknowledged_and_left_to_reconcile(
    client: TestClient, teacher: Account, daily: FakeDaily, manual: dict[str, Any]
) -> None:
    daily.router.routes["get_recording"].side_effect = None
    daily.router.routes["get_recording"].return_value = httpx.Response(
        401, json={"error": "authentication-error"}
    )
    _ok(deliver(client, _started(str(uuid.uuid4()))), "ignored")
    assert _items(client, teacher, manual) == []


def test_recording_error_fails_the_instances_recording(
    client: TestClient, teacher: Account, daily: FakeDaily, manual: dict[str, Any]
) -> None:
    rid = str(uuid.uuid4())
    daily.recordings[rid] = _listing(manual["room_name"], rid, status="in-progress")
    _ok(deliver(client, _started(rid, instance_id="inst-9")))
    payload = {
        "action": "cloud-recording-error",
        "error_msg": "the recorder crashed",
        "instance_id": "inst-9",
        "room_name": manual["room_name"],
        "timestamp": int(NOW),
    }
    _ok(deliver(client, envelope("recording.error", payload)))
    (item,) = _items(client, teacher, manual)
    assert (item["status"], item["error"]) == ("failed", "the recorder crashed")


def test_links_are_fresh_for_the_class_and_hidden_from_others(
    client: TestClient,
    teacher: Account,
    student: Account,
    make_account: AccountFactory,
    daily: FakeDaily,
    manual: dict[str, Any],
) -> None:
    seat(client, student, manual)
    room, rid = manual["room_name"], str(uuid.uuid4())
    daily.recordings[rid] = _listing(room, rid)
    _ok(deliver(client, _ready(room, rid)))
    url = f"{SESSIONS}/{manual['id']}/recordings/{rid}/link"
    first = client.get(url, headers=student.headers).json()
    second = client.get(url, headers=student.headers).json()
    assert first["download_link"] != second["download_link"]  # never stored, asked each time
    assert first["expires_at"] == datetime.fromtimestamp(1_900_000_000, UTC).isoformat().replace(
        "+00:00", "Z"
    )
    outsider = make_account("student")
    assert client.get(url, headers=outsider.headers).status_code == 404
    client.post(
        f"{SESSIONS}/{manual['id']}/participants/{student.id}/remove", headers=teacher.headers
    )
    removed = client.get(url, headers=student.headers)
    assert (removed.status_code, removed.json()["code"]) == (403, "removed_from_session")


def test_delete_removes_it_here_and_at_daily(
    client: TestClient, teacher: Account, student: Account, daily: FakeDaily, manual: dict[str, Any]
) -> None:
    seat(client, student, manual)
    room, rid = manual["room_name"], str(uuid.uuid4())
    daily.recordings[rid] = _listing(room, rid)
    _ok(deliver(client, _ready(room, rid)))
    url = f"{SESSIONS}/{manual['id']}/recordings/{rid}"
    assert client.delete(url, headers=student.headers).status_code == 403
    assert client.delete(url, headers=teacher.headers).status_code == 204
    assert rid not in daily.recordings
    assert _items(client, teacher, manual) == []


def test_deleting_the_session_deletes_its_recordings_at_daily(
    client: TestClient, teacher: Account, daily: FakeDaily, manual: dict[str, Any]
) -> None:
    room, rid = manual["room_name"], str(uuid.uuid4())
    daily.recordings[rid] = _listing(room, rid)
    _ok(deliver(client, _ready(room, rid)))
    assert client.delete(f"{SESSIONS}/{manual['id']}", headers=teacher.headers).status_code == 204
    assert rid not in daily.recordings


def test_reconcile_fills_gaps_and_deletes_what_deleted_sessions_left(
    client: TestClient,
    teacher: Account,
    settings: Any,
    session_factory: sessionmaker[Session],
    daily: FakeDaily,
    manual: dict[str, Any],
) -> None:
    room, missed = manual["room_name"], str(uuid.uuid4())
    orphan, foreign = str(uuid.uuid4()), str(uuid.uuid4())
    daily.recordings[missed] = _listing(room, missed)  # its webhooks never arrived
    daily.recordings[orphan] = _listing(f"{settings.daily_room_prefix}-gone", orphan)
    daily.recordings[foreign] = _listing("another-apps-room", foreign)
    http = build_http_client(settings)
    try:
        summary = reconcile(
            session_factory,
            DailyClient(http, settings),
            prefix=settings.daily_room_prefix,
            now=datetime.now(UTC) + timedelta(seconds=1),
        )
    finally:
        http.close()
    assert summary.ok, summary.lines()
    assert summary.recordings is not None
    assert (summary.recordings.filled, summary.recordings.deleted) == (1, [orphan])
    assert set(daily.recordings) == {missed, foreign}
    (item,) = _items(client, teacher, manual)
    assert (item["id"], item["status"]) == (missed, "ready")
