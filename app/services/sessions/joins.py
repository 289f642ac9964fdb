"""Joining a session: seats, roles and the meeting token that carries them.

This is the hottest path of the service (a class's whole join rush). A student's join is
two round trips in autocommit: a plain read of the session with the caller's account and
place, then the seat, decided under the session's row lock and committed server-side
(`participant_crud.take_seat`); see `_join`, and docs/join-path.md for the whole path and why.
"""

import uuid
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.core.errors import (
    RemovedFromSession,
    RoomCodeNotFound,
    SessionEnded,
    SessionFull,
    SessionNotFound,
)
from app.core.security import AccessClaims
from app.crud import event as event_crud
from app.crud import participant as participant_crud
from app.crud import session as session_crud
from app.crud.participant import SeatOutcome
from app.crud.session import JoinTarget
from app.db.session import autocommit_connection
from app.models.event import EventSource
from app.models.participant import ConnectionStatus, ParticipantRole
from app.models.session import RecordingMode, SessionStatus
from app.models.user import User
from app.schemas.session import JoinInfo
from app.services.accounts.rate_limits import AbuseGuard
from app.services.accounts.users import ensure_token_current, resolve_user
from app.services.daily.meeting_tokens import MeetingTokenMinter
from app.services.sessions import lifecycle
from app.services.sessions.access import load_visible
from app.services.sessions.join_info import issue_join_info
from app.services.sessions.room_codes import normalize_room_code


def join_session(
    db: Session,
    *,
    minter: MeetingTokenMinter,
    claims: AccessClaims,
    session_id: uuid.UUID,
    now: datetime,
) -> JoinInfo:
    """Join by id: the teacher, or a student who already holds a seat."""
    join = _join_found(db, minter=minter, claims=claims, now=now, session_id=session_id)
    if join is None:
        resolve_user(db, claims)  # a closed account hears 401 before any 404
        raise SessionNotFound()
    return join


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
    """
    guard.ensure_code_lookup_allowed(str(claims.user_id), client_ip)
    code = normalize_room_code(room_code)
    join = _join_found(db, minter=minter, claims=claims, now=now, room_code=code) if code else None
    if join is None:
        resolve_user(db, claims)  # a closed account hears 401 before any 404
        guard.record_failed_code_lookup(str(claims.user_id), client_ip)
        raise RoomCodeNotFound()
    return join


def _join_found(
    db: Session,
    *,
    minter: MeetingTokenMinter,
    claims: AccessClaims,
    now: datetime,
    session_id: uuid.UUID | None = None,
    room_code: str | None = None,
) -> JoinInfo | None:
    """The join, if the session exists: None lets the caller word its own 404.

    The caller's account is read with the session, in the same statement, not in a
    dependency of its own: the class's join rush is the one moment where a round trip
    per request shows. The teacher's first join then starts the session, on `db`, once
    the join's own connection is back in the pool.
    """
    with autocommit_connection(db) as connection:
        target = session_crud.get_join_target(
            connection, user_id=claims.user_id, session_id=session_id, room_code=room_code
        )
        if target is None:
            return None
        join = _join(
            connection,
            minter=minter,
            claims=claims,
            target=target,
            by_code=room_code is not None,
            now=now,
        )
    if join is None:
        return None
    if join.role is ParticipantRole.TEACHER and target.status is SessionStatus.SCHEDULED:
        session = session_crud.get_for_update(db, target.id)
        if session is not None:
            lifecycle.activate(
                db, session, now=now, source=EventSource.API, actor_id=claims.user_id
            )
    return join


def _join(
    connection: Connection,
    *,
    minter: MeetingTokenMinter,
    claims: AccessClaims,
    target: JoinTarget,
    by_code: bool,
    now: datetime,
) -> JoinInfo | None:
    """Check, mint, then seat: the seat is the last step and the only one under a lock.

    The checks read the unlocked `target`, so a refusal costs no lock and no token. The
    token is minted before the seat, so an `api`-mode call to Daily holds nothing that
    other joins wait for, and a seat is never taken for a join that then fails at Daily.
    The seat statement checks again under the row lock whatever may have changed since
    the read (a removal, the end, the last free seat, a deletion); a token minted for a
    seat that is then refused is never returned. None: the session is not there for this
    caller, and the caller words the 404.
    """
    ensure_token_current(
        claims,
        is_active=target.account_active,
        password_changed_at=target.account_password_changed_at,
    )
    user_id = claims.user_id
    is_teacher = target.teacher_id == user_id
    _ensure_may_join(target, is_teacher=is_teacher, by_code=by_code, now=now)
    join = issue_join_info(
        minter,
        target,
        user_id=user_id,
        user_name=target.account_name or "",
        is_owner=is_teacher,
        now=now,
        start_cloud_recording=is_teacher and target.recording is RecordingMode.AUTOMATIC,
    )
    outcome = participant_crud.take_seat(
        connection,
        session_id=target.id,
        user_id=user_id,
        role=ParticipantRole.TEACHER if is_teacher else ParticipantRole.STUDENT,
        has_place=target.place_id is not None,
        now=now,
    )
    if outcome is SeatOutcome.REMOVED:
        raise RemovedFromSession()
    if outcome is SeatOutcome.ENDED:
        raise SessionEnded()
    if outcome is SeatOutcome.GONE or (outcome is SeatOutcome.NO_SEAT and not by_code):
        return None  # deleted since the read, or by id without a place: the caller's 404
    if outcome is SeatOutcome.NO_SEAT:
        raise SessionFull()
    return join


def _ensure_may_join(target: JoinTarget, *, is_teacher: bool, by_code: bool, now: datetime) -> None:
    """The refusals, in their order: by id, only the teacher or a student with a place
    (anyone else: 404, the id stays secret); never a removed student; never an ended
    session."""
    if not by_code and target.place_id is None and not is_teacher:
        raise SessionNotFound()
    if target.place_removed_at is not None:
        raise RemovedFromSession()
    lifecycle.ensure_not_ended(target, now)


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
