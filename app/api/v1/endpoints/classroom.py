"""Classroom controls of a session: its recordings and screen share by invitation."""

import uuid

from fastapi import APIRouter, Path, Response, status
from starlette.concurrency import run_in_threadpool

from app.api.deps import CurrentUser, DailyDep, DbSession
from app.db.types import utcnow
from app.schemas.classroom import (
    RecordingCommand,
    RecordingLink,
    RecordingList,
    ScreenShareState,
    ScreenShareUpdate,
)
from app.schemas.common import error_responses
from app.services.classroom import recordings, screen_share

router = APIRouter(prefix="/sessions", tags=["classroom"])

RecordingId = Path(pattern=r"^[A-Za-z0-9-]{1,64}$", description="Daily's recording id.")


@router.post(
    "/{session_id}/recording/start",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RecordingCommand,
    responses=error_responses(401, 403, 404, 409, 422, 502, 503),
    summary="Start a cloud recording (its teacher; recording manual or automatic)",
)
async def start_recording(
    session_id: uuid.UUID, db: DbSession, user: CurrentUser, daily: DailyDep
) -> RecordingCommand:
    return await run_in_threadpool(
        recordings.start, db, daily=daily, user=user, session_id=session_id, now=utcnow()
    )


@router.post(
    "/{session_id}/recording/stop",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RecordingCommand,
    responses=error_responses(401, 403, 404, 409, 422, 502, 503),
    summary="Stop the cloud recording; 409 not_recording when nothing records",
)
async def stop_recording(
    session_id: uuid.UUID, db: DbSession, user: CurrentUser, daily: DailyDep
) -> RecordingCommand:
    return await run_in_threadpool(
        recordings.stop, db, daily=daily, user=user, session_id=session_id, now=utcnow()
    )


@router.get(
    "/{session_id}/recordings",
    response_model=RecordingList,
    responses=error_responses(401, 403, 404, 422),
    summary="The session's recordings (its teacher and students)",
)
async def list_recordings(session_id: uuid.UUID, db: DbSession, user: CurrentUser) -> RecordingList:
    return await run_in_threadpool(recordings.list_recordings, db, user=user, session_id=session_id)


@router.get(
    "/{session_id}/recordings/{recording_id}/link",
    response_model=RecordingLink,
    responses=error_responses(401, 403, 404, 409, 422, 502, 503),
    summary="A fresh, short-lived download link from Daily (never stored)",
)
async def recording_link(
    session_id: uuid.UUID,
    db: DbSession,
    user: CurrentUser,
    daily: DailyDep,
    recording_id: str = RecordingId,
) -> RecordingLink:
    return await run_in_threadpool(
        recordings.access_link,
        db,
        daily=daily,
        user=user,
        session_id=session_id,
        recording_id=recording_id,
    )


@router.delete(
    "/{session_id}/recordings/{recording_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 422, 502, 503),
    summary="Delete a recording here and at Daily (its teacher only)",
)
async def delete_recording(
    session_id: uuid.UUID,
    db: DbSession,
    user: CurrentUser,
    daily: DailyDep,
    recording_id: str = RecordingId,
) -> Response:
    await run_in_threadpool(
        recordings.delete,
        db,
        daily=daily,
        user=user,
        session_id=session_id,
        recording_id=recording_id,
        now=utcnow(),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/{session_id}/participants/{user_id}/screen-share",
    response_model=ScreenShareState,
    responses=error_responses(401, 403, 404, 409, 422, 502, 503),
    summary="Let one student in the call share their screen, or take it back (its teacher)",
)
async def set_screen_share(
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    body: ScreenShareUpdate,
    db: DbSession,
    user: CurrentUser,
    daily: DailyDep,
) -> ScreenShareState:
    return await run_in_threadpool(
        screen_share.set_screen_share,
        db,
        daily=daily,
        teacher=user,
        session_id=session_id,
        user_id=user_id,
        allowed=body.allowed,
        now=utcnow(),
    )
