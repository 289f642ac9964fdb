import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from jose import jwt

from app.services.daily.client import DailyAPIError, DailyClient
from app.services.daily.meeting_tokens import (
    MeetingTokenMinter,
    TokenGrant,
    grant_properties,
    self_signed_claims,
    token_expiry,
)
from tests.services.conftest import API_KEY, make_settings

ROOM = "tutorium-5f0c6b1e-7c1a-4a53-9d55-3b7f2c8d9e10"
TEACHER_ID = "0b6f8a52-3c1e-4f7a-9d2b-6e5c4a3b2f10"
STUDENT_ID = "7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
NOW = datetime(2030, 1, 1, 10, 0, tzinfo=UTC)


def grant(*, is_owner: bool, expires_at: datetime = NOW + timedelta(hours=1)) -> TokenGrant:
    return TokenGrant(
        room_name=ROOM,
        user_id=TEACHER_ID if is_owner else STUDENT_ID,
        user_name="Ada Teacher" if is_owner else "Sam Student",
        is_owner=is_owner,
        expires_at=expires_at,
    )


@pytest.mark.parametrize(
    ("room_expires_at", "expected"),
    [
        (NOW + timedelta(hours=10), NOW + timedelta(hours=4)),
        (NOW + timedelta(hours=4), NOW + timedelta(hours=4)),
        (NOW + timedelta(minutes=30), NOW + timedelta(minutes=30)),
        (NOW - timedelta(minutes=1), NOW - timedelta(minutes=1)),
    ],
)
def test_token_expiry_is_at_most_four_hours_and_never_past_the_room(room_expires_at, expected):
    assert token_expiry(NOW, room_expires_at) == expected


def test_teacher_grant_owns_the_room_and_may_share_the_screen():
    expires_at = NOW + timedelta(hours=1)
    assert grant_properties(grant(is_owner=True, expires_at=expires_at)) == {
        "room_name": ROOM,
        "exp": int(expires_at.timestamp()),
        "user_id": TEACHER_ID,
        "user_name": "Ada Teacher",
        "is_owner": True,
        "enable_screenshare": True,
    }


def test_student_grant_is_not_owner_and_leaves_screen_share_to_room_permissions():
    """Token `ss` is fixed for the meeting; the room's `permissions` keep the screen from
    students until the teacher grants it, so the token must not rule it out."""
    properties = grant_properties(grant(is_owner=False))
    assert (properties["is_owner"], properties["enable_screenshare"]) == (False, True)
    assert "start_cloud_recording" not in properties
    assert properties["user_id"] == STUDENT_ID


def test_grant_refuses_what_daily_would_refuse():
    with pytest.raises(ValueError, match="36"):
        TokenGrant(ROOM, "x" * 37, "Sam", False, NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        TokenGrant(ROOM, STUDENT_ID, "Sam", False, datetime(2030, 1, 1))


def test_self_signed_claims_use_daily_abbreviations():
    claims = self_signed_claims(grant(is_owner=False), "dom-1", NOW)
    assert claims == {
        "r": ROOM,
        "d": "dom-1",
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(hours=1)).timestamp()),
        "o": False,
        "ss": True,
        "u": "Sam Student",
        "ud": STUDENT_ID,
    }


def test_self_signed_token_is_hs256_with_exact_claims_and_one_domain_lookup(
    daily: DailyClient, daily_mock
):
    domain = daily_mock.get("/").respond(json={"domain_name": "tutorium", "domain_id": "dom-1"})
    minter = MeetingTokenMinter(daily, make_settings())
    now = datetime.now(UTC).replace(microsecond=0)
    teacher = grant(is_owner=True, expires_at=now + timedelta(hours=2))

    token = minter.mint(teacher, now=now)
    minter.mint(grant(is_owner=False, expires_at=now + timedelta(hours=2)), now=now)

    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    assert jwt.decode(token, API_KEY, algorithms=["HS256"]) == {
        "r": ROOM,
        "d": "dom-1",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=2)).timestamp()),
        "o": True,
        "ss": True,
        "u": "Ada Teacher",
        "ud": TEACHER_ID,
    }
    assert domain.call_count == 1


def test_api_mode_posts_the_long_form_properties_and_returns_dailys_token(
    make_daily: Callable[..., DailyClient], daily_mock
):
    settings = make_settings(daily_token_mode="api")
    route = daily_mock.post("/meeting-tokens").respond(json={"token": "token-from-daily"})
    student = grant(is_owner=False)

    token = MeetingTokenMinter(make_daily(daily_token_mode="api"), settings).mint(student)

    assert token == "token-from-daily"
    assert json.loads(route.calls[0].request.content) == {"properties": grant_properties(student)}


def test_self_signed_without_a_key_fails_like_daily(
    make_daily: Callable[..., DailyClient], daily_mock
):
    daily_mock.get("/").respond(
        400, json={"error": "authorization-header-error", "info": "missing Bearer token"}
    )
    minter = MeetingTokenMinter(make_daily(daily_api_key=None), make_settings(daily_api_key=None))

    with pytest.raises(DailyAPIError) as caught:
        minter.mint(grant(is_owner=False))

    assert caught.value.status_code == 502
