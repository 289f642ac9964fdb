"""Everything the emulator remembers: rooms and the domain id (persisted), plus the people
currently "in a call" and their meetings' bans (not persisted: a restarted emulator is a dropped
call, and Daily keeps bans only in memory, while the meeting is active).

One re-entrant lock guards all of it. FastAPI runs sync endpoints on a thread pool and the
eject sweeper runs on its own thread, so even with one event loop state is touched concurrently.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATE_FORMAT = 1


def iso_time(ts: float) -> str:
    """Daily's timestamp format: `2019-01-26T09:01:22.000Z` (UTC, milliseconds)."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Clock:
    """Emulator time is wall time plus an offset, so tests can let tokens and rooms expire
    (or ejections fall due) without sleeping."""

    def __init__(self) -> None:
        self.offset_s = 0.0

    def now(self) -> float:
        return time.time() + self.offset_s


@dataclass
class Room:
    id: str
    name: str
    privacy: str
    created_at: float
    config: dict[str, Any] = field(default_factory=dict)
    api_created: bool = True

    def to_api(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "api_created": self.api_created,
            "privacy": self.privacy,
            "url": f"{base_url}/{self.name}",
            "created_at": iso_time(self.created_at),
            "config": dict(self.config),
        }

    def is_expired(self, now: float) -> bool:
        exp = self.config.get("exp")
        return exp is not None and exp <= now


def may_send_screen(*, owner: bool, enable_screenshare: bool, permissions: dict[str, Any]) -> bool:
    """Daily's rule: the room's and token's `enable_screenshare` must allow it, and for a
    non-owner `canSend` too (permissions bind non-owners only)."""
    if not enable_screenshare:
        return False
    if owner:
        return True
    can_send = permissions.get("canSend", True)
    return can_send is True or (isinstance(can_send, list) and "screenVideo" in can_send)


@dataclass
class Participant:
    id: str
    room: str
    meeting_id: str
    user_id: str
    user_name: str
    owner: bool
    joined_at: float
    will_eject_at: int
    permissions: dict[str, Any]
    enable_screenshare: bool
    sharing_screen: bool = False

    @property
    def may_share_screen(self) -> bool:
        return may_send_screen(
            owner=self.owner,
            enable_screenshare=self.enable_screenshare,
            permissions=self.permissions,
        )

    def presence(self, now: float) -> dict[str, Any]:
        """Shape of one entry of `GET /presence` (camelCase, as Daily sends it)."""
        return {
            "room": self.room,
            "id": self.id,
            "userId": self.user_id,
            "userName": self.user_name,
            "joinTime": iso_time(self.joined_at),
            "duration": int(now - self.joined_at),
        }


@dataclass
class Meeting:
    """One Daily session of a room; `attended` is what `GET /meetings` reports of it: each
    participant who left (Daily's fields: seconds, ints), in the order they joined."""

    id: str
    room: str
    start_ts: float
    end_ts: float | None = None
    max_participants: int = 0
    attended: list[dict[str, Any]] = field(default_factory=list)

    def to_api(self, now: float, in_call: list[Participant]) -> dict[str, Any]:
        ongoing = self.end_ts is None
        return {
            "id": self.id,
            "room": self.room,
            "start_time": int(self.start_ts),
            "duration": int((self.end_ts if self.end_ts is not None else now) - self.start_ts),
            "ongoing": ongoing,
            "max_participants": self.max_participants,
            "participants": self.participants(now, in_call),
        }

    def participants(self, now: float, in_call: list[Participant]) -> list[dict[str, Any]]:
        """Those who left, then (while it runs) those still in, with their time so far."""
        current = [attendance_of(p, now) for p in in_call if p.meeting_id == self.id]
        return sorted(
            [*self.attended, *current], key=lambda p: (p["join_time"], p["participant_id"])
        )


def attendance_of(participant: Participant, left_at: float) -> dict[str, Any]:
    return {
        "user_id": participant.user_id,
        "participant_id": participant.id,
        "user_name": participant.user_name,
        "join_time": int(participant.joined_at),
        "duration": int(left_at - participant.joined_at),
    }


class Store:
    """The emulator's memory; callers hold `lock` while reading or changing it."""

    def __init__(self, state_file: Path | None, default_domain_id: str) -> None:
        self.lock = threading.RLock()
        self.state_file = state_file
        self.domain_id = default_domain_id
        self.rooms: dict[str, Room] = {}
        self.participants: dict[str, Participant] = {}
        self.meetings: dict[str, Meeting] = {}  # room -> its running meeting
        self.meeting_history: list[Meeting] = []  # every meeting, oldest first
        self.bans: dict[str, set[str]] = {}  # room -> banned user_ids, while its meeting runs
        # Why each participant left (`left`, `ejected`, `room-deleted`): what a browser in the
        # call learns when it is taken out. Not persisted, like the calls themselves.
        self.departures: dict[str, str] = {}
        if state_file is not None and state_file.exists():
            self._load(state_file)
        else:
            self.save()

    def in_room(self, room: str) -> list[Participant]:
        people = [p for p in self.participants.values() if p.room == room]
        return sorted(people, key=lambda p: p.joined_at)

    def clear(self) -> None:
        """Forget rooms, calls and bans but keep the domain id: tokens signed for this domain
        by a long-running API process must stay valid across an emulator reset."""
        with self.lock:
            self.rooms.clear()
            self.participants.clear()
            self.meetings.clear()
            self.meeting_history.clear()
            self.bans.clear()
            self.departures.clear()
            self.save()

    def save(self) -> None:
        """Write the persistent part atomically (temp file + os.replace), so a crash mid-write
        never leaves a truncated state file behind."""
        if self.state_file is None:
            return
        with self.lock:
            snapshot = {
                "format": STATE_FORMAT,
                "domain_id": self.domain_id,
                "rooms": [asdict(room) for room in self.rooms.values()],
            }
            directory = self.state_file.parent
            directory.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=".daily-emulator-", dir=directory)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as tmp:
                    json.dump(snapshot, tmp, indent=1, sort_keys=True)
                os.replace(tmp_name, self.state_file)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise

    def _load(self, state_file: Path) -> None:
        try:
            snapshot = json.loads(state_file.read_text(encoding="utf-8"))
            self.domain_id = snapshot["domain_id"]
            rooms = [Room(**room) for room in snapshot.get("rooms", [])]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RuntimeError(f"cannot read emulator state file {state_file}: {exc}") from exc
        self.rooms = {room.name: room for room in sorted(rooms, key=lambda r: r.created_at)}
