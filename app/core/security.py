"""Passwords and access tokens.

Argon2 through passlib: passlib's bcrypt path breaks on bcrypt 5, so bcrypt is
kept out entirely. JWTs are HS256 only, and decoding names the algorithm list
explicitly, which is what refuses `alg: none` and algorithm-confusion tokens.
"""

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from jose import ExpiredSignatureError, JWTError, jwt
from passlib.context import CryptContext

from app.core.config import Settings
from app.core.errors import TokenExpired, Unauthorized

JWT_ALGORITHM = "HS256"

password_context = CryptContext(schemes=["argon2"], deprecated="auto")


def hash_password(password: str) -> str:
    return password_context.hash(password)


def verify_password(password: str, hashed_password: str) -> bool:
    return password_context.verify(password, hashed_password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    """Spend one verify on nothing, so an unknown e-mail costs what a wrong password does."""
    password_context.verify(password, _dummy_hash())


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    role: str
    issued_at: datetime


def create_access_token(
    *, user_id: uuid.UUID, role: str, settings: Settings, now: datetime | None = None
) -> AccessToken:
    issued = now or datetime.now(UTC)
    lifetime = timedelta(minutes=settings.access_token_expire_minutes)
    claims = {
        "sub": str(user_id),
        "role": role,
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
    }
    token = jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=JWT_ALGORITHM)
    return AccessToken(token=token, expires_in=int(lifetime.total_seconds()))


def decode_access_token(token: str, settings: Settings) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            options={"require_exp": True, "require_iat": True, "require_sub": True},
        )
        return AccessClaims(
            user_id=uuid.UUID(str(claims["sub"])),
            role=str(claims.get("role", "")),
            issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC),
        )
    except ExpiredSignatureError as exc:  # checked after the signature: the token is ours
        raise TokenExpired() from exc
    except (JWTError, KeyError, ValueError, TypeError) as exc:
        raise Unauthorized() from exc
