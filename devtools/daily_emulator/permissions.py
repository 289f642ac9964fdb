"""Participant permissions as Daily applies them, and the screen-share check that uses them.

Daily (shared/daily-api.md §3, §9, §10): `permissions` may be set on the room, on a token
(precedence token > room), and changed during the call with
`POST /rooms/:name/update-permissions` `{"data": {<participant id>|"*": {...}}}`; they apply to
non-owners, and an owner may always send everything. A change lasts for that participant's stay
in the call: a rejoin is a new participant with the room's and token's permissions again.
`startScreenShare()` does nothing unless the room's and the token's `enable_screenshare` allow it
and, for a non-owner, `canSend` includes `screenVideo`.
"""

from __future__ import annotations

from typing import Any

from .errors import invalid_request, not_found, reject_unknown_keys
from .properties import check_permissions
from .state import Room, Store, may_send_screen
from .tokens import MeetingToken


def token_may_send_screen(room: Room, token: MeetingToken | None) -> bool:
    """What a room page can tell before joining: the same rule, from room and token."""
    owner = token.is_owner if token else False
    enabled = room.config.get("enable_screenshare", True) is not False and (
        token.enable_screenshare if token else True
    )
    permissions = {**(room.config.get("permissions") or {})}
    permissions.update((token.claims.get("p") if token else None) or {})
    return may_send_screen(owner=owner, enable_screenshare=enabled, permissions=permissions)


def update_permissions(store: Store, room_name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Daily's `update-permissions`. Ids not in the call are ignored; `*` is every non-owner."""
    reject_unknown_keys(body, ("data",))
    data = body.get("data")
    if not isinstance(data, dict) or not data:
        raise invalid_request("data must be a non-empty object")
    for changes in data.values():
        if not isinstance(changes, dict):
            raise invalid_request("each entry of data must be an object")
        check_permissions(changes)
    with store.lock:
        if room_name not in store.rooms:
            raise not_found(f"room {room_name} not found")
        present = store.in_room(room_name)
        for key, changes in data.items():
            targets = [p for p in present if (key == "*" and not p.owner) or p.id == key]
            for participant in targets:
                participant.permissions = {**participant.permissions, **changes}
    return {"status": "Success"}
