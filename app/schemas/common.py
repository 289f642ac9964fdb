"""Building blocks shared by every request and response schema."""

from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


def reject_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text; catching it here makes it a 422, not a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


SafeStr = Annotated[str, AfterValidator(reject_nul)]


def bounded_text(min_length: int, max_length: int) -> type[str]:
    """A stripped, NUL-free string whose length is bounded on both sides."""
    return Annotated[  # type: ignore[return-value]
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(reject_nul),
    ]


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
