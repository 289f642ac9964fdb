import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from app.models.user import UserRole
from app.schemas.common import (
    NOT_BLANK,
    STRIPPED,
    WHITESPACE_CLASS,
    RequestModel,
    text_bounds,
)

FullName = Annotated[str, text_bounds(200, blank=False), STRIPPED, NOT_BLANK]


def _lower(value: str) -> str:
    return value.lower()


Email = Annotated[
    EmailStr,
    Field(
        max_length=320,
        description="Case-insensitive. Domains reserved for special use that cannot receive "
        "mail (such as `.test`, `.local`, `.invalid`) are refused with 422.",
    ),
    AfterValidator(_lower),
]


STRENGTH_RULES = (
    "8 to 128 characters, at least 4 of them different and one not a space, no NUL "
    "character; `pattern` says the same, so a generated client can check it first."
)
# The rule itself, published as the schema's `pattern`: one lookahead finds four distinct
# characters (first occurrences, in order), a second one a character that is not a space. Space
# is spelled out (`WHITESPACE_CLASS`) rather than `\S`, which ECMA-262 and Python read
# differently (U+001C-U+001F, U+0085, U+FEFF); `[\s\S]` is any character in both.
# pydantic's own `pattern` runs on Rust's regex, which has no lookaround, hence the validator.
STRENGTH_PATTERN = (
    r"^(?=[\s\S]*?([\s\S])[\s\S]*?(?!\1)([\s\S])[\s\S]*?(?!\1|\2)([\s\S])"
    r"[\s\S]*?(?!\1|\2|\3)[\s\S])"
    rf"(?=[\s\S]*[^{WHITESPACE_CLASS}])[^\u0000]*$"
)
_STRENGTH = re.compile(STRENGTH_PATTERN)


def _strong_enough(password: str) -> str:
    if "\x00" in password:
        raise ValueError("must not contain NUL characters")
    if not _STRENGTH.match(password):
        raise ValueError("is too weak: use a longer mix of characters")
    return password


Password = Annotated[
    str,
    Field(
        min_length=8,
        max_length=128,
        description=STRENGTH_RULES,
        json_schema_extra={"pattern": STRENGTH_PATTERN},
    ),
    AfterValidator(_strong_enough),
]


class UserCreate(RequestModel):
    email: Email
    password: Password
    full_name: FullName
    role: UserRole

    model_config = RequestModel.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "email": "ada@example.com",
                    "password": "correct horse battery",
                    "full_name": "Ada Lovelace",
                    "role": "teacher",
                }
            ]
        }
    }


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    role: UserRole
    is_active: bool
    created_at: datetime
    updated_at: datetime


class PasswordChange(RequestModel):
    current_password: Annotated[str, Field(min_length=1, max_length=128)]
    new_password: Password
