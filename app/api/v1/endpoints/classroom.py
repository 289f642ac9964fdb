"""Classroom controls of a session: its recordings and screen share by invitation."""

import uuid

from fastapi import APIRouter, Path, Response, status
from starlette.concurrency import run_in_threadpool

from app.api.deps import CurrentUser, DailyDep, DbSession
from app.api.responses import BEARER_ERRORS, BODY_ERRORS, PARAMETER_ERRORS, error_responses
from app.core.errors import (
    NotInCall,
    NotRecording,
    NotSessionTeacher,
    ParticipantNotFound,
    ProviderRejected,
    ProviderUnavailable,
    RecordingDisabled,
    RecordingNotFound,
    RecordingNotReady,
    RecordingNotStarted,
    RemovedFromSession,
    SessionEnded,
    SessionNotFound,
)
from app.db.types import utcnow
from app.schemas.classroom import (
    RecordingCommand,
    RecordingLink,
    RecordingList,
    ScreenShareState,
    ScreenShareUpdate,
)
from app.services.classroom import recordings, screen_share

router = APIRouter(prefix="/sessions", tags=["classroom"])

# What any call to Daily can answer when Daily refuses or cannot be reached.
DAILY_ERRORS = (ProviderRejected, ProviderUnavailable)

RecordingId = Path(pattern=r"^[A-Za-z0-9-]{1,64}$", description="Daily's recording id.")


@router.post(
    "/{session_id}/recording/start",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RecordingCommand,
    responses=error_responses(
        BEARER_ERRORS,
        PARAMETER_ERRORS,
        DAILY_ERRORS,
        NotSessionTeacher,
        SessionNotFound,
        RecordingDisabled,
        RecordingNotStarted,
        SessionEnded,
    ),
    summary="Start a cloud recording",
    description="The session's teacher only, with `recording` manual or automatic and someone "
    "in the call; Daily allows about one start per second (a 429 is a 503 with Retry-After).",
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
    responses=error_responses(
        BEARER_ERRORS,
        PARAMETER_ERRORS,
        DAILY_ERRORS,
        NotSessionTeacher,
        SessionNotFound,
        NotRecording,
    ),
    summary="Stop the cloud recording",
    description="The session's teacher only; 409 `not_recording` when nothing records.",
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
    responses=error_responses(
        BEARER_ERRORS,
        PARAMETER_ERRORS,
        RemovedFromSession,
        SessionNotFound,
    ),
    summary="List the session's recordings",
    description="The session's teacher and its seated students; a removed student gets 403.",
)
async def list_recordings(session_id: uuid.UUID, db: DbSession, user: CurrentUser) -> RecordingList:
    return await run_in_threadpool(recordings.list_recordings, db, user=user, session_id=session_id)


@router.get(
    "/{session_id}/recordings/{recording_id}/link",
    response_model=RecordingLink,
    responses=error_responses(
        BEARER_ERRORS,
        PARAMETER_ERRORS,
        DAILY_ERRORS,
        RemovedFromSession,
        SessionNotFound,
        RecordingNotFound,
        RecordingNotReady,
    ),
    summary="Get a recording's download link",
    description="The session's teacher and its seated students: Daily's access link, fresh "
    "each call and never stored, with its expiry; 409 `recording_not_ready` until it is.",
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
    responses=error_responses(
        BEARER_ERRORS,
        PARAMETER_ERRORS,
        DAILY_ERRORS,
        NotSessionTeacher,
        SessionNotFound,
        RecordingNotFound,
    ),
    summary="Delete a recording",
    description="The session's teacher only; deletes it at Daily too.",
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
    responses=error_responses(
        BEARER_ERRORS,
        BODY_ERRORS,
        PARAMETER_ERRORS,
        DAILY_ERRORS,
        NotSessionTeacher,
        SessionNotFound,
        ParticipantNotFound,
        NotInCall,
        SessionEnded,
    ),
    summary="Grant or take back a student's screen share",
    description="The session's teacher only; the student must be in the call. One student at "
    "a time: a grant to another takes it from the first; a rejoin drops it.",
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
