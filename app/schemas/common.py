"""Building blocks shared by every request and response schema."""

from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


def reject_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text; catching it here makes it a 422, not a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


NUL_FREE = AfterValidator(reject_nul)
SafeStr = Annotated[str, NUL_FREE]


def text_bounds(min_length: int, max_length: int) -> StringConstraints:
    """Stripped, then bounded on both sides; put before `NUL_FREE` in an `Annotated`, so the
    length errors read as a string's ("at least 1 character")."""
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are a client bug, so they are refused."""

    model_config = ConfigDict(extra="forbid")


class ErrorResponse(BaseModel):
    detail: str | list[dict[str, object]] = Field(
        description="Human-readable message (a list of field errors for validation_error)."
    )
    code: str = Field(description="Stable machine-readable error code.", examples=["not_found"])


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    total: int
    limit: int
    offset: int


def error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI `responses=` entries so Swagger documents each error a route can give."""
    return {status: {"model": ErrorResponse} for status in statuses}
