"""The API's vocabulary: typed dependency aliases that make route signatures read as sentences."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Annotated
from weakref import WeakKeyDictionary

import anyio
from anyio import CapacityLimiter
from fastapi import Depends, FastAPI, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import TeacherOnly, Unauthorized
from app.core.security import AccessClaims, decode_access_token
from app.db.session import abort_unit_of_work, commit_unit_of_work, has_pending_work
from app.models.user import User, UserRole
from app.services.accounts import users
from app.services.accounts.rate_limits import AbuseGuard
from app.services.daily.client import DailyClient
from app.services.daily.meeting_tokens import MeetingTokenMinter
from app.services.feed.hub import FeedHub
from app.services.feed.messages import FeedMessage
from app.services.feed.stream import LogReader, read_log

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


# Dependencies that only read app state are `async def`: FastAPI runs a sync one in a
# threadpool hop, which on the join path costs more than the work itself.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One unit of work per request: commit when the route returns, roll back when it raises.

    Used with `scope="function"` so the commit runs before the response is sent: a
    failed commit reaches the client as an error, never as a 200.

    A request first waits, on the event loop, for one of as many slots as the pool has
    connections. Without that, a rush (every student signing in at the start of class)
    fills the threadpool with requests blocked on the pool while the requests holding
    the connections wait for a thread to finish on: nothing moves until the pool times
    out. The session is made on the loop (it opens no connection until first used);
    commit and rollback run in a thread with a limiter of their own, as FastAPI does for
    sync dependencies' exits, so a request holding a row lock never waits for a thread.
    """
    async with _database_slots(request.app):
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


def _database_slots(app: FastAPI) -> asyncio.Semaphore:
    """One semaphore per event loop (tests run an app on several loops in turn)."""
    loop = asyncio.get_running_loop()
    slots: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
        app.state.database_slots
    )
    if loop not in slots:
        settings: Settings = app.state.settings
        slots[loop] = asyncio.Semaphore(
            settings.database_pool_size + settings.database_max_overflow
        )
    return slots[loop]


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
    return request.app.state.daily


async def get_token_minter(request: Request) -> MeetingTokenMinter:
    return request.app.state.token_minter


DailyDep = Annotated[DailyClient, Depends(get_daily)]
TokenMinterDep = Annotated[MeetingTokenMinter, Depends(get_token_minter)]


async def get_abuse_guard(request: Request) -> AbuseGuard:
    return request.app.state.abuse_guard


async def get_client_ip(request: Request) -> str:
    """The address uvicorn reports: its --forwarded-allow-ips decides which proxies to trust,
    so X-Forwarded-For is never parsed here."""
    return request.client.host if request.client else "unknown"


AbuseGuardDep = Annotated[AbuseGuard, Depends(get_abuse_guard)]
ClientIp = Annotated[str, Depends(get_client_ip)]


async def get_feed_hub(request: Request) -> FeedHub:
    return request.app.state.feed_hub


async def get_feed_log_reader(request: Request) -> LogReader:
    """Replays for the feed: a pool connection per read, under the same slots as requests,
    held only for the read (a stream lasts hours; it never keeps a connection)."""
    app = request.app

    async def read(session_id: uuid.UUID, after: int, limit: int) -> list[FeedMessage]:
        async with _database_slots(app):
            return await anyio.to_thread.run_sync(
                read_log, app.state.session_factory, session_id, after, limit
            )

    return read


FeedHubDep = Annotated[FeedHub, Depends(get_feed_hub)]
FeedLogReader = Annotated[LogReader, Depends(get_feed_log_reader)]
AccessToken = Annotated[str | None, Depends(oauth2_scheme)]
