"""Daily's `/rooms` endpoints. Bodies are parsed by hand rather than with pydantic models so
that errors come out exactly as Daily's (`json-parsing-error`, `invalid-request-error`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from .errors import invalid_request, read_json_object, reject_unknown_keys
from .rooms import MAX_PAGE
from .runtime import EmulatorDep, require_api_key

router = APIRouter(prefix="/v1", dependencies=[Depends(require_api_key)])


def _int_query(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise invalid_request(f"{name} must be an integer") from exc


def _id_list(body: dict[str, Any], name: str) -> list[str]:
    values = body.get(name) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise invalid_request(f"{name} must be an array of strings")
    return values


@router.post("/rooms")
async def create_room(request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    return emulator.rooms.create(await read_json_object(request))


@router.get("/rooms")
def list_rooms(request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    limit = _int_query(request, "limit")
    return emulator.rooms.page(
        MAX_PAGE if limit is None else limit,
        request.query_params.get("starting_after"),
        request.query_params.get("ending_before"),
    )


@router.get("/rooms/{name}")
def get_room(name: str, emulator: EmulatorDep) -> dict[str, Any]:
    return emulator.rooms.get(name)


@router.post("/rooms/{name}")
async def update_room(name: str, request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    return emulator.rooms.update(name, await read_json_object(request))


@router.delete("/rooms/{name}")
def delete_room(name: str, emulator: EmulatorDep) -> dict[str, Any]:
    return emulator.rooms.delete(name)


@router.post("/rooms/{name}/eject")
async def eject(name: str, request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    """`{"ids"|"user_ids": [...], "ban"?: bool}` -> `{"ejectedIds": [...]}` (camelCase, as Daily
    answers although its ruby client names the field `ejected_ids`)."""
    body = await read_json_object(request)
    reject_unknown_keys(body, ("ids", "user_ids", "ban"))
    ids, user_ids = _id_list(body, "ids"), _id_list(body, "user_ids")
    ban = body.get("ban", False)
    if not isinstance(ban, bool):
        raise invalid_request("ban must be a boolean")
    if not ids and not user_ids:
        raise invalid_request("ids or user_ids is required")
    emulator.rooms.get(name)  # 404 for unknown rooms
    return {"ejectedIds": emulator.calls.eject(name, ids, user_ids, ban)}


@router.get("/rooms/{name}/presence")
def room_presence(name: str, request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    return emulator.rooms.presence(
        name,
        _int_query(request, "limit"),
        request.query_params.get("userId"),
        request.query_params.get("userName"),
    )
