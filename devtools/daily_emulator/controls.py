"""Test controls under `/_emulator/`: simulate people in calls, inspect and replay webhooks,
inject faults, read the request log, move the clock, reset.

No authentication: this is a local development tool, and tests should not need the API key to
drive it. Waiting endpoints are sync functions so they block a pool thread, not the event loop.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from .errors import invalid_request, not_found, read_json_object, reject_unknown_keys
from .runtime import EmulatorDep
from .standin_routes import participant_view

router = APIRouter(prefix="/_emulator", tags=["emulator controls"])

MAX_WAIT_S = 60.0


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid_request(f"{name} must be a string")
    return value


def _timeout(request: Request, default: float) -> float:
    try:
        return min(float(request.query_params.get("timeout", default)), MAX_WAIT_S)
    except ValueError as exc:
        raise invalid_request("timeout must be a number of seconds") from exc


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


@router.get("")
def info(emulator: EmulatorDep) -> dict[str, Any]:
    config = emulator.config
    return {
        "emulator": "daily",
        "api_url": config.api_url,
        "public_url": config.base_url,
        "domain_name": config.domain_name,
        "domain_id": emulator.store.domain_id,
        "webhook_url": config.webhook_url,
        "latency_ms": config.latency_ms,
        "state_file": str(config.state_file) if config.state_file else None,
    }


@router.post("/rooms/{name}/join")
async def join(name: str, request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    """Admit the holder of `token` (optional in public rooms) as a new participant.
    `user_name`/`user_id` only apply when the token does not set them."""
    body = await read_json_object(request)
    reject_unknown_keys(body, ("token", "user_name", "user_id"))
    return emulator.calls.join(
        name,
        _optional_str(body, "token"),
        user_name=_optional_str(body, "user_name"),
        user_id=_optional_str(body, "user_id"),
    )


@router.post("/rooms/{name}/leave")
async def leave(name: str, request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    body = await read_json_object(request)
    reject_unknown_keys(body, ("participant_id",))
    participant_id = _optional_str(body, "participant_id")
    if not participant_id:
        raise invalid_request("participant_id is required")
    return emulator.calls.leave(name, participant_id)


@router.get("/rooms/{name}/participants")
def participants(name: str, emulator: EmulatorDep) -> dict[str, Any]:
    with emulator.store.lock:
        return {"data": [participant_view(p) for p in emulator.store.in_room(name)]}


@router.get("/webhooks")
def webhooks(request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    """The delivery log; `?wait_idle=1[&timeout=S]` first waits for the queue to drain."""
    idle = True
    if _flag(request, "wait_idle"):
        idle = emulator.outbox.wait_idle(_timeout(request, 10.0))
    return {
        "idle": idle,
        "pending": emulator.outbox.pending(),
        "data": emulator.outbox.deliveries(),
    }


@router.post("/webhooks/flush")
def flush_webhooks(request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    """Block until every queued event was delivered or failed for good (`?timeout=S`)."""
    idle = emulator.outbox.wait_idle(_timeout(request, 10.0))
    return {"idle": idle, "pending": emulator.outbox.pending()}


@router.post("/webhooks/{event_id}/redeliver")
def redeliver(event_id: str, request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    delivery = emulator.outbox.redeliver(event_id, new_id=_flag(request, "new_id"))
    if delivery is None:
        raise not_found(f"webhook event {event_id} not found")
    return delivery.to_api()


@router.get("/behaviour")
def get_behaviour(emulator: EmulatorDep) -> dict[str, Any]:
    return emulator.behaviour.to_api()


@router.post("/behaviour")
async def set_behaviour(request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    """Switch behaviours Daily does not promise, e.g. `{"delete_room_ejects": true}`."""
    emulator.behaviour.update(await read_json_object(request))
    return emulator.behaviour.to_api()


@router.post("/faults")
async def add_fault(request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    return emulator.faults.add(await read_json_object(request)).to_api()


@router.get("/faults")
def list_faults(emulator: EmulatorDep) -> dict[str, Any]:
    return {"data": emulator.faults.snapshot()}


@router.delete("/faults")
def clear_faults(emulator: EmulatorDep) -> dict[str, Any]:
    emulator.faults.clear()
    return {"cleared": True}


@router.get("/requests")
def list_requests(emulator: EmulatorDep) -> dict[str, Any]:
    return {"data": emulator.requests.snapshot()}


@router.delete("/requests")
def clear_requests(emulator: EmulatorDep) -> dict[str, Any]:
    emulator.requests.clear()
    return {"cleared": True}


@router.get("/clock")
def get_clock(emulator: EmulatorDep) -> dict[str, float]:
    return {"now": emulator.clock.now(), "offset_s": emulator.clock.offset_s}


@router.post("/clock")
async def set_clock(request: Request, emulator: EmulatorDep) -> dict[str, float]:
    """`{"advance_s": N}` or `{"offset_s": N}`: shift emulator time (tokens, rooms, ejections);
    participants whose ejection falls due are ejected at once."""
    body = await read_json_object(request)
    reject_unknown_keys(body, ("advance_s", "offset_s"))
    for name in ("advance_s", "offset_s"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise invalid_request(f"{name} must be a number")
    if body.get("offset_s") is not None:
        emulator.clock.offset_s = float(body["offset_s"])
    emulator.clock.offset_s += float(body.get("advance_s") or 0)
    emulator.calls.sweep()
    return {"now": emulator.clock.now(), "offset_s": emulator.clock.offset_s}


@router.post("/reset")
def reset(emulator: EmulatorDep) -> dict[str, Any]:
    """Forget rooms, calls, bans, webhooks, faults, requests and behaviour switches; keep
    config and domain id."""
    emulator.reset()
    return {"reset": True, "domain_id": emulator.store.domain_id}
