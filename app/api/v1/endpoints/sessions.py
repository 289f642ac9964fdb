import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from starlette.concurrency import run_in_threadpool

from app.api.deps import (
    AbuseGuardDep,
    AccessClaimsDep,
    BackfillRetriesDep,
    ClientIp,
    CurrentTeacher,
    CurrentUser,
    DailyDep,
    DbSession,
    SettingsDep,
    TokenMinterDep,
)
from app.api.responses import BEARER_ERRORS, BODY_ERRORS, PARAMETER_ERRORS, error_responses
from app.core.errors import (
    BelowSeatedCount,
    CannotRemoveTeacher,
    InvalidStatusTransition,
    NotSessionTeacher,
    ParticipantNotFound,
    ProviderRejected,
    ProviderUnavailable,
    RecordingModeLocked,
    RemovedFromSession,
    RoomCodeNotFound,
    SessionChanged,
    SessionEnded,
    SessionFull,
    SessionInPast,
    SessionNotFound,
    TeacherOnly,
    TooManyRequests,
)
from app.db.session import committed
from app.db.types import utcnow
from app.models.session import SessionStatus
from app.schemas.session import (
    JoinByCode,
    JoinInfo,
    ParticipantList,
    SessionCreate,
    SessionCreated,
    SessionPage,
    SessionRead,
    SessionUpdate,
)
from app.services.attendance import participants
from app.services.sessions import joins
from app.services.sessions import management as sessions

router = APIRouter(prefix="/sessions", tags=["sessions"])

# The routes are `async` and run their service in ONE threadpool hop on purpose. A sync
# route makes FastAPI validate the response in a second hop, while the transaction (and
# a session's row lock) is still open: in a join storm every thread can end up waiting
# for that lock while its holder waits for a thread. Here the hop ends, the response is
# checked on the event loop, and the commit runs on the dependency's own exit thread;
# the two join routes commit inside their hop (`committed`), as their seat holds the lock.


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionCreated,
    responses=error_responses(
        BEARER_ERRORS,
        BODY_ERRORS,
        TeacherOnly,
        SessionInPast,
        ProviderRejected,
        ProviderUnavailable,
    ),
    summary="Create a session and its private Daily room",
    description="Teachers only. Creates the private Daily room first; nothing is saved if "
    "Daily fails. Answers the session with its `room_code` (share it with students) and a "
    "`teacher_join_url`.",
)
async def create_session(
    payload: SessionCreate,
    db: DbSession,
    teacher: CurrentTeacher,
    daily: DailyDep,
    minter: TokenMinterDep,
    settings: SettingsDep,
) -> SessionCreated:
    return await run_in_threadpool(
        sessions.create_session,
        db,
        daily=daily,
        minter=minter,
        settings=settings,
        teacher=teacher,
        payload=payload,
        now=utcnow(),
    )


@router.get(
    "",
    response_model=SessionPage,
    responses=error_responses(BEARER_ERRORS, PARAMETER_ERRORS),
    summary="List the sessions you teach or joined",
    description="Any signed-in user: the sessions they teach or hold a seat in, newest first.",
)
async def list_sessions(
    db: DbSession,
    user: CurrentUser,
    status_filter: Annotated[SessionStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> SessionPage:
    return await run_in_threadpool(
        sessions.list_sessions,
        db,
        user,
        status=status_filter,
        limit=limit,
        offset=offset,
        now=utcnow(),
    )


@router.post(
    "/join-by-code",
    response_model=JoinInfo,
    responses=error_responses(
        BEARER_ERRORS,
        BODY_ERRORS,
        RemovedFromSession,
        RoomCodeNotFound,
        SessionNotFound,
        SessionEnded,
        SessionFull,
        TooManyRequests,
        ProviderRejected,
        ProviderUnavailable,
    ),
    summary="Join a session by its room code",
    description="Any signed-in user. A student is seated (a rejoin keeps the seat); the "
    "session's own teacher gets the owner token. Answers a meeting token for the Daily room.",
)
async def join_session_by_code(
    payload: JoinByCode,
    db: DbSession,
    claims: AccessClaimsDep,
    minter: TokenMinterDep,
    guard: AbuseGuardDep,
    client_ip: ClientIp,
) -> JoinInfo:
    return await run_in_threadpool(
        committed,
        db,
        joins.join_by_code,
        minter=minter,
        guard=guard,
        claims=claims,
        client_ip=client_ip,
        room_code=payload.room_code,
        now=utcnow(),
    )


@router.api_route("/join-by-code", methods=["GET", "PATCH", "DELETE"], include_in_schema=False)
async def join_by_code_other_methods() -> None:
    """405 with `Allow: POST`: without it these methods reach `/{session_id}` and answer 422
    for "join-by-code" not being a UUID."""
    raise HTTPException(status_code=status.HTTP_405_METHOD_NOT_ALLOWED)


@router.get(
    "/{session_id}",
    response_model=SessionRead,
    responses=error_responses(BEARER_ERRORS, PARAMETER_ERRORS, SessionNotFound),
    summary="Read a session",
    description="The session's teacher and its participants.",
)
async def get_session(session_id: uuid.UUID, db: DbSession, user: CurrentUser) -> SessionRead:
    return await run_in_threadpool(sessions.get_session, db, user, session_id, utcnow())


@router.patch(
    "/{session_id}",
    response_model=SessionRead,
    responses=error_responses(
        BEARER_ERRORS,
        BODY_ERRORS,
        NotSessionTeacher,
        SessionNotFound,
        BelowSeatedCount,
        InvalidStatusTransition,
        SessionEnded,
        SessionInPast,
        RecordingModeLocked,
        SessionChanged,
        ProviderRejected,
        ProviderUnavailable,
    ),
    summary="Edit a session",
    description="The session's teacher only. Only the fields sent change; `status` only "
    "moves forward (`ended` ends the session); `max_participants` never below the seated "
    "students; a new schedule or duration moves the room's expiry.",
)
async def update_session(
    session_id: uuid.UUID,
    patch: SessionUpdate,
    db: DbSession,
    user: CurrentUser,
    daily: DailyDep,
    backfills: BackfillRetriesDep,
) -> SessionRead:
    return await run_in_threadpool(
        sessions.update_session,
        db,
        daily=daily,
        user=user,
        session_id=session_id,
        patch=patch,
        now=utcnow(),
        backfill=backfills.after_end,
    )


@router.delete(
    "/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(BEARER_ERRORS, PARAMETER_ERRORS, NotSessionTeacher, SessionNotFound),
    summary="Delete a session and its Daily room",
    description="The session's teacher only.",
)
async def delete_session(
    session_id: uuid.UUID, db: DbSession, user: CurrentUser, daily: DailyDep
) -> Response:
    await run_in_threadpool(
        sessions.delete_session, db, daily=daily, user=user, session_id=session_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{session_id}/end",
    response_model=SessionRead,
    responses=error_responses(BEARER_ERRORS, PARAMETER_ERRORS, NotSessionTeacher, SessionNotFound),
    summary="End a session now",
    description="The session's teacher only. Everyone is ejected from the call, the room "
    "deleted and everyone marked left; attendance is then completed from Daily's own record "
    "of the call in the background. Ending twice is a no-op.",
)
async def end_session(
    session_id: uuid.UUID,
    db: DbSession,
    user: CurrentUser,
    daily: DailyDep,
    backfills: BackfillRetriesDep,
) -> SessionRead:
    return await run_in_threadpool(
        sessions.end_session,
        db,
        daily=daily,
        user=user,
        session_id=session_id,
        now=utcnow(),
        backfill=backfills.after_end,
    )


@router.post(
    "/{session_id}/join",
    response_model=JoinInfo,
    responses=error_responses(
        BEARER_ERRORS,
        PARAMETER_ERRORS,
        RemovedFromSession,
        SessionNotFound,
        SessionEnded,
        SessionFull,
        ProviderRejected,
        ProviderUnavailable,
    ),
    summary="Get a fresh meeting token",
    description="The session's teacher (the first teacher join starts the session) or a "
    "student holding a seat.",
)
async def join_session(
    session_id: uuid.UUID, db: DbSession, claims: AccessClaimsDep, minter: TokenMinterDep
) -> JoinInfo:
    return await run_in_threadpool(
        committed,
        db,
        joins.join_session,
        minter=minter,
        claims=claims,
        session_id=session_id,
        now=utcnow(),
    )


@router.post(
    "/{session_id}/leave",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(BEARER_ERRORS, PARAMETER_ERRORS, SessionNotFound),
    summary="Leave a session",
    description="The session's teacher or a participant: marks the caller as having left.",
)
async def leave_session(session_id: uuid.UUID, db: DbSession, user: CurrentUser) -> Response:
    await run_in_threadpool(joins.leave_session, db, user=user, session_id=session_id, now=utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{session_id}/participants",
    response_model=ParticipantList,
    responses=error_responses(BEARER_ERRORS, PARAMETER_ERRORS, SessionNotFound),
    summary="List a session's participants",
    description="The session's teacher and its participants: the roster.",
)
async def list_participants(
    session_id: uuid.UUID, db: DbSession, user: CurrentUser
) -> ParticipantList:
    return await run_in_threadpool(
        participants.list_participants, db, user=user, session_id=session_id
    )


@router.post(
    "/{session_id}/participants/{user_id}/remove",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(
        BEARER_ERRORS,
        PARAMETER_ERRORS,
        NotSessionTeacher,
        ParticipantNotFound,
        SessionNotFound,
        CannotRemoveTeacher,
        ProviderRejected,
        ProviderUnavailable,
    ),
    summary="Remove a student for good",
    description="The session's teacher only. The seat is freed and the student ejected and "
    "banned from the room; they get no new token (403 `removed_from_session`).",
)
async def remove_participant(
    session_id: uuid.UUID, user_id: uuid.UUID, db: DbSession, user: CurrentUser, daily: DailyDep
) -> Response:
    await run_in_threadpool(
        participants.remove_participant,
        db,
        daily=daily,
        teacher=user,
        session_id=session_id,
        user_id=user_id,
        now=utcnow(),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
