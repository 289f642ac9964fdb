"""Building Daily webhook deliveries for tests: envelopes, bodies and their signatures."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import TEST_WEBHOOK_SECRET

WEBHOOK_URL = "/api/v1/webhooks/daily"


def sign(body: bytes, timestamp: str, secret: str = TEST_WEBHOOK_SECRET) -> str:
    key = base64.b64decode(secret)
    return base64.b64encode(
        hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).digest()
    ).decode()


def compact(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def signed_headers(
    body: bytes,
    *,
    timestamp: str | None = None,
    secret: str = TEST_WEBHOOK_SECRET,
    signed_body: bytes | None = None,
) -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": sign(
            signed_body if signed_body is not None else body, timestamp, secret
        ),
    }


def envelope(
    event_type: str,
    payload: dict[str, Any],
    *,
    event_id: str | None = None,
    event_ts: float | None = None,
) -> dict[str, Any]:
    return {
        "version": "1.0.0",
        "type": event_type,
        "id": event_id or f"evt-{uuid.uuid4()}",
        "payload": payload,
        "event_ts": event_ts if event_ts is not None else round(time.time(), 3),
    }


def deliver(client: TestClient, event: dict[str, Any], **header_options: Any) -> Response:
    """POST one event the way Daily does: compact JSON, signed over exactly those bytes."""
    body = compact(event)
    return client.post(WEBHOOK_URL, content=body, headers=signed_headers(body, **header_options))


class RoomEvents:
    """Daily-shaped events for one room; times are Unix seconds."""

    def __init__(self, room: str) -> None:
        self.room = room
        self.meeting_id = str(uuid.uuid4())

    def meeting_started(self, start_ts: float, **envelope_options: Any) -> dict[str, Any]:
        payload = {"room": self.room, "meeting_id": self.meeting_id, "start_ts": start_ts}
        return envelope("meeting.started", payload, **envelope_options)

    def meeting_ended(
        self, start_ts: float, end_ts: float, **envelope_options: Any
    ) -> dict[str, Any]:
        payload = {
            "room": self.room,
            "meeting_id": self.meeting_id,
            "start_ts": start_ts,
            "end_ts": end_ts,
        }
        return envelope("meeting.ended", payload, **envelope_options)

    def joined(
        self, user_id: object, daily_session_id: str, joined_at: float, **envelope_options: Any
    ) -> dict[str, Any]:
        return envelope(
            "participant.joined",
            self._participant(user_id, daily_session_id, joined_at),
            **envelope_options,
        )

    def left(
        self,
        user_id: object,
        daily_session_id: str,
        joined_at: float,
        duration: float,
        **envelope_options: Any,
    ) -> dict[str, Any]:
        payload = self._participant(user_id, daily_session_id, joined_at) | {"duration": duration}
        return envelope("participant.left", payload, **envelope_options)

    def _participant(
        self, user_id: object, daily_session_id: str, joined_at: float
    ) -> dict[str, Any]:
        return {
            "room": self.room,
            "session_id": daily_session_id,
            "user_id": str(user_id),
            "user_name": "Someone",
            "owner": False,
            "joined_at": joined_at,
            "will_eject_at": 0,
            "permissions": {"hasPresence": True, "canSend": True, "canAdmin": False},
        }
