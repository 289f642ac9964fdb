from fastapi import APIRouter, Response, status

from app.api.deps import CurrentUser, DbSession
from app.api.responses import BEARER_ERRORS, BODY_ERRORS, error_responses
from app.core.errors import InvalidCurrentPassword
from app.db.types import utcnow
from app.models.user import User
from app.schemas.user import PasswordChange, UserRead
from app.services.accounts import users

router = APIRouter(prefix="/users", tags=["users"])


@router.get(
    "/me",
    response_model=UserRead,
    responses=error_responses(BEARER_ERRORS),
    summary="Read your account",
    description="Any signed-in user, about themselves.",
)
def get_me(user: CurrentUser) -> User:
    return user


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(BEARER_ERRORS, BODY_ERRORS, InvalidCurrentPassword),
    summary="Change your password",
    description="Any signed-in user, for themselves. Every older access token stops working.",
)
def change_password(payload: PasswordChange, db: DbSession, user: CurrentUser) -> Response:
    users.change_password(db, user, payload, utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(BEARER_ERRORS),
    summary="Close your account",
    description="Any signed-in user, for themselves. Its tokens are refused at once.",
)
def close_account(db: DbSession, user: CurrentUser) -> Response:
    users.close_account(db, user, utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
