"""Daily's meetings analytics: `GET /v1/meetings` and `GET /v1/meetings/:id/participants`
(daily-api.md §7, §10): times and durations in seconds, newest meeting first, at most 100 a
page (`starting_after=<meeting id>`); participants paged with `joined_after=<participant_id>`.
Unlike Daily, joins shorter than 10 s are reported too (the emulator's calls are scripted)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from .errors import invalid_request, not_found
from .runtime import EmulatorDep, require_api_key

router = APIRouter(prefix="/v1", dependencies=[Depends(require_api_key)])

MAX_LIMIT = 100


def _int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return int(float(raw))
    except ValueError as exc:
        raise invalid_request(f"{name} must be a number") from exc


def _limit(request: Request) -> int:
    limit = _int(request, "limit")
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise invalid_request(f"limit must be between 1 and {MAX_LIMIT}")
    return limit or MAX_LIMIT


def _after(items: list[dict[str, Any]], key: str, cursor: str | None) -> list[dict[str, Any]]:
    if cursor is None:
        return items
    for index, item in enumerate(items):
        if item[key] == cursor:
            return items[index + 1 :]
    raise invalid_request(f"no entry matches cursor '{cursor}'")


@router.get("/meetings")
def list_meetings(request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    room = request.query_params.get("room")
    start, end = _int(request, "timeframe_start"), _int(request, "timeframe_end")
    with emulator.store.lock:
        now = emulator.clock.now()
        everyone = list(emulator.store.participants.values())
        meetings = [
            meeting.to_api(now, everyone)
            for meeting in reversed(emulator.store.meeting_history)
            if (room is None or meeting.room == room)
            and (start is None or meeting.start_ts >= start)
            and (end is None or meeting.start_ts < end)
        ]
    if request.query_params.get("no_participants", "").lower() == "true":
        for meeting in meetings:
            meeting.pop("participants")
    page = _after(meetings, "id", request.query_params.get("starting_after"))[: _limit(request)]
    return {"total_count": len(meetings), "data": page}


@router.get("/meetings/{meeting_id}/participants")
def meeting_participants(
    meeting_id: str, request: Request, emulator: EmulatorDep
) -> dict[str, Any]:
    with emulator.store.lock:
        meeting = next((m for m in emulator.store.meeting_history if m.id == meeting_id), None)
        if meeting is None:
            raise not_found(f"meeting {meeting_id} not found")
        people = meeting.participants(
            emulator.clock.now(), list(emulator.store.participants.values())
        )
    page = _after(people, "participant_id", request.query_params.get("joined_after"))
    return {"total_count": len(people), "data": page[: _limit(request)]}
