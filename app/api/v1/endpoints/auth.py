from typing import Annotated

from fastapi import APIRouter, Form, status

from app.api.deps import AbuseGuardDep, ClientIp, DbSession, SettingsDep
from app.models.user import User
from app.schemas.auth import TokenResponse
from app.schemas.common import SafeStr, error_responses
from app.schemas.user import UserCreate, UserRead
from app.services.accounts import users

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=error_responses(409, 422, 429),
)
def register(payload: UserCreate, db: DbSession, guard: AbuseGuardDep, client_ip: ClientIp) -> User:
    return users.register(db, payload, guard=guard, client_ip=client_ip)


@router.post("/login", response_model=TokenResponse, responses=error_responses(401, 422, 429))
def login(
    db: DbSession,
    settings: SettingsDep,
    guard: AbuseGuardDep,
    client_ip: ClientIp,
    username: Annotated[SafeStr, Form(min_length=1, max_length=320, description="Your email.")],
    password: Annotated[SafeStr, Form(min_length=1, max_length=128)],
) -> TokenResponse:
    """OAuth2 password flow (form fields), so Swagger's Authorize button signs you in."""
    user = users.authenticate(
        db, guard=guard, email=username, password=password, client_ip=client_ip
    )
    access = users.issue_access_token(user, settings)
    return TokenResponse(access_token=access.token, expires_in=access.expires_in)
