from typing import Annotated

from fastapi import APIRouter, Depends, Form, status

from app.api.deps import AbuseGuardDep, ClientIp, DbSession, SettingsDep, refuse_json_form
from app.api.responses import BODY_ERRORS, error_responses
from app.core.errors import EmailTaken, InvalidCredentials, LoginIsAForm, TooManyRequests
from app.models.user import User
from app.schemas.auth import LoginForm, TokenResponse
from app.schemas.user import UserCreate, UserRead
from app.services.accounts import users

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
    user = users.authenticate(
        db, guard=guard, email=form.username, password=form.password, client_ip=client_ip
    )
    access = users.issue_access_token(user, settings)
    return TokenResponse(access_token=access.token, expires_in=access.expires_in)
