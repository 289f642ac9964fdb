"""The join info a caller is handed: the room, its URL and a meeting token carrying the role.

Both a join and a session's creation (the teacher's own join info) answer it, so it lives
apart from either.
"""

import uuid
from datetime import datetime
from typing import Protocol

from app.models.participant import ParticipantRole
from app.schemas.session import JoinInfo
from app.services.daily.meeting_tokens import (
    MAX_TOKEN_LIFETIME,
    MeetingTokenMinter,
    TokenGrant,
    token_expiry,
)


class Room(Protocol):
    """What a token is minted for: a session row, or a join's `JoinTarget`."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def room_name(self) -> str: ...
    @property
    def room_url(self) -> str: ...
    @property
    def expires_at(self) -> datetime: ...


def issue_join_info(
    minter: MeetingTokenMinter,
    session: Room,
    *,
    user_id: uuid.UUID,
    user_name: str,
    is_owner: bool,
    now: datetime,
    start_cloud_recording: bool = False,
) -> JoinInfo:
    """The teacher's token lasts up to four hours, a student's `STUDENT_TOKEN_TTL_MINUTES`."""
    lifetime = MAX_TOKEN_LIFETIME if is_owner else minter.student_token_lifetime
    expires_at = token_expiry(now, session.expires_at, lifetime)
    grant = TokenGrant(
        room_name=session.room_name,
        user_id=str(user_id),
        user_name=user_name,
        is_owner=is_owner,
        expires_at=expires_at,
        start_cloud_recording=start_cloud_recording,
    )
    token = minter.mint(grant, now=now)
    return JoinInfo(
        session_id=session.id,
        role=ParticipantRole.TEACHER if is_owner else ParticipantRole.STUDENT,
        room_name=session.room_name,
        room_url=session.room_url,
        token=token,
        join_url=f"{session.room_url}?t={token}",
        expires_at=expires_at,
    )
