from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import RequestModel, SafeStr


class LoginForm(BaseModel):
    """The OAuth2 password form's fields (what Swagger's Authorize button sends)."""

    username: Annotated[SafeStr, Field(min_length=1, max_length=320, description="Your email.")]
    password: Annotated[SafeStr, Field(min_length=1, max_length=128)]


class TokenResponse(BaseModel):
    """Send `access_token` as a bearer token; before it expires (or on `token_expired`),
    trade `refresh_token` at /auth/refresh for a new pair. Each refresh token works once."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(description="Seconds the access token is valid for.")
    refresh_token: str
    refresh_expires_in: int = Field(description="Seconds the refresh token is valid for.")


class RefreshRequest(RequestModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=256)]
