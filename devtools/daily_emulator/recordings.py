"""Cloud recordings as Daily runs them (facts: shared/daily-api.md §5, §6, §10).

Started by `POST /rooms/:name/recordings/start` (camelCase body) or by a joining token with
`start_cloud_recording` (`sr`) in a room with `enable_recording: "cloud"`; stopped by
`.../stop` (400 when nothing records) or when the meeting ends. Webhooks follow Daily's
payloads: `recording.started` has no room field, `recording.ready-to-download` is sent only for a
non-zero duration, `recording.error` names the instance. A finished recording can be fetched
through `GET /recordings/:id/access-link`, a signed link to a small media file that expires
(emulator time, so tests can let it lapse). What `.../start` answers on success is not in
anything we could read; the emulator answers `{"status": "Success"}` and Tutorium ignores it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import threading
import time
import uuid
import wave
from collections import deque
from dataclasses import dataclass
from typing import Any

from .errors import DailyError, invalid_request, not_found, reject_unknown_keys
from .state import Clock, Participant, Room, Store
from .tokens import MeetingToken
from .webhooks import WebhookOutbox

DEFAULT_INSTANCE_ID = "c3df927c-f738-4471-a2b7-066fa7e95a6b"
LINK_LIFETIME_S = 3600
MAX_PAGE = 100
START_LIMIT = 5  # Daily: about 1 start per second, 5 per 5 s window
START_WINDOW_S = 5.0
_START_KEYS = (
    "type",
    "instanceId",
    "maxDuration",
    "minIdleTimeOut",
    "layout",
    "width",
    "height",
    "fps",
    "videoBitrate",
    "audioBitrate",
    "backgroundColor",
)


def _media() -> bytes:
    """One second of silence as a WAV file: small, and a real media file a player opens."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 8000)
    return buffer.getvalue()


MEDIA = _media()
MEDIA_TYPE = "audio/wav"


@dataclass
class EmulatedRecording:
    id: str
    room_name: str
    instance_id: str
    start_ts: float
    started_by: str | None
    max_participants: int
    status: str = "in-progress"
    duration: int = 0

    def to_api(self) -> dict[str, Any]:
        """`GET /recordings` entry; REST uses `s3Key` (camelCase), unlike the webhook."""
        return {
            "id": self.id,
            "room_name": self.room_name,
            "start_ts": int(self.start_ts),
            "status": self.status,
            "max_participants": self.max_participants,
            "duration": self.duration,
            "s3Key": f"emulator/{self.room_name}/{self.id}.wav",
            "mtgSessionId": None,
            "tracks": [],
        }


class RecordingBook:
    def __init__(
        self, store: Store, outbox: WebhookOutbox, clock: Clock, api_key: str, base_url: str
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.api_key = api_key
        self.base_url = base_url
        self.recordings: dict[str, EmulatedRecording] = {}
        self._starts: deque[float] = deque()
        self._rate_lock = threading.Lock()

    def clear(self) -> None:
        with self.store.lock:
            self.recordings.clear()
        with self._rate_lock:
            self._starts.clear()

    # -- REST ------------------------------------------------------------------------------

    def start(self, room_name: str, body: dict[str, Any]) -> dict[str, Any]:
        reject_unknown_keys(body, _START_KEYS)
        recording_type = body.get("type", "cloud")
        if recording_type != "cloud":
            raise invalid_request("the emulator records type 'cloud' only")
        instance_id = body.get("instanceId", DEFAULT_INSTANCE_ID)
        if not isinstance(instance_id, str) or not instance_id:
            raise invalid_request("instanceId must be a non-empty string")
        self._count_start()
        with self.store.lock:
            room = self._room(room_name)
            if room.config.get("enable_recording") != "cloud":
                raise invalid_request("cloud recording is not enabled for this room")
            if not self.store.in_room(room_name):
                raise invalid_request("there is no active meeting in this room")
            if self._running(room_name, instance_id):
                raise invalid_request("a recording is already in progress for this instance")
            self._begin(room, instance_id, started_by=None)
        return {"status": "Success"}

    def stop(self, room_name: str, body: dict[str, Any]) -> dict[str, Any]:
        reject_unknown_keys(body, ("instanceId", "type"))
        instance_id = body.get("instanceId")
        with self.store.lock:
            self._room(room_name)
            running = [
                r
                for r in self._running_in(room_name)
                if instance_id is None or r.instance_id == instance_id
            ]
            if not running:
                raise invalid_request("no recording is in progress in this room")
            for recording in running:
                self._finish(recording)
        return {"status": "Success"}

    def page(self, room_name: str | None, limit: int, starting_after: str | None) -> dict[str, Any]:
        if not 1 <= limit <= MAX_PAGE:
            raise invalid_request(f"limit must be between 1 and {MAX_PAGE}")
        with self.store.lock:
            ordered = sorted(
                (r for r in self.recordings.values() if room_name in (None, r.room_name)),
                key=lambda r: (r.start_ts, r.id),
                reverse=True,
            )
            start = 0
            if starting_after:
                ids = [r.id for r in ordered]
                if starting_after not in ids:
                    raise invalid_request(f"no recording matches cursor '{starting_after}'")
                start = ids.index(starting_after) + 1
            page = ordered[start : start + limit]
            return {"total_count": len(ordered), "data": [r.to_api() for r in page]}

    def get(self, recording_id: str) -> dict[str, Any]:
        with self.store.lock:
            return self._recording(recording_id).to_api()

    def delete(self, recording_id: str) -> dict[str, Any]:
        with self.store.lock:
            self._recording(recording_id)
            del self.recordings[recording_id]
        return {"deleted": True, "id": recording_id}

    def access_link(self, recording_id: str) -> dict[str, Any]:
        with self.store.lock:
            recording = self._recording(recording_id)
            if recording.status != "finished":
                raise invalid_request("the recording is not finished yet")
        expires = int(self.clock.now()) + LINK_LIFETIME_S
        signature = self._sign(recording_id, expires)
        link = (
            f"{self.base_url}/_emulator/recordings/{recording_id}/download"
            f"?expires={expires}&signature={signature}"
        )
        return {"download_link": link, "expires": expires}

    def download(self, recording_id: str, expires: str | None, signature: str | None) -> bytes:
        """What the signed link serves: 403 once expired or when the signature is wrong."""
        try:
            expires_at = int(expires or "")
        except ValueError:
            raise DailyError(403, "forbidden-error", "invalid access link") from None
        expected = self._sign(recording_id, expires_at)
        if not hmac.compare_digest(expected, signature or ""):
            raise DailyError(403, "forbidden-error", "invalid access link")
        if expires_at <= self.clock.now():
            raise DailyError(403, "forbidden-error", "the access link has expired")
        with self.store.lock:
            self._recording(recording_id)
        return MEDIA

    def fail(self, recording_id: str, error_msg: str) -> dict[str, Any]:
        """Test control: the recording breaks, as Daily reports with `recording.error`."""
        with self.store.lock:
            recording = self._recording(recording_id)
            recording.status = "failed"
            self.outbox.emit(
                "recording.error",
                {
                    "action": "cloud-recording-error",
                    "error_msg": error_msg,
                    "instance_id": recording.instance_id,
                    "room_name": recording.room_name,
                    "timestamp": int(self.clock.now()),
                },
            )
            return recording.to_api()

    # -- the call's side (CallSimulator listener) ------------------------------------------

    def joined(self, room: Room, participant: Participant, token: MeetingToken | None) -> None:
        """A token with `start_cloud_recording` starts the room's recording on join (once)."""
        if token is None or token.claims.get("sr") is not True:
            return
        if room.config.get("enable_recording") != "cloud":
            return
        if not self._running(room.name, DEFAULT_INSTANCE_ID):
            self._begin(room, DEFAULT_INSTANCE_ID, started_by=participant.id)

    def meeting_ended(self, room_name: str) -> None:
        for recording in self._running_in(room_name):
            self._finish(recording)

    # -- internals (callers hold store.lock) -----------------------------------------------

    def _begin(self, room: Room, instance_id: str, *, started_by: str | None) -> None:
        now = self.clock.now()
        recording = EmulatedRecording(
            id=str(uuid.uuid4()),
            room_name=room.name,
            instance_id=instance_id,
            start_ts=now,
            started_by=started_by,
            max_participants=len(self.store.in_room(room.name)),
        )
        self.recordings[recording.id] = recording
        self.outbox.emit(
            "recording.started",
            {
                "recording_id": recording.id,
                "action": "start-cloud-recording",
                "layout": {"preset": "default"},
                "started_by": started_by,
                "instance_id": instance_id,
                "start_ts": int(now),
            },
        )

    def _finish(self, recording: EmulatedRecording) -> None:
        recording.status = "finished"
        recording.duration = int(self.clock.now() - recording.start_ts)
        if recording.duration <= 0:
            return  # Daily sends ready-to-download only for a non-zero duration
        self.outbox.emit(
            "recording.ready-to-download",
            {
                "type": "cloud",
                "recording_id": recording.id,
                "room_name": recording.room_name,
                "start_ts": int(recording.start_ts),
                "status": "finished",
                "max_participants": recording.max_participants,
                "duration": recording.duration,
                "s3_key": f"emulator/{recording.room_name}/{recording.id}.wav",
                "tracks": None,
            },
        )

    def _running_in(self, room_name: str) -> list[EmulatedRecording]:
        return [
            r
            for r in self.recordings.values()
            if r.room_name == room_name and r.status == "in-progress"
        ]

    def _running(self, room_name: str, instance_id: str) -> bool:
        return any(r.instance_id == instance_id for r in self._running_in(room_name))

    def _count_start(self) -> None:
        """Daily's start tier: past 5 starts in 5 s, 429 `rate-limit-error`."""
        now = time.monotonic()
        with self._rate_lock:
            while self._starts and self._starts[0] <= now - START_WINDOW_S:
                self._starts.popleft()
            if len(self._starts) >= START_LIMIT:
                raise DailyError(429, "rate-limit-error", "too many recording starts")
            self._starts.append(now)

    def _sign(self, recording_id: str, expires: int) -> str:
        digest = hmac.new(
            self.api_key.encode(), f"{recording_id}.{expires}".encode(), hashlib.sha256
        ).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _room(self, name: str) -> Room:
        room = self.store.rooms.get(name)
        if room is None:
            raise not_found(f"room {name} not found")
        return room

    def _recording(self, recording_id: str) -> EmulatedRecording:
        recording = self.recordings.get(recording_id)
        if recording is None:
            raise not_found(f"recording {recording_id} not found")
        return recording
