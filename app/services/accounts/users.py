"""Accounts: registration and sign-in."""

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import EmailTaken, InvalidCredentials, InvalidCurrentPassword, Unauthorized
from app.core.logging import set_current_user_id
from app.core.security import (
    AccessClaims,
    burn_password_check,
    hash_password,
    verify_password,
)
from app.crud import user as user_crud
from app.models.user import User
from app.schemas.user import PasswordChange, UserCreate
from app.services.accounts import refresh_tokens
from app.services.accounts.rate_limits import AbuseGuard


def register(db: Session, payload: UserCreate, *, guard: AbuseGuard, client_ip: str) -> User:
    guard.count_registration(client_ip)
    if user_crud.get_by_email(db, payload.email) is not None:
        raise EmailTaken()
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
        raise EmailTaken() from exc


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
        raise InvalidCredentials()
    return user


def resolve_user(db: Session, claims: AccessClaims) -> User:
    """The account behind a verified token: gone, closed, or older than the last password
    change all get the same 401, at once (nothing is cached)."""
    user = user_crud.get_by_id(db, claims.user_id)
    if user is None:
        raise Unauthorized()
    ensure_token_current(
        claims, is_active=user.is_active, password_changed_at=user.password_changed_at
    )
    return user


def ensure_token_current(
    claims: AccessClaims, *, is_active: bool | None, password_changed_at: datetime | None
) -> None:
    """The rule behind `resolve_user`, for callers that read the account's columns in a
    statement of their own (the join path); None for both means there is no such account."""
    if not is_active or password_changed_at is None:
        raise Unauthorized()
    if claims.issued_at < password_changed_at.replace(microsecond=0):
        raise Unauthorized("This token was issued before the password changed.")
    set_current_user_id(str(claims.user_id))


def log_in(
    db: Session,
    *,
    guard: AbuseGuard,
    settings: Settings,
    email: str,
    password: str,
    client_ip: str,
    now: datetime,
) -> refresh_tokens.TokenPair:
    user = authenticate(db, guard=guard, email=email, password=password, client_ip=client_ip)
    return refresh_tokens.token_pair(db, user, settings, now)


def change_password(db: Session, user: User, payload: PasswordChange, now: datetime) -> None:
    """Every access token issued before this instant stops working (see `password_changed_at`),
    and every refresh token is revoked."""
    if not verify_password(payload.current_password, user.hashed_password):
        raise InvalidCurrentPassword()
    user.hashed_password = hash_password(payload.new_password)
    user.password_changed_at = now
    user.updated_at = now
    refresh_tokens.revoke_all(db, user, now)


def close_account(db: Session, user: User, now: datetime) -> None:
    """Deactivate rather than delete: teachers' attendance records keep their rows, and the
    account's tokens (access and refresh) are refused from this request on."""
    user.is_active = False
    user.updated_at = now
    refresh_tokens.revoke_all(db, user, now)
