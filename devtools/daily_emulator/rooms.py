"""Room rules: names, privacy, properties, pagination and deletion, as Daily applies them.

Kept apart from the routes so the rules read in one place; the routes only parse HTTP.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from typing import Any

from .behaviour import Behaviour
from .calls import CallSimulator
from .errors import invalid_request, not_found, reject_unknown_keys
from .properties import validate_room_properties
from .state import Clock, Room, Store

MAX_NAME_LENGTH = 128
MAX_PAGE = 100
_INVALID_NAME = re.compile(r"[^A-Za-z0-9_-]")
_NAME_ALPHABET = string.ascii_letters + string.digits
PRIVACY = ("public", "private")


def random_room_name() -> str:
    """Daily's generated names are 20 random letters and digits."""
    return "".join(secrets.choice(_NAME_ALPHABET) for _ in range(20))


def check_room_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise invalid_request("name must be a non-empty string")
    if len(name) > MAX_NAME_LENGTH:
        raise invalid_request(f"name is too long (room names can be at most {MAX_NAME_LENGTH})")
    if _INVALID_NAME.search(name):
        raise invalid_request(
            f"{name} contains invalid characters "
            "(room names can contain A-Z, a-z, 0-9, '-', and '_')"
        )
    return name


def _check_privacy(privacy: Any) -> str:
    if privacy not in PRIVACY:
        raise invalid_request("privacy must be one of public, private")
    return str(privacy)


def _merge(config: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Apply changed properties; `null` resets a property to Daily's default (drops it)."""
    merged = dict(config)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


class RoomBook:
    def __init__(
        self,
        store: Store,
        calls: CallSimulator,
        clock: Clock,
        base_url: str,
        behaviour: Behaviour,
    ) -> None:
        self.behaviour = behaviour
        self.store = store
        self.calls = calls
        self.clock = clock
        self.base_url = base_url

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        reject_unknown_keys(body, ("name", "privacy", "properties"))
        name = body.get("name")
        name = random_room_name() if name is None else check_room_name(name)
        privacy = _check_privacy(body.get("privacy") or "public")
        now = self.clock.now()
        properties = validate_room_properties(body.get("properties") or {}, now)
        with self.store.lock:
            if name in self.store.rooms:
                raise invalid_request(f"a room named {name} already exists")
            room = Room(
                id=str(uuid.uuid4()),
                name=name,
                privacy=privacy,
                created_at=now,
                config=_merge({}, properties),
            )
            self.store.rooms[name] = room
            self.store.save()
            return room.to_api(self.base_url)

    def get(self, name: str) -> dict[str, Any]:
        with self.store.lock:
            return self._room(name).to_api(self.base_url)

    def page(
        self, limit: int, starting_after: str | None, ending_before: str | None
    ) -> dict[str, Any]:
        """Newest first by `created_at`, id as tie-breaker; cursors are room ids (or names)."""
        if not 1 <= limit <= MAX_PAGE:
            raise invalid_request(f"limit must be between 1 and {MAX_PAGE}")
        with self.store.lock:
            ordered = sorted(
                self.store.rooms.values(), key=lambda r: (r.created_at, r.id), reverse=True
            )
            if starting_after:
                start = self._cursor(ordered, starting_after) + 1
                page = ordered[start : start + limit]
            elif ending_before == "OLDEST":
                page = ordered[-limit:]
            elif ending_before:
                end = self._cursor(ordered, ending_before)
                page = ordered[max(0, end - limit) : end]
            else:
                page = ordered[:limit]
            return {"total_count": len(ordered), "data": [r.to_api(self.base_url) for r in page]}

    def update(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        reject_unknown_keys(body, ("privacy", "properties"))
        changes = validate_room_properties(body.get("properties") or {}, self.clock.now())
        with self.store.lock:
            room = self._room(name)
            if "privacy" in body:
                room.privacy = _check_privacy(body["privacy"])
            room.config = _merge(room.config, changes)
            self.store.save()
            return room.to_api(self.base_url)

    def delete(self, name: str) -> dict[str, Any]:
        """Daily does not document that deleting a room ejects the people in it, so by default
        they stay in the call; `behaviour.delete_room_ejects` makes the delete end the meeting
        (participants leave, webhooks fire). A room whose `exp` passed counts as already
        deleted: Daily answers 404 plus `deleted: true`."""
        with self.store.lock:
            room = self._room(name)
            if self.behaviour.delete_room_ejects:
                self.calls.end_meeting(name)
            del self.store.rooms[name]
            self.store.bans.pop(name, None)
            self.store.save()
            if room.is_expired(self.clock.now()):
                raise not_found(f"room {name} not found", deleted=True)
        return {"deleted": True, "name": name}

    def presence(
        self, name: str, limit: int | None, user_id: str | None, user_name: str | None
    ) -> dict[str, Any]:
        with self.store.lock:
            self._room(name)
            now = self.clock.now()
            entries = [p.presence(now) for p in self.store.in_room(name)]
        entries = [e for e in entries if user_id in (None, e["userId"])]
        entries = [e for e in entries if user_name in (None, e["userName"])]
        return {"total_count": len(entries), "data": entries[:limit] if limit else entries}

    def _room(self, name: str) -> Room:
        room = self.store.rooms.get(name)
        if room is None:
            raise not_found(f"room {name} not found")
        return room

    @staticmethod
    def _cursor(ordered: list[Room], cursor: str) -> int:
        for index, room in enumerate(ordered):
            if cursor in (room.id, room.name):
                return index
        raise invalid_request(f"no room matches cursor '{cursor}'")
