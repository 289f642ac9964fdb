"""Who may do what in a Daily room, written into the meeting token each join receives.

Rooms are private, so a token is the only way in. A token is a signed (not encrypted) JWT and
cannot be revoked, so each join gets a fresh, short-lived one. Its `exp` only gates *entry*;
ending a call is the room's `eject_at_room_exp` or an explicit eject. The token sets no eject
property on purpose: any of them would make Daily ignore the room's `eject_at_room_exp`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import jwt

from app.core.config import Settings
from app.services.daily.client import DailyAPIError, DailyClient, api_key_value
from app.services.daily.unix_time import unix_seconds

MAX_TOKEN_LIFETIME = timedelta(hours=4)
MAX_USER_ID_LENGTH = 36  # Daily's limit for token `user_id`; one of our UUIDs fits exactly


@dataclass(frozen=True)
class TokenGrant:
    """One person's right to join one room.

    Every token allows screen share (`ss`), because Daily fixes a token's `ss` for the whole
    meeting and a student may be invited to share during class. What a student may send is
    decided by the room's `permissions` (no screen) and, during the call, by
    `update-permissions`; the owner (teacher) is never restricted by permissions.
    `start_cloud_recording` (teacher of an `automatic` session) starts a cloud recording when
    its holder joins; the room must have `enable_recording: "cloud"`.
    """

    room_name: str
    user_id: str
    user_name: str
    is_owner: bool
    expires_at: datetime
    start_cloud_recording: bool = False

    def __post_init__(self) -> None:
        if not self.user_id or len(self.user_id) > MAX_USER_ID_LENGTH:
            raise ValueError(f"user_id must be 1-{MAX_USER_ID_LENGTH} characters for Daily")
        if self.expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")


def token_expiry(
    now: datetime, room_expires_at: datetime, lifetime: timedelta = MAX_TOKEN_LIFETIME
) -> datetime:
    """At most `lifetime` (four hours at most) ahead and never past the room's `exp`: a token
    outliving its room is useless, and a short one limits the damage of a leaked link or of a
    removal Daily forgot. May be in the past when the room has expired; callers refuse such
    joins before minting."""
    return min(now + min(lifetime, MAX_TOKEN_LIFETIME), room_expires_at)


def grant_properties(grant: TokenGrant) -> dict[str, Any]:
    """Daily's long-form properties for `POST /meeting-tokens`. `room_name` and `exp` are
    always set: without them a token opens every room of the domain, forever."""
    properties: dict[str, Any] = {
        "room_name": grant.room_name,
        "exp": unix_seconds(grant.expires_at),
        "user_id": grant.user_id,
        "user_name": grant.user_name,
        "is_owner": grant.is_owner,
        "enable_screenshare": True,
    }
    if grant.start_cloud_recording:
        properties["start_cloud_recording"] = True
    return properties


def self_signed_claims(grant: TokenGrant, domain_id: str, now: datetime) -> dict[str, Any]:
    """The same grant in Daily's abbreviated claim names, which self-signed tokens must use;
    `r`, `d` (domain id) and `iat` are required by Daily."""
    claims: dict[str, Any] = {
        "r": grant.room_name,
        "d": domain_id,
        "iat": unix_seconds(now),
        "exp": unix_seconds(grant.expires_at),
        "o": grant.is_owner,
        "ss": True,
        "u": grant.user_name,
        "ud": grant.user_id,
    }
    if grant.start_cloud_recording:
        claims["sr"] = True  # Daily's documented abbreviation of start_cloud_recording
    return claims


class MeetingTokenMinter:
    """Issues meeting tokens in the configured `daily_token_mode`.

    `self_signed` (default): an HS256 JWT signed with the Daily API key, which Daily accepts as
    long as that key is active (rotating the key voids outstanding tokens). After the one
    cached domain-id lookup, joins need no call to Daily. `api`: Daily signs it via
    `POST /meeting-tokens`, one round-trip per join, useful if self-signing is ever refused.
    """

    def __init__(self, daily: DailyClient, settings: Settings) -> None:
        self._daily = daily
        self._mode = settings.daily_token_mode
        self.student_token_lifetime = timedelta(minutes=settings.student_token_ttl_minutes)
        self._key = api_key_value(settings)

    def mint(self, grant: TokenGrant, *, now: datetime | None = None) -> str:
        if self._mode == "api":
            return self._daily.create_meeting_token(grant_properties(grant))
        domain_id = self._daily.get_domain_id()  # without a key Daily refuses this first
        if not self._key:
            raise DailyAPIError(None, "authorization-header-error", "DAILY_API_KEY is not set")
        claims = self_signed_claims(grant, domain_id, now or datetime.now(UTC))
        return jwt.encode(claims, self._key, algorithm="HS256")
