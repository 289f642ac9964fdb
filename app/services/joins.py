"""Joining a session: seats, roles and the meeting token that carries them.

Authorisation is checked on a plain read, the token is minted, and only then is
the session row locked to take the seat: in `api` token mode minting is a call
to Daily, and holding the row lock through it would serialise a class's whole
join rush behind one network round trip.
"""

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from app.core.errors import Conflict, Forbidden, NotFound
from app.crud import event as event_crud
from app.crud import participant as participant_crud
from app.crud import session as session_crud
from app.models.event import EventSource
from app.models.participant import ConnectionStatus, ParticipantRole, SessionParticipant
from app.models.session import TutoringSession
from app.models.user import User
from app.schemas.session import JoinInfo
from app.services import lifecycle
from app.services.meeting_tokens import MeetingTokenMinter, TokenGrant, token_expiry
from app.services.rate_limits import AbuseGuard
from app.services.room_codes import normalize_room_code
from app.services.session_access import SESSION_NOT_FOUND, load_visible


def issue_join_info(
    minter: MeetingTokenMinter,
    session: TutoringSession,
    user: User,
    *,
    is_owner: bool,
    now: datetime,
) -> JoinInfo:
    expires_at = token_expiry(now, session.expires_at)
    grant = TokenGrant(
        room_name=session.room_name,
        user_id=str(user.id),
        user_name=user.full_name,
        is_owner=is_owner,
        expires_at=expires_at,
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


def _ensure_not_removed(participant: SessionParticipant | None) -> None:
    if participant is not None and participant.removed_at is not None:
        raise Forbidden("You were removed from this session.", code="removed_from_session")


def join_session(
    db: Session, *, minter: MeetingTokenMinter, user: User, session_id: uuid.UUID, now: datetime
) -> JoinInfo:
    """Join by id: the teacher, or a student who already holds a seat."""
    session, participant = load_visible(db, user, session_id)
    return _join(db, minter=minter, user=user, session=session, participant=participant, now=now)


def join_by_code(
    db: Session,
    *,
    minter: MeetingTokenMinter,
    guard: AbuseGuard,
    user: User,
    client_ip: str,
    room_code: str,
    now: datetime,
) -> JoinInfo:
    """Join by room code: anyone signed in; all but the session's teacher sit as students.

    Only an unknown code counts against the caller's lookup limit; a known code
    that refuses (full, ended) says nothing a guesser could use.
    """
    guard.ensure_code_lookup_allowed(str(user.id), client_ip)
    code = normalize_room_code(room_code)
    session = session_crud.get_by_code(db, code) if code else None
    if session is None:
        guard.record_failed_code_lookup(str(user.id), client_ip)
        raise NotFound("No session has this room code.", code="room_code_not_found")
    participant = participant_crud.get(db, session.id, user.id)
    return _join(db, minter=minter, user=user, session=session, participant=participant, now=now)


def _join(
    db: Session,
    *,
    minter: MeetingTokenMinter,
    user: User,
    session: TutoringSession,
    participant: SessionParticipant | None,
    now: datetime,
) -> JoinInfo:
    is_teacher = session.teacher_id == user.id
    _ensure_not_removed(participant)
    lifecycle.ensure_not_ended(session, now)
    join = issue_join_info(minter, session, user, is_owner=is_teacher, now=now)

    locked = session_crud.get_for_update(db, session.id)
    if locked is None:
        raise NotFound(SESSION_NOT_FOUND, code="session_not_found")
    lifecycle.ensure_not_ended(locked, now)
    if is_teacher:
        _seat(db, locked, user, ParticipantRole.TEACHER, now)
        lifecycle.activate(db, locked, now=now, source=EventSource.API, actor_id=user.id)
    else:
        _seat(db, locked, user, ParticipantRole.STUDENT, now)
    return join


def _seat(
    db: Session, session: TutoringSession, user: User, role: ParticipantRole, now: datetime
) -> SessionParticipant:
    """Reuse the caller's row (a rejoin keeps the seat) or take a new seat, under the row lock."""
    participant = participant_crud.get(db, session.id, user.id)
    if participant is not None:
        _ensure_not_removed(participant)
        participant.status = ConnectionStatus.JOINED
        participant.last_joined_at = now
        participant.left_at = None
        return participant
    full = role is ParticipantRole.STUDENT and (
        participant_crud.seated_students(db, session.id) >= session.max_participants
    )
    if full:
        raise Conflict("This session is full.", code="session_full")
    participant = participant_crud.create(
        db, session_id=session.id, user_id=user.id, role=role, now=now
    )
    event_crud.record(
        db,
        session_id=session.id,
        type="participant.seated",
        actor_id=user.id,
        payload={"user_id": str(user.id), "role": role.value},
        occurred_at=now,
    )
    return participant


def leave_session(db: Session, *, user: User, session_id: uuid.UUID, now: datetime) -> None:
    _, participant = load_visible(db, user, session_id)
    if participant is None or participant.status is ConnectionStatus.LEFT:
        return
    participant.status = ConnectionStatus.LEFT
    participant.left_at = now
    event_crud.record(
        db,
        session_id=session_id,
        type="participant.left",
        actor_id=user.id,
        payload={"user_id": str(user.id)},
        occurred_at=now,
    )
