"""Building blocks shared by every request and response schema."""

from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.errors import ErrorCode


def reject_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text; catching it here makes it a 422, not a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


NUL_FREE = AfterValidator(reject_nul)
# The same rule published in the schema, so a generated client (and schemathesis) knows it.
NUL_FREE_PATTERN = r"^[^\u0000]*$"
NUL_FREE_IN_SCHEMA = Field(json_schema_extra={"pattern": NUL_FREE_PATTERN})
SafeStr = Annotated[str, NUL_FREE, NUL_FREE_IN_SCHEMA]


# Exactly the characters `str.isspace()` accepts (what `str.strip()` removes), spelled out so
# the published pattern names the same ones: JSON Schema's `\s` is ECMA-262's, which differs
# from Python's (U+001C-U+001F, U+0085, U+FEFF).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(chr(code) for code in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
WHITESPACE_CLASS = "".join(f"\\u{ord(char):04x}" for char in WHITESPACE)
NOT_BLANK_PATTERN = rf"^[^\u0000]*[^\u0000{WHITESPACE_CLASS}][^\u0000]*$"


def _stripped(value: str) -> str:
    return reject_nul(value).strip(WHITESPACE)


def _not_blank(value: str) -> str:
    if not value:
        raise ValueError("must contain something other than spaces")
    return value


STRIPPED = AfterValidator(_stripped)
NOT_BLANK = AfterValidator(_not_blank)


def text_bounds(max_length: int, *, blank: bool) -> Any:
    """Free text: at most `max_length` characters as sent (the limit the schema publishes;
    stripping never turns a refused string into an accepted one), stored without surrounding
    whitespace. Unless `blank`, there must be something else: the schema says so with a
    pattern, and `NOT_BLANK` must follow `STRIPPED` in the `Annotated`."""
    if blank:
        return Field(max_length=max_length, json_schema_extra={"pattern": NUL_FREE_PATTERN})
    return Field(
        min_length=1, max_length=max_length, json_schema_extra={"pattern": NOT_BLANK_PATTERN}
    )


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
