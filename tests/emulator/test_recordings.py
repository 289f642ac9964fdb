"""Cloud recordings in the emulator: Daily's endpoints, errors, webhooks and access links."""

from __future__ import annotations

from urllib.parse import urlsplit

from .conftest import Emulated

CLOUD = {"enable_recording": "cloud"}


def _types(emu: Emulated) -> list[str]:
    return [d["type"] for d in emu.flush() if d["type"].startswith("recording.")]


def test_start_stop_and_stop_again(emu: Emulated) -> None:
    emu.create_room(name="r", properties=CLOUD)
    emu.join("r", user_id="t")
    assert emu.api.post("/v1/rooms/r/recordings/start", json={"type": "cloud"}).status_code == 200
    again = emu.api.post("/v1/rooms/r/recordings/start", json={})
    assert (again.status_code, again.json()["error"]) == (400, "invalid-request-error")
    emu.anon.post("/_emulator/clock", json={"advance_s": 90})
    assert emu.api.post("/v1/rooms/r/recordings/stop", json={}).status_code == 200
    stopped = emu.api.post("/v1/rooms/r/recordings/stop", json={})
    assert (stopped.status_code, stopped.json()["error"]) == (400, "invalid-request-error")
    deliveries = [d for d in emu.flush() if d["type"].startswith("recording.")]
    started, ready = deliveries
    assert started["type"] == "recording.started"
    assert "room_name" not in started["payload"]
    assert "room" not in started["payload"]
    assert ready["type"] == "recording.ready-to-download"
    assert ready["payload"]["room_name"] == "r"
    assert ready["payload"]["duration"] == 90
    listed = emu.api.get("/v1/recordings", params={"room_name": "r"}).json()
    assert listed["total_count"] == 1
    (entry,) = listed["data"]
    assert entry["id"] == started["payload"]["recording_id"]
    assert (entry["status"], entry["duration"], "s3Key" in entry) == ("finished", 90, True)


def test_recording_needs_cloud_and_a_meeting(emu: Emulated) -> None:
    emu.create_room(name="plain")
    emu.join("plain")
    assert emu.api.post("/v1/rooms/plain/recordings/start", json={}).status_code == 400
    emu.create_room(name="empty", properties=CLOUD)
    assert emu.api.post("/v1/rooms/empty/recordings/start", json={}).status_code == 400
    assert emu.api.post("/v1/rooms/missing/recordings/start", json={}).status_code == 404
    bad = emu.api.post("/v1/rooms/empty/recordings/start", json={"instance_id": "x"})
    assert bad.status_code == 400  # camelCase only, as Daily


def test_start_is_rate_limited_like_daily(emu: Emulated) -> None:
    emu.create_room(name="r", properties=CLOUD)
    emu.join("r")
    statuses = []
    for n in range(6):
        response = emu.api.post("/v1/rooms/r/recordings/start", json={"instanceId": f"i-{n}"})
        statuses.append(response.status_code)
    assert statuses == [200] * 5 + [429]


def test_a_token_with_start_cloud_recording_records_from_its_join(emu: Emulated) -> None:
    emu.create_room(name="r", privacy="private", properties=CLOUD)
    teacher = emu.join("r", emu.self_signed(r="r", o=True, sr=True, ud="t"))
    emu.join("r", emu.token(room_name="r", start_cloud_recording=True))  # already recording
    started = [d for d in emu.flush() if d["type"] == "recording.started"]
    assert len(started) == 1
    assert started[0]["payload"]["started_by"] == teacher["participant_id"]


def test_access_link_serves_media_until_it_expires(emu: Emulated) -> None:
    emu.create_room(name="r", properties=CLOUD)
    person = emu.join("r")
    emu.api.post("/v1/rooms/r/recordings/start", json={})
    (recording,) = emu.api.get("/v1/recordings").json()["data"]
    not_yet = emu.api.get(f"/v1/recordings/{recording['id']}/access-link")
    assert not_yet.status_code == 400
    emu.anon.post("/_emulator/clock", json={"advance_s": 30})
    emu.leave("r", person["participant_id"])  # the meeting ends, so does the recording
    assert _types(emu) == ["recording.started", "recording.ready-to-download"]
    link = emu.api.get(f"/v1/recordings/{recording['id']}/access-link").json()
    assert set(link) == {"download_link", "expires"}
    target = urlsplit(link["download_link"])
    path = f"{target.path}?{target.query}"
    media = emu.anon.get(path)
    assert media.status_code == 200
    assert media.content.startswith(b"RIFF")
    assert emu.anon.get(path.replace("signature=", "signature=x")).status_code == 403
    emu.anon.post("/_emulator/clock", json={"advance_s": 3601})
    assert emu.anon.get(path).status_code == 403


def test_get_delete_and_errors(emu: Emulated) -> None:
    emu.create_room(name="r", properties=CLOUD)
    emu.join("r")
    emu.api.post("/v1/rooms/r/recordings/start", json={})
    (recording,) = emu.api.get("/v1/recordings").json()["data"]
    assert emu.api.get(f"/v1/recordings/{recording['id']}").json()["room_name"] == "r"
    failed = emu.anon.post(f"/_emulator/recordings/{recording['id']}/fail", json={})
    assert failed.status_code == 200
    error = next(d for d in emu.flush() if d["type"] == "recording.error")
    assert set(error["payload"]) == {"action", "error_msg", "instance_id", "room_name", "timestamp"}
    assert emu.api.delete(f"/v1/recordings/{recording['id']}").status_code == 200
    gone = emu.api.get(f"/v1/recordings/{recording['id']}")
    assert (gone.status_code, gone.json()["error"]) == (404, "not-found")
    assert emu.anon.get("/v1/recordings").status_code == 400  # no API key


def test_reset_forgets_recordings(emu: Emulated) -> None:
    emu.create_room(name="r", properties=CLOUD)
    emu.join("r")
    emu.api.post("/v1/rooms/r/recordings/start", json={})
    emu.anon.post("/_emulator/reset")
    assert emu.api.get("/v1/recordings").json() == {"total_count": 0, "data": []}
