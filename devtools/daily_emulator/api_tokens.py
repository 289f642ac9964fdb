"""Daily's domain config, presence and `/meeting-tokens` endpoints.

The domain id returned by `GET /v1/` is what self-signed tokens must carry in `d`, which is why
it is stable across restarts (persisted, or derived from the API key).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from .errors import JoinRefused, invalid_request, read_json_object, reject_unknown_keys
from .properties import validate_token_properties
from .runtime import EmulatorDep, require_api_key
from .tokens import mint_token, verify_token

router = APIRouter(prefix="/v1", dependencies=[Depends(require_api_key)])


@router.get("")
@router.get("/")
def domain_config(emulator: EmulatorDep) -> dict[str, Any]:
    """`GET /v1` and `GET /v1/` both answer: Daily's own self-signing code calls the former."""
    return {
        "domain_name": emulator.config.domain_name,
        "domain_id": emulator.store.domain_id,
        "config": {},
    }


@router.get("/presence")
def presence(emulator: EmulatorDep) -> dict[str, list[dict[str, Any]]]:
    now = emulator.clock.now()
    grouped: dict[str, list[dict[str, Any]]] = {}
    with emulator.store.lock:
        people = sorted(emulator.store.participants.values(), key=lambda p: p.joined_at)
        for participant in people:
            grouped.setdefault(participant.room, []).append(participant.presence(now))
    return grouped


@router.post("/meeting-tokens")
async def create_meeting_token(request: Request, emulator: EmulatorDep) -> dict[str, str]:
    body = await read_json_object(request)
    reject_unknown_keys(body, ("properties",))
    now = emulator.clock.now()
    properties = validate_token_properties(body.get("properties") or {}, now)
    token = mint_token(
        properties, api_key=emulator.config.api_key, domain_id=emulator.store.domain_id, now=now
    )
    return {"token": token}


@router.get("/meeting-tokens/{token}")
def validate_meeting_token(token: str, request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    """Valid for REST-minted and self-signed tokens alike; anything else is a 400."""
    ignore_nbf = request.query_params.get("ignoreNbf", "").lower() in ("true", "1")
    try:
        verified = verify_token(
            token,
            api_key=emulator.config.api_key,
            domain_id=emulator.store.domain_id,
            now=emulator.clock.now(),
            ignore_nbf=ignore_nbf,
        )
    except JoinRefused as exc:
        raise invalid_request(exc.msg) from exc
    return verified.long_form()
