"""Joining a session: seats, roles and the meeting token that carries them.

This is the hottest path of the service (a class's whole join rush), so each
join is a handful of statements on the locked session row; see `_join`.
"""

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from app.core.errors import Conflict, Forbidden, NotFound
from app.core.security import AccessClaims
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
from app.services.users import resolve_user


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


def _ensure_may_join(
    session: TutoringSession,
    participant: SessionParticipant | None,
    user: User,
    *,
    by_code: bool,
    now: datetime,
) -> None:
    """By id only the teacher or a seated student (anyone else: 404, the id stays secret);
    by code anyone. Never a removed student, never an ended session."""
    if not by_code and participant is None and session.teacher_id != user.id:
        raise NotFound(SESSION_NOT_FOUND, code="session_not_found")
    _ensure_not_removed(participant)
    lifecycle.ensure_not_ended(session, now)


def join_session(
    db: Session,
    *,
    minter: MeetingTokenMinter,
    claims: AccessClaims,
    session_id: uuid.UUID,
    now: datetime,
) -> JoinInfo:
    """Join by id: the teacher, or a student who already holds a seat."""
    user = resolve_user(db, claims)
    lock = minter.signs_locally
    session = (
        session_crud.get_for_update(db, session_id) if lock else session_crud.get(db, session_id)
    )
    if session is None:
        raise NotFound(SESSION_NOT_FOUND, code="session_not_found")
    return _join(db, minter=minter, user=user, session=session, locked=lock, by_code=False, now=now)


def join_by_code(
    db: Session,
    *,
    minter: MeetingTokenMinter,
    guard: AbuseGuard,
    claims: AccessClaims,
    client_ip: str,
    room_code: str,
    now: datetime,
) -> JoinInfo:
    """Join by room code: anyone signed in; all but the session's teacher sit as students.

    Only an unknown code counts against the caller's lookup limit; a known code
    that refuses (full, ended) says nothing a guesser could use.

    Both join routes take the verified token and resolve its account here, in the same
    transaction and thread hop as the join: the class's join rush is the one moment
    where an extra hop and round trip per request show.
    """
    user = resolve_user(db, claims)
    guard.ensure_code_lookup_allowed(str(user.id), client_ip)
    code = normalize_room_code(room_code)
    lock = minter.signs_locally
    lookup = session_crud.get_by_code_for_update if lock else session_crud.get_by_code
    session = lookup(db, code) if code else None
    if session is None:
        guard.record_failed_code_lookup(str(user.id), client_ip)
        raise NotFound("No session has this room code.", code="room_code_not_found")
    return _join(db, minter=minter, user=user, session=session, locked=lock, by_code=True, now=now)


def _join(
    db: Session,
    *,
    minter: MeetingTokenMinter,
    user: User,
    session: TutoringSession,
    locked: bool,
    by_code: bool,
    now: datetime,
) -> JoinInfo:
    """Check, mint and seat, with the session row locked while the seat is taken.

    Self-signed tokens are minted locally, so the session was locked at its first read
    and the join is three statements. An `api`-mode token is a call to Daily: it is
    minted after checks on a plain read and before the lock, so no Daily round trip
    ever holds the row that every other join of the class is waiting for.
    """
    is_teacher = session.teacher_id == user.id
    join: JoinInfo | None = None
    if not locked:
        participant = participant_crud.get(db, session.id, user.id)
        _ensure_may_join(session, participant, user, by_code=by_code, now=now)
        join = issue_join_info(minter, session, user, is_owner=is_teacher, now=now)
        relocked = session_crud.get_for_update(db, session.id)
        if relocked is None:
            raise NotFound(SESSION_NOT_FOUND, code="session_not_found")
        session = relocked
    participant, seated = participant_crud.get_with_seat_count(db, session.id, user.id)
    _ensure_may_join(session, participant, user, by_code=by_code, now=now)
    if join is None:
        join = issue_join_info(minter, session, user, is_owner=is_teacher, now=now)
    role = ParticipantRole.TEACHER if is_teacher else ParticipantRole.STUDENT
    _seat(db, session, user, participant, seated=seated, role=role, now=now)
    if is_teacher:
        lifecycle.activate(db, session, now=now, source=EventSource.API, actor_id=user.id)
    return join


def _seat(
    db: Session,
    session: TutoringSession,
    user: User,
    participant: SessionParticipant | None,
    *,
    seated: int,
    role: ParticipantRole,
    now: datetime,
) -> None:
    """Reuse the caller's row (a rejoin keeps the seat) or take a new seat, under the row lock."""
    if participant is not None:
        participant.status = ConnectionStatus.JOINED
        participant.last_joined_at = now
        participant.left_at = None
        return
    if role is ParticipantRole.STUDENT and seated >= session.max_participants:
        raise Conflict("This session is full.", code="session_full")
    participant_crud.insert_seat(db, session_id=session.id, user_id=user.id, role=role, now=now)
    event_crud.record(
        db,
        session_id=session.id,
        type="participant.seated",
        actor_id=user.id,
        payload={"user_id": str(user.id), "role": role.value},
        occurred_at=now,
    )


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
