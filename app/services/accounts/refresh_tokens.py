"""Refresh tokens: a class outlasts an access token, so an app renews it without a password.

Each refresh token works once: a refresh answers a new access token and a new refresh
token of the same family (one login's chain) and spends the old one. A spent token seen
again means two holders (a leak), so the whole family is revoked and both must log in.
Password change and account closing revoke every family of the account.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.security import AccessToken, create_access_token
from app.crud import refresh_token as refresh_crud
from app.crud import user as user_crud
from app.models.user import User

TOKEN_BYTES = 32


@dataclass(frozen=True)
class IssuedRefreshToken:
    token: str
    expires_in: int


@dataclass(frozen=True)
class TokenPair:
    access: AccessToken
    refresh: IssuedRefreshToken


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    db: Session,
    user: User,
    settings: Settings,
    now: datetime,
    *,
    family_id: uuid.UUID | None = None,
) -> IssuedRefreshToken:
    """A new token: a new family at login, the same family when rotating."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    lifetime = timedelta(days=settings.refresh_token_expire_days)
    refresh_crud.create(
        db,
        user_id=user.id,
        family_id=family_id or uuid.uuid4(),
        token_hash=_hash(token),
        expires_at=now + lifetime,
        now=now,
    )
    return IssuedRefreshToken(token=token, expires_in=int(lifetime.total_seconds()))


def token_pair(db: Session, user: User, settings: Settings, now: datetime) -> TokenPair:
    """What a login answers: an access token and the first refresh token of a new family."""
    return TokenPair(
        access=_access_token(user, settings, now), refresh=issue(db, user, settings, now)
    )


def _access_token(user: User, settings: Settings, now: datetime) -> AccessToken:
    return create_access_token(user_id=user.id, role=user.role.value, settings=settings, now=now)


def rotate(db: Session, token: str, settings: Settings, now: datetime) -> TokenPair | None:
    """A new access token and the family's next refresh token, or None to refuse.

    A reused token's family is revoked before None is returned: the caller commits that
    revocation even though it answers an error (see the refresh route).
    """
    stored = refresh_crud.get_by_hash_for_update(db, _hash(token))
    if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
        return None
    if stored.used_at is not None:
        refresh_crud.revoke_family(db, stored.family_id, now)
        return None
    user = user_crud.get_by_id(db, stored.user_id)
    if user is None or not user.is_active:
        return None
    stored.used_at = now
    refresh = issue(db, user, settings, now, family_id=stored.family_id)
    return TokenPair(access=_access_token(user, settings, now), refresh=refresh)


def revoke_all(db: Session, user: User, now: datetime) -> None:
    refresh_crud.revoke_for_user(db, user.id, now)
