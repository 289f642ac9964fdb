"""Daily's webhook envelope, parsed defensively (Daily's webhook docs).

`{"version", "type", "id", "payload", "event_ts"}`; times are Unix seconds, ints or floats.
Nothing here trusts a field's type: a value of the wrong kind reads as absent.
"""

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.services.daily.unix_time import unix_time

_MAX_DURATION_SECONDS = 10**7


class NotJSON:
    """The body did not parse (a sentinel: `null` is valid JSON)."""


NOT_JSON = NotJSON()


@dataclass(frozen=True)
class DailyEvent:
    id: str
    type: str
    payload: dict[str, Any]
    sent_at: datetime | None

    @property
    def room(self) -> str | None:
        # Recording events name the room `room_name`; the others `room`.
        room = self.payload.get("room") or self.payload.get("room_name")
        return room if isinstance(room, str) and room else None

    def time(self, field: str) -> datetime | None:
        return unix_time(self.payload.get(field))

    def participant_times(self, fallback: datetime) -> tuple[datetime, datetime | None]:
        """(joined, left) of a participant event; `left` only for `participant.left`.

        Daily sends no leave time: it is `joined_at + duration`, else when the event was sent,
        and a missing `joined_at` is then `left - duration` (or `left` itself).
        """
        joined_at = self.time("joined_at")
        if self.type != "participant.left":
            return joined_at or self.sent_at or fallback, None
        duration = _duration(self.payload.get("duration"))
        if joined_at is not None and duration is not None:
            return joined_at, joined_at + duration
        left_at = self.sent_at or fallback
        if joined_at is None:
            joined_at = left_at - duration if duration is not None else left_at
        return joined_at, left_at


def _duration(value: object) -> timedelta | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not 0 <= value < _MAX_DURATION_SECONDS:
        return None
    return timedelta(seconds=value)


def parse_body(body: bytes) -> Any:
    """The parsed JSON, or NOT_JSON."""
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError):
        return NOT_JSON


def _refuse_constant(name: str) -> None:
    """NaN and Infinity are not JSON, and PostgreSQL's jsonb would refuse them at commit."""
    raise ValueError(name)


def parse_envelope(document: Any) -> DailyEvent | None:
    """The event, or None when the document lacks a usable type, id or payload."""
    if not isinstance(document, dict):
        return None
    event_type, event_id = document.get("type"), document.get("id")
    payload = document.get("payload")
    if not (isinstance(event_type, str) and 0 < len(event_type) <= 64):
        return None
    if not (isinstance(event_id, str) and 0 < len(event_id) <= 128):
        return None
    if not isinstance(payload, dict):
        return None
    return DailyEvent(
        id=event_id, type=event_type, payload=payload, sent_at=unix_time(document.get("event_ts"))
    )
