"""The only code that knows Daily's REST endpoints and their JSON.

Synchronous and thread-safe: every request thread shares the one `httpx.Client`
built at start-up. Retries, timeouts and error mapping live in `transport`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from app.core.config import Settings
from app.services.daily.pacing import Pacer
from app.services.daily.transport import (
    REAL_DAILY_HOST,
    DailyAPIError,
    DailyCall,
    DailyTransport,
    DailyUnavailableError,
    OnCall,
    api_key_value,
    build_http_client,
)
from app.services.daily.unix_time import unix_seconds, unix_time

__all__ = [
    "REAL_DAILY_HOST",
    "DailyAPIError",
    "DailyClient",
    "DailyRoom",
    "DailyUnavailableError",
    "DailyWebhook",
    "MeetingAttendance",
    "api_key_value",
    "build_http_client",
    "is_rate_limited",
]

logger = logging.getLogger(__name__)

ROOM_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")  # Daily's rule for room names
RECORDING_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_PAGE_SIZE = 100  # Daily's maximum `limit`
_EJECT_BATCH = 100  # Daily takes at most 100 user_ids per eject
STUDENT_SENDS = ("video", "audio")
SCREEN_SENDS = ("screenVideo", "screenAudio")

# `DELETE /rooms/:name` has its own limit, about 50 per 30 s per domain (daily-api.md §6), shared
# by live session ends and reconcile; 0.7 s apart keeps one process at 43 per 30 s.
ROOM_DELETE_INTERVAL_SECONDS = 0.7


@dataclass(frozen=True)
class DailyRoom:
    name: str
    url: str
    privacy: str
    config: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    created_at: str | None = None

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> DailyRoom:
        return cls(
            name=body["name"],
            url=body.get("url", ""),
            privacy=body.get("privacy", ""),
            config=dict(body.get("config") or {}),
            id=body.get("id", ""),
            created_at=body.get("created_at"),
        )

    @property
    def expires_at(self) -> datetime | None:
        """The room's `exp`; Daily lists only the non-default properties in `config`."""
        exp = self.config.get("exp")
        return unix_time(exp)


@dataclass(frozen=True)
class DailyWebhook:
    """Daily's webhook object (camelCase keys, daily-api.md §5); `hmac` is never kept."""

    uuid: str
    url: str
    state: str
    failed_count: int
    retry_type: str
    event_types: tuple[str, ...]

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> DailyWebhook:
        return cls(
            uuid=str(body["uuid"]),
            url=str(body.get("url") or ""),
            state=str(body.get("state") or ""),
            failed_count=int(body.get("failedCount") or 0),
            retry_type=str(body.get("retryType") or "circuit-breaker"),
            event_types=tuple(body.get("eventTypes") or ()),
        )


@dataclass(frozen=True)
class MeetingAttendance:
    """One participant of one Daily meeting, from `/meetings` (times in seconds)."""

    participant_id: str  # equals the webhooks' `session_id`
    user_id: str | None
    join_time: datetime
    duration_seconds: float

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> MeetingAttendance:
        return cls(
            participant_id=str(body["participant_id"]),
            user_id=body.get("user_id"),
            join_time=datetime.fromtimestamp(float(body["join_time"]), UTC),
            duration_seconds=float(body.get("duration") or 0),
        )


def is_rate_limited(error: Exception) -> bool:
    """Daily kept answering 429 until the retries ran out: try later, it is not a failure."""
    return isinstance(error, DailyUnavailableError) and error.status_code_from_daily == 429


def _room_path(template: str, name: str) -> str:
    """Validated first, so a name like '../x' can never reach another endpoint."""
    if not ROOM_NAME_RE.match(name):
        raise ValueError("Daily room names are 1-128 characters of A-Z a-z 0-9 - _")
    return template.replace("{name}", name)


def _recording_path(template: str, recording_id: str) -> str:
    """Validated like room names, so no id can reach another endpoint."""
    if not RECORDING_ID_RE.match(recording_id):
        raise ValueError("Daily recording ids are letters, digits and dashes")
    return template.replace("{id}", recording_id)


class DailyClient:
    """Typed calls to Daily with bounded retries. Safe to share between threads."""

    def __init__(
        self,
        http: httpx.Client,
        settings: Settings,
        *,
        on_call: OnCall | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transport = DailyTransport(http, settings, on_call=on_call, sleep=sleep, clock=clock)
        self._delete_pacer = Pacer(ROOM_DELETE_INTERVAL_SECONDS, sleep, clock)
        self._domain_id: str | None = None
        self._domain_lock = threading.Lock()

    def create_room(
        self,
        *,
        name: str,
        max_participants: int,
        expires_at: datetime,
        cloud_recording: bool = False,
    ) -> DailyRoom:
        """Create a private room. Daily answers a duplicate name with the same 400 as bad input,
        and we pick the name, so a 400 (after a retried create whose first response was lost,
        or a parallel create) is settled by asking `GET /rooms/{name}` whether it exists."""
        properties = {
            "enable_screenshare": True,
            "max_participants": max_participants,
            "exp": unix_seconds(expires_at),
            "eject_at_room_exp": True,  # `exp` alone only blocks new joins
            "enable_knocking": False,
            "enforce_unique_user_ids": True,  # a second join with the same user_id ejects the first
            # Non-owners send camera and microphone, not their screen, until the teacher grants
            # it (`update_permissions`); the owner keeps everything. Which mechanism, per token
            # mode (daily-api.md):
            # - room `permissions`: [doc D-ROOMCFG, §10] works whatever minted the token. USED.
            # - REST-minted token `permissions`: [doc D-TOK, §3] `api` mode only.
            # - self-signed `p` claim: its inner abbreviations are UNCONFIRMED (§4, open items).
            # So no token carries permissions, and both modes behave the same.
            "permissions": {"canSend": list(STUDENT_SENDS)},
        }
        if cloud_recording:
            properties["enable_recording"] = "cloud"
        body = {"name": name, "privacy": "private", "properties": properties}
        deadline = self._transport.deadline()
        try:
            created = self._transport.request(
                DailyCall("POST", "/rooms", "/rooms", body), deadline=deadline
            )
        except DailyAPIError as rejected:
            if rejected.status_code_from_daily != 400:
                raise
            existing = self.get_room(name, deadline=deadline)
            if existing is None:
                raise rejected from None
            logger.info("Daily room %s already existed; create treated as done", name)
            return existing
        return DailyRoom.from_api(created.json())

    def update_room(
        self,
        name: str,
        *,
        max_participants: int | None = None,
        expires_at: datetime | None = None,
        cloud_recording: bool | None = None,
    ) -> DailyRoom:
        """Change only the given properties. A new `exp` does not move the ejection time of
        people already inside: Daily fixes it per participant at join. `cloud_recording=False`
        sends `null`, Daily's way of resetting `enable_recording` to its default (none)."""
        properties: dict[str, Any] = {}
        if max_participants is not None:
            properties["max_participants"] = max_participants
        if expires_at is not None:
            properties["exp"] = unix_seconds(expires_at)
        if cloud_recording is not None:
            properties["enable_recording"] = "cloud" if cloud_recording else None
        if not properties:
            raise ValueError("update_room needs at least one property to change")
        path = _room_path("/rooms/{name}", name)
        response = self._transport.request(
            DailyCall("POST", "/rooms/{name}", path, {"properties": properties})
        )
        return DailyRoom.from_api(response.json())

    def get_room(self, name: str, *, deadline: float | None = None) -> DailyRoom | None:
        """None when Daily has no such room (or its `exp` has passed)."""
        call = DailyCall("GET", "/rooms/{name}", _room_path("/rooms/{name}", name))
        response = self._transport.request(call, allow=(404,), deadline=deadline)
        return None if response.status_code == 404 else DailyRoom.from_api(response.json())

    def delete_room(self, name: str) -> bool:
        """False when Daily has no such room: it answers 404 for missing rooms and for rooms
        whose `exp` passed (already implicitly deleted), so deleting is idempotent.

        Paced (`ROOM_DELETE_INTERVAL_SECONDS`) across every thread of the process. A 429 that
        outlasts the retries raises `DailyUnavailableError` with status 429: see
        `is_rate_limited`; callers treat it as "later", reconcile deletes the room then."""
        call = DailyCall("DELETE", "/rooms/{name}", _room_path("/rooms/{name}", name))
        self._delete_pacer.wait()
        return self._transport.request(call, allow=(404,)).status_code != 404

    def iter_rooms(self, prefix: str) -> Iterator[DailyRoom]:
        """Our rooms (`<prefix>-…`), newest first; the domain may hold other apps' rooms. Pages
        until Daily returns an empty page, since a short page is not documented as the end."""
        starting_after: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": _PAGE_SIZE}
            if starting_after:
                params["starting_after"] = starting_after
            page = self._transport.request(
                DailyCall("GET", "/rooms", "/rooms", params=params)
            ).json()
            rooms = page.get("data") or []
            yield from (
                DailyRoom.from_api(r) for r in rooms if r.get("name", "").startswith(f"{prefix}-")
            )
            last_id = rooms[-1].get("id") if rooms else None
            if not last_id or last_id == starting_after:
                return
            starting_after = last_id

    def eject(self, room_name: str, *, user_ids: list[str], ban: bool) -> list[str]:
        """Remove participants by token `user_id` (`ban` blocks rejoining with it, but only while
        the meeting is active: daily-api.md §10). The only way to end a call early: a changed
        `exp` does not affect people already inside, and deleting a room is not documented to.

        Sent in batches of at most 100, and never with an empty list (Daily refuses one).
        Daily counts absent participants as ejected; a 404 (the room is gone or expired)
        means nobody can be in it, so it is success too."""
        path = _room_path("/rooms/{name}/eject", room_name)
        ejected: list[str] = []
        for start in range(0, len(user_ids), _EJECT_BATCH):
            body: dict[str, Any] = {"user_ids": user_ids[start : start + _EJECT_BATCH]}
            if ban:
                body["ban"] = True
            call = DailyCall("POST", "/rooms/{name}/eject", path, body)
            response = self._transport.request(call, allow=(404,))
            if response.status_code == 404:
                return ejected
            ejected.extend(response.json().get("ejectedIds") or [])
        return ejected

    def iter_meetings(self, room_name: str, *, started_after: datetime) -> Iterator[dict[str, Any]]:
        """The room's meetings (`id`, `start_time`, `ongoing`, …), newest first, paged with
        `starting_after` until an empty page (a short page is not documented as the end)."""
        params: dict[str, str | int] = {
            "room": room_name,
            "timeframe_start": unix_seconds(started_after),
            "limit": _PAGE_SIZE,
            "no_participants": "true",
        }
        while True:
            page = self._transport.request(
                DailyCall("GET", "/meetings", "/meetings", params=params)
            ).json()
            meetings = page.get("data") or []
            yield from meetings
            last_id = meetings[-1].get("id") if meetings else None
            if not last_id or last_id == params.get("starting_after"):
                return
            params["starting_after"] = last_id

    def iter_meeting_participants(self, meeting_id: str) -> Iterator[MeetingAttendance]:
        """Everyone Daily recorded in one meeting, paged with `joined_after=<participant_id>`.
        Daily leaves out joins shorter than 10 s (daily-api.md §7)."""
        if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", meeting_id):
            raise ValueError("a Daily meeting id is letters, digits and dashes")
        path = f"/meetings/{meeting_id}/participants"
        params: dict[str, str | int] = {"limit": _PAGE_SIZE}
        while True:
            call = DailyCall("GET", "/meetings/{id}/participants", path, params=dict(params))
            people = self._transport.request(call).json().get("data") or []
            yield from (MeetingAttendance.from_api(person) for person in people)
            last = people[-1].get("participant_id") if people else None
            if not last or last == params.get("joined_after"):
                return
            params["joined_after"] = last

    def list_webhooks(self) -> list[DailyWebhook]:
        """The domain's webhooks (Daily answers a bare list; some accounts wrap it in `data`)."""
        body = self._transport.request(DailyCall("GET", "/webhooks", "/webhooks")).json()
        items = body.get("data") if isinstance(body, dict) else body
        return [DailyWebhook.from_api(item) for item in items or []]

    def create_webhook(self, settings: dict[str, Any]) -> DailyWebhook:
        """Daily first POSTs `{"test":"test"}` to the URL and answers 400 unless it gets a 200."""
        call = DailyCall("POST", "/webhooks", "/webhooks", settings)
        return DailyWebhook.from_api(self._transport.request(call).json())

    def update_webhook(self, webhook_uuid: str, settings: dict[str, Any]) -> DailyWebhook:
        """Update, and re-activate a FAILED webhook (Daily re-tests the URL first)."""
        if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", webhook_uuid):
            raise ValueError("a Daily webhook uuid is letters, digits and dashes")
        path = f"/webhooks/{webhook_uuid}"
        call = DailyCall("POST", "/webhooks/{uuid}", path, settings)
        return DailyWebhook.from_api(self._transport.request(call).json())

    def get_domain_id(self) -> str:
        """`domain_id` (claim `d` of self-signed tokens) from `GET /` of the API. It is fixed for
        a key, so it is fetched once per process."""
        if self._domain_id is None:
            with self._domain_lock:
                if self._domain_id is None:
                    response = self._transport.request(DailyCall("GET", "/", "/"))
                    self._domain_id = str(response.json()["domain_id"])
        return self._domain_id

    def create_meeting_token(self, properties: dict[str, Any]) -> str:
        call = DailyCall("POST", "/meeting-tokens", "/meeting-tokens", {"properties": properties})
        return str(self._transport.request(call).json()["token"])

    def update_permissions(self, room_name: str, can_send: dict[str, list[str]]) -> None:
        """Change, during the call, what each Daily participant (by participant id) may send
        [doc update-permissions, §2]. It lasts for that participant session only: a rejoin is a
        new participant with the room's permissions. How Daily answers an id no longer in the
        call is UNCONFIRMED; we only name ids whose latest `participant.joined` we hold."""
        path = _room_path("/rooms/{name}/update-permissions", room_name)
        body = {"data": {pid: {"canSend": sends} for pid, sends in can_send.items()}}
        self._transport.request(DailyCall("POST", "/rooms/{name}/update-permissions", path, body))

    def start_recording(self, room_name: str) -> bool:
        """Start a cloud recording; False when Daily answers 400 (our body is fixed, so that is
        the room's state: no meeting, or already recording). Daily limits starts to about
        1 request/s; a 429 that outlasts the retry budget is DailyUnavailableError."""
        path = _room_path("/rooms/{name}/recordings/start", room_name)
        call = DailyCall("POST", "/rooms/{name}/recordings/start", path, {"type": "cloud"})
        return self._transport.request(call, allow=(400,)).status_code != 400

    def stop_recording(self, room_name: str) -> bool:
        """False when nothing was recording: Daily answers that stop with a 400."""
        path = _room_path("/rooms/{name}/recordings/stop", room_name)
        call = DailyCall("POST", "/rooms/{name}/recordings/stop", path, {"type": "cloud"})
        return self._transport.request(call, allow=(400,)).status_code != 400

    def get_recording(self, recording_id: str) -> dict[str, Any] | None:
        path = _recording_path("/recordings/{id}", recording_id)
        call = DailyCall("GET", "/recordings/{id}", path)
        response = self._transport.request(call, allow=(404,))
        return None if response.status_code == 404 else dict(response.json())

    def iter_recordings(self, room_name: str | None = None) -> Iterator[dict[str, Any]]:
        """Recordings newest first, of one room or the whole domain (Daily's ~2 req/s tier)."""
        starting_after: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": _PAGE_SIZE}
            if room_name is not None:
                params["room_name"] = room_name
            if starting_after:
                params["starting_after"] = starting_after
            call = DailyCall("GET", "/recordings", "/recordings", params=params)
            recordings = self._transport.request(call).json().get("data") or []
            yield from recordings
            last_id = recordings[-1].get("id") if recordings else None
            if not last_id or last_id == starting_after:
                return
            starting_after = last_id

    def recording_access_link(self, recording_id: str) -> dict[str, Any] | None:
        """`{download_link, expires}`: a short-lived signed URL, to hand on exactly as it came
        and never store. None when Daily has no such recording."""
        path = _recording_path("/recordings/{id}/access-link", recording_id)
        call = DailyCall("GET", "/recordings/{id}/access-link", path)
        response = self._transport.request(call, allow=(404,))
        return None if response.status_code == 404 else dict(response.json())

    def delete_recording(self, recording_id: str) -> bool:
        """False when Daily had no such recording (already deleted): idempotent."""
        path = _recording_path("/recordings/{id}", recording_id)
        call = DailyCall("DELETE", "/recordings/{id}", path)
        return self._transport.request(call, allow=(404,)).status_code != 404
