import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from app.models.user import UserRole
from app.schemas.common import NUL_FREE, RequestModel, text_bounds

FullName = Annotated[str, text_bounds(1, 200), NUL_FREE]


def _lower(value: str) -> str:
    return value.lower()


Email = Annotated[EmailStr, Field(max_length=320), AfterValidator(_lower)]


STRENGTH_RULES = (
    "8 to 128 characters, at least 4 of them different, no NUL character "
    "(checked by the server; a weak password is a 422 validation_error)."
)
Password = Annotated[
    str,
    Field(min_length=8, max_length=128, pattern=r"^[^\u0000]*$", description=STRENGTH_RULES),
]


def _strong_enough(password: str) -> str:
    if password.strip() == "" or len(set(password)) < 4:
        raise ValueError("is too weak: use a longer mix of characters")
    return password


NewPassword = Annotated[Password, NUL_FREE, AfterValidator(_strong_enough)]


class UserCreate(RequestModel):
    email: Email
    password: NewPassword
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
    new_password: NewPassword
