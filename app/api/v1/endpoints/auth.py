from typing import Annotated

from fastapi import APIRouter, Depends, Form, status

from app.api.deps import AbuseGuardDep, ClientIp, DbSession, SettingsDep, refuse_json_form
from app.api.responses import BODY_ERRORS, error_responses
from app.core.errors import (
    EmailTaken,
    InvalidCredentials,
    InvalidRefreshToken,
    LoginIsAForm,
    TooManyRequests,
)
from app.db.session import committed
from app.db.types import utcnow
from app.models.user import User
from app.schemas.auth import LoginForm, RefreshRequest, TokenResponse
from app.schemas.user import UserCreate, UserRead
from app.services.accounts import refresh_tokens, users
from app.services.accounts.refresh_tokens import TokenPair

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=error_responses(BODY_ERRORS, EmailTaken, TooManyRequests),
    summary="Create an account",
    description="Anyone; no token. Choose `teacher` or `student` once, here.",
)
def register(payload: UserCreate, db: DbSession, guard: AbuseGuardDep, client_ip: ClientIp) -> User:
    return users.register(db, payload, guard=guard, client_ip=client_ip)


@router.post(
    "/login",
    response_model=TokenResponse,
    responses=error_responses(BODY_ERRORS, LoginIsAForm, InvalidCredentials, TooManyRequests),
    dependencies=[Depends(refuse_json_form)],
    summary="Log in",
    description="Anyone; no token. An OAuth2 password form "
    "(`application/x-www-form-urlencoded`: `username` is your email), so Swagger's "
    "Authorize button signs you in.",
)
def login(
    db: DbSession,
    settings: SettingsDep,
    guard: AbuseGuardDep,
    client_ip: ClientIp,
    form: Annotated[LoginForm, Form()],
) -> TokenResponse:
    tokens = users.log_in(
        db,
        guard=guard,
        settings=settings,
        email=form.username,
        password=form.password,
        client_ip=client_ip,
        now=utcnow(),
    )
    return _token_response(tokens)


@router.post(
    "/refresh",
    response_model=TokenResponse,
    responses=error_responses(BODY_ERRORS, InvalidRefreshToken),
    summary="Renew your tokens",
    description="Anyone holding a refresh token; no bearer token needed. Answers a new access "
    "token and a new refresh token; the one sent is spent. Sending a spent one again revokes "
    "every token of that login (`invalid_refresh_token`: log in again).",
)
def refresh(payload: RefreshRequest, db: DbSession, settings: SettingsDep) -> TokenResponse:
    # Committed before answering, even when refusing: a reused token's family revocation
    # must stick although the answer is an error.
    tokens = committed(
        db, refresh_tokens.rotate, token=payload.refresh_token, settings=settings, now=utcnow()
    )
    if tokens is None:
        raise InvalidRefreshToken()
    return _token_response(tokens)


def _token_response(tokens: TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=tokens.access.token,
        expires_in=tokens.access.expires_in,
        refresh_token=tokens.refresh.token,
        refresh_expires_in=tokens.refresh.expires_in,
    )
