"""Daily's recording endpoints and `update-permissions`, plus the controls that stand in for
what a browser would do with them (download a recording, try to share a screen)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from . import permissions
from .errors import invalid_request, read_json_object, reject_unknown_keys
from .recordings import MAX_PAGE, MEDIA_TYPE
from .runtime import EmulatorDep, require_api_key

router = APIRouter(prefix="/v1", dependencies=[Depends(require_api_key)])
controls = APIRouter(prefix="/_emulator", tags=["emulator controls"])


@router.post("/rooms/{name}/recordings/start")
async def start_recording(name: str, request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    return emulator.recordings.start(name, await read_json_object(request))


@router.post("/rooms/{name}/recordings/stop")
async def stop_recording(name: str, request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    return emulator.recordings.stop(name, await read_json_object(request))


@router.post("/rooms/{name}/update-permissions")
async def update_permissions(name: str, request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    return permissions.update_permissions(emulator.store, name, await read_json_object(request))


@router.get("/recordings")
def list_recordings(request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    raw_limit = request.query_params.get("limit", str(MAX_PAGE))
    if not raw_limit.isdigit():
        raise invalid_request("limit must be an integer")
    return emulator.recordings.page(
        request.query_params.get("room_name"),
        int(raw_limit),
        request.query_params.get("starting_after"),
    )


@router.get("/recordings/{recording_id}")
def get_recording(recording_id: str, emulator: EmulatorDep) -> dict[str, Any]:
    return emulator.recordings.get(recording_id)


@router.delete("/recordings/{recording_id}")
def delete_recording(recording_id: str, emulator: EmulatorDep) -> dict[str, Any]:
    return emulator.recordings.delete(recording_id)


@router.get("/recordings/{recording_id}/access-link")
def access_link(recording_id: str, emulator: EmulatorDep) -> dict[str, Any]:
    return emulator.recordings.access_link(recording_id)


@controls.get("/recordings/{recording_id}/download")
def download(
    recording_id: str,
    emulator: EmulatorDep,
    expires: str | None = None,
    signature: str | None = None,
) -> Response:
    """The access link's target: no API key, only the link's signature and expiry."""
    media = emulator.recordings.download(recording_id, expires, signature)
    return Response(media, media_type=MEDIA_TYPE)


@controls.post("/recordings/{recording_id}/fail")
async def fail_recording(
    recording_id: str, request: Request, emulator: EmulatorDep
) -> dict[str, Any]:
    body = await read_json_object(request)
    reject_unknown_keys(body, ("error_msg",))
    message = body.get("error_msg", "recording failed")
    if not isinstance(message, str):
        raise invalid_request("error_msg must be a string")
    return emulator.recordings.fail(recording_id, message)
