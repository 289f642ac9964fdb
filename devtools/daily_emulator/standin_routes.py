"""What a browser in a call needs from the emulator: the daily-js stand-in (`standin/daily-js.js`)
as an ES module and as a UMD script, the call state it polls, screen sharing, and the room view
its frame shows.

One source file serves both module formats: the ES module appends `export default`, the UMD
build wraps the same text, so the two can never differ in behaviour.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .errors import invalid_request, read_json_object, reject_unknown_keys
from .room_view import room_view_page
from .runtime import EmulatorDep
from .state import Participant

router = APIRouter(prefix="/_emulator", tags=["daily-js stand-in"])

STANDIN_SOURCE = Path(__file__).parent / "standin" / "daily-js.js"
JS_MEDIA_TYPE = "text/javascript; charset=utf-8"

_UMD_HEAD = "(function (root, factory) {\n"
_UMD_HEAD += "  if (typeof module === 'object' && module.exports) module.exports = factory();\n"
_UMD_HEAD += "  else root.DailyIframe = root.Daily = factory();\n"
_UMD_HEAD += "})(typeof self !== 'undefined' ? self : this, function () {\n"


def participant_view(participant: Participant) -> dict[str, Any]:
    """One participant as the stand-in and the room view read it."""
    return {
        "participant_id": participant.id,
        "user_id": participant.user_id,
        "user_name": participant.user_name,
        "owner": participant.owner,
        "joined_at": participant.joined_at,
        "will_eject_at": participant.will_eject_at,
        "permissions": dict(participant.permissions),
        "sharing_screen": participant.sharing_screen,
    }


@router.get("/daily-js.mjs", include_in_schema=False)
def standin_module() -> Response:
    source = STANDIN_SOURCE.read_text(encoding="utf-8")
    return Response(f"{source}\nexport default DailyIframe;\n", media_type=JS_MEDIA_TYPE)


@router.get("/daily-js.js", include_in_schema=False)
def standin_umd() -> Response:
    source = STANDIN_SOURCE.read_text(encoding="utf-8")
    return Response(f"{_UMD_HEAD}{source}\nreturn DailyIframe;\n}});\n", media_type=JS_MEDIA_TYPE)


@router.get("/rooms/{name}/call")
def call_state(
    name: str, emulator: EmulatorDep, participant_id: str | None = None
) -> dict[str, Any]:
    """Who is in the room and sharing; with `participant_id`, also why that participant is gone
    (`departure`: `left`, `ejected`, `room-deleted`; null while they are in)."""
    store = emulator.store
    with store.lock:
        return {
            "room": name,
            "room_exists": name in store.rooms,
            "participants": [participant_view(p) for p in store.in_room(name)],
            "departure": store.departures.get(participant_id) if participant_id else None,
        }


@router.post("/rooms/{name}/screen-share")
async def screen_share(name: str, request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    """`{"participant_id", "sharing": bool}`; answers `{"sharing"}`: false when the participant
    may not share (room or token `enable_screenshare` off, or `canSend` without `screenVideo`)."""
    body = await read_json_object(request)
    reject_unknown_keys(body, ("participant_id", "sharing"))
    participant_id, sharing = body.get("participant_id"), body.get("sharing")
    if not isinstance(participant_id, str) or not isinstance(sharing, bool):
        raise invalid_request("participant_id (string) and sharing (boolean) are required")
    return {"sharing": emulator.calls.share_screen(name, participant_id, sharing)}


@router.get("/rooms/{name}/view", include_in_schema=False)
def room_view(name: str, participant_id: str = "") -> Response:
    return room_view_page(name, participant_id)
