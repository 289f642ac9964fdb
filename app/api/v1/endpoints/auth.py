from typing import Annotated

from fastapi import APIRouter, Form, status

from app.api.deps import DbSession, SettingsDep
from app.schemas.auth import TokenResponse
from app.schemas.common import SafeStr, error_responses
from app.schemas.user import UserCreate, UserRead
from app.services import users

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=error_responses(409, 422),
)
def register(payload: UserCreate, db: DbSession) -> UserRead:
    return users.register(db, payload)  # type: ignore[return-value]


@router.post("/login", response_model=TokenResponse, responses=error_responses(401, 422))
def login(
    db: DbSession,
    settings: SettingsDep,
    username: Annotated[SafeStr, Form(min_length=1, max_length=320, description="Your email.")],
    password: Annotated[SafeStr, Form(min_length=1, max_length=128)],
) -> TokenResponse:
    """OAuth2 password flow (form fields), so Swagger's Authorize button signs you in."""
    user = users.authenticate(db, email=username, password=password)
    access = users.issue_access_token(user, settings)
    return TokenResponse(access_token=access.token, expires_in=access.expires_in)
