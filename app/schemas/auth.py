from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.schemas.common import SafeStr


class LoginForm(BaseModel):
    """The OAuth2 password form's fields (what Swagger's Authorize button sends)."""

    username: Annotated[SafeStr, Field(min_length=1, max_length=320, description="Your email.")]
    password: Annotated[SafeStr, Field(min_length=1, max_length=128)]


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int
