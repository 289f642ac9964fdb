from fastapi import APIRouter

from app.api.deps import CurrentUser
from app.schemas.common import error_responses
from app.schemas.user import UserRead

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", response_model=UserRead, responses=error_responses(401))
def read_me(user: CurrentUser) -> UserRead:
    return user  # type: ignore[return-value]
