"""Building blocks shared by every request and response schema."""

from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.core.errors import ErrorCode


def reject_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text; catching it here makes it a 422, not a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


NUL_FREE = AfterValidator(reject_nul)
# The same rule published in the schema, so a generated client (and schemathesis) knows it.
NUL_FREE_IN_SCHEMA = Field(json_schema_extra={"pattern": r"^[^\u0000]*$"})
SafeStr = Annotated[str, NUL_FREE, NUL_FREE_IN_SCHEMA]


def text_bounds(min_length: int, max_length: int) -> StringConstraints:
    """Stripped, then bounded on both sides; put before `NUL_FREE` in an `Annotated`, so the
    length errors read as a string's ("at least 1 character")."""
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are a client bug, so they are refused."""

    model_config = ConfigDict(extra="forbid")


class ErrorResponse(BaseModel):
    """Every error the API answers: program against `code`, show `detail` to people."""

    detail: str = Field(description="A sentence for people; its wording may change.")
    code: ErrorCode = Field(description="Stable machine-readable error code.")


class FieldError(BaseModel):
    """Where and what, never the submitted value (it could be a password)."""

    loc: list[str | int] = Field(examples=[["body", "title"]])
    msg: str = Field(examples=["String should have at least 1 character"])
    type: str = Field(examples=["string_too_short"])


class ValidationErrorResponse(ErrorResponse):
    """A `validation_error`: the same `detail` and `code`, plus the fields at fault."""

    errors: list[FieldError]


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    total: int
    limit: int
    offset: int
