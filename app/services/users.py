"""Accounts: registration and sign-in."""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import Conflict, Unauthorized
from app.core.security import (
    AccessToken,
    burn_password_check,
    create_access_token,
    hash_password,
    verify_password,
)
from app.crud import user as user_crud
from app.models.user import User
from app.schemas.user import UserCreate
from app.services.rate_limits import AbuseGuard

INVALID_CREDENTIALS = "Incorrect email or password."


def register(db: Session, payload: UserCreate, *, guard: AbuseGuard, client_ip: str) -> User:
    guard.count_registration(client_ip)
    if user_crud.get_by_email(db, payload.email) is not None:
        raise Conflict("An account with this email already exists.", code="email_taken")
    hashed = hash_password(payload.password)
    try:
        with db.begin_nested():
            return user_crud.create(
                db,
                email=payload.email,
                full_name=payload.full_name,
                hashed_password=hashed,
                role=payload.role,
            )
    except IntegrityError as exc:  # a concurrent registration won the race
        raise Conflict("An account with this email already exists.", code="email_taken") from exc


def authenticate(
    db: Session, *, guard: AbuseGuard, email: str, password: str, client_ip: str
) -> User:
    """Return the user, or raise one 401 whatever was wrong (no account enumeration).

    An unknown e-mail still costs one password verify, so timing tells nothing either.
    """
    guard.ensure_login_allowed(email, client_ip)
    user = user_crud.get_by_email(db, email)
    if user is None:
        burn_password_check(password)
    if user is None or not verify_password(password, user.hashed_password) or not user.is_active:
        guard.record_failed_login(email, client_ip)
        raise Unauthorized(INVALID_CREDENTIALS, code="invalid_credentials")
    return user


def issue_access_token(user: User, settings: Settings) -> AccessToken:
    return create_access_token(user_id=user.id, role=user.role.value, settings=settings)
