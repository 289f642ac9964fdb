"""The API's vocabulary: typed dependency aliases that make route signatures read as sentences."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import Forbidden, Unauthorized
from app.core.logging import set_current_user_id
from app.core.security import decode_access_token
from app.crud import user as user_crud
from app.db.session import unit_of_work
from app.models.user import User, UserRole
from app.services.daily_client import DailyClient
from app.services.meeting_tokens import MeetingTokenMinter
from app.services.rate_limits import AbuseGuard

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    """One unit of work per request: commit when the route returns, roll back when it raises.

    Used with `scope="function"` so the commit runs before the response is sent:
    a failed commit reaches the client as an error, never as a 200.
    """
    with unit_of_work(request.app.state.session_factory) as db:
        yield db


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbSession = Annotated[Session, Depends(get_db, scope="function")]


def get_current_user(
    db: DbSession, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    if not token:
        raise Unauthorized("Not authenticated.")
    claims = decode_access_token(token, settings)
    user = user_crud.get_by_id(db, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthorized()
    if claims.issued_at < user.password_changed_at.replace(microsecond=0):
        raise Unauthorized("This token was issued before the password changed.")
    set_current_user_id(str(user.id))
    # End the read-only transaction so its connection goes back to the pool now.
    # FastAPI runs this dependency and the route in separate threadpool hops; a
    # connection held across the hop lets a join storm fill every thread with
    # requests waiting for connections held by requests waiting for threads.
    db.commit()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_current_teacher(user: CurrentUser) -> User:
    if user.role is not UserRole.TEACHER:
        raise Forbidden("Only teachers can do this.", code="teacher_only")
    return user


CurrentTeacher = Annotated[User, Depends(get_current_teacher)]


def get_daily(request: Request) -> DailyClient:
    return request.app.state.daily


def get_token_minter(request: Request) -> MeetingTokenMinter:
    return request.app.state.token_minter


DailyDep = Annotated[DailyClient, Depends(get_daily)]
TokenMinterDep = Annotated[MeetingTokenMinter, Depends(get_token_minter)]


def get_abuse_guard(request: Request) -> AbuseGuard:
    return request.app.state.abuse_guard


def get_client_ip(request: Request) -> str:
    """The address uvicorn reports: its --forwarded-allow-ips decides which proxies to trust,
    so X-Forwarded-For is never parsed here."""
    return request.client.host if request.client else "unknown"


AbuseGuardDep = Annotated[AbuseGuard, Depends(get_abuse_guard)]
ClientIp = Annotated[str, Depends(get_client_ip)]
