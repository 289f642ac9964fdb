"""The API's vocabulary: typed dependency aliases that make route signatures read as sentences."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from anyio import CapacityLimiter
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import LoginIsAForm, TeacherOnly, Unauthorized
from app.core.security import AccessClaims, decode_access_token
from app.db.session import abort_unit_of_work, commit_unit_of_work, has_pending_work
from app.models.user import User, UserRole
from app.services.accounts import users
from app.services.accounts.rate_limits import AbuseGuard
from app.services.attendance.backfill_retries import BackfillRetries
from app.services.daily.client import DailyClient
from app.services.daily.meeting_tokens import MeetingTokenMinter
from app.services.feed.hub import FeedHub
from app.services.feed.messages import FeedMessage
from app.services.feed.stream import LogReader, read_log

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


# Dependencies that only read app state are `async def`: FastAPI runs a sync one in a
# threadpool hop, which on the join path costs more than the work itself. Starlette's
# `app.state` is an untyped namespace, so each reader names the type `app.main` stores.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One unit of work per request: commit when the route returns (before the response is
    sent), roll back when it raises; after waiting for a database slot on the event loop.
    Why each part: docs/unit-of-work.md."""
    slots: asyncio.Semaphore = request.app.state.database_slots  # made by the app's lifespan
    async with slots:
        db = request.app.state.session_factory()
        try:
            yield db
        except BaseException:
            with anyio.CancelScope(shield=True):  # a client hanging up must not skip this
                await anyio.to_thread.run_sync(abort_unit_of_work, db, limiter=CapacityLimiter(1))
            raise
        if not has_pending_work(db):  # the route committed already (see `committed`)
            db.close()
            return
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(commit_unit_of_work, db, limiter=CapacityLimiter(1))


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbSession = Annotated[Session, Depends(get_db, scope="function")]


async def get_access_claims(
    settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> AccessClaims:
    """The bearer token, verified (signature, expiry); the account itself is checked later."""
    if not token:
        raise Unauthorized("Not authenticated.")
    return decode_access_token(token, settings)


AccessClaimsDep = Annotated[AccessClaims, Depends(get_access_claims)]


def get_current_user(db: DbSession, claims: AccessClaimsDep) -> User:
    return users.resolve_user(db, claims)


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_current_teacher(user: CurrentUser) -> User:
    if user.role is not UserRole.TEACHER:
        raise TeacherOnly()
    return user


CurrentTeacher = Annotated[User, Depends(get_current_teacher)]


async def get_daily(request: Request) -> DailyClient:
    daily: DailyClient = request.app.state.daily
    return daily


async def get_token_minter(request: Request) -> MeetingTokenMinter:
    minter: MeetingTokenMinter = request.app.state.token_minter
    return minter


DailyDep = Annotated[DailyClient, Depends(get_daily)]
TokenMinterDep = Annotated[MeetingTokenMinter, Depends(get_token_minter)]


async def get_backfill_retries(request: Request) -> BackfillRetries:
    """The process's scheduler of attendance backfills after a session's end."""
    retries: BackfillRetries = request.app.state.backfill_retries
    return retries


BackfillRetriesDep = Annotated[BackfillRetries, Depends(get_backfill_retries)]


async def get_abuse_guard(request: Request) -> AbuseGuard:
    guard: AbuseGuard = request.app.state.abuse_guard
    return guard


async def get_client_ip(request: Request) -> str:
    """The address uvicorn reports: its --forwarded-allow-ips decides which proxies to trust,
    so X-Forwarded-For is never parsed here."""
    return request.client.host if request.client else "unknown"


AbuseGuardDep = Annotated[AbuseGuard, Depends(get_abuse_guard)]
ClientIp = Annotated[str, Depends(get_client_ip)]


async def get_feed_hub(request: Request) -> FeedHub:
    hub: FeedHub = request.app.state.feed_hub
    return hub


async def get_feed_log_reader(request: Request) -> LogReader:
    """Replays for the feed: a pool connection per read, under the same slots as requests,
    held only for the read (a stream lasts hours; it never keeps a connection)."""
    app = request.app

    async def read(session_id: uuid.UUID, after: int, limit: int) -> list[FeedMessage]:
        slots: asyncio.Semaphore = app.state.database_slots
        async with slots:
            return await anyio.to_thread.run_sync(
                read_log, app.state.session_factory, session_id, after, limit
            )

    return read


FeedHubDep = Annotated[FeedHub, Depends(get_feed_hub)]
FeedLogReader = Annotated[LogReader, Depends(get_feed_log_reader)]
AccessToken = Annotated[str | None, Depends(oauth2_scheme)]


async def refuse_json_form(request: Request) -> None:
    """A form route sent JSON would only hear "field required": say it wants a form.

    Runs before the form's fields are validated (FastAPI solves dependencies first).
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        raise LoginIsAForm()
