import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Table,
    Uuid,
    and_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from app.crud.schedule import effective_status_is
from app.db.statements import LockThen
from app.models.event import EventSource, SessionEvent
from app.models.participant import ConnectionStatus, ParticipantRole, SessionParticipant
from app.models.presence import ParticipantPresence
from app.models.session import SessionStatus, TutoringSession
from app.models.user import User


def get(db: Session, session_id: uuid.UUID, user_id: uuid.UUID) -> SessionParticipant | None:
    return db.scalar(
        select(SessionParticipant).where(
            SessionParticipant.session_id == session_id, SessionParticipant.user_id == user_id
        )
    )


# Who holds a seat: every student row, unless the student was removed.
HOLDS_SEAT = (
    SessionParticipant.role == ParticipantRole.STUDENT,
    SessionParticipant.removed_at.is_(None),
)
# Built once: composing this statement on every join costs more CPU than running it.
_SEAT_COUNT = (
    select(func.count())
    .select_from(SessionParticipant)
    .where(SessionParticipant.session_id == bindparam("target_session"), *HOLDS_SEAT)
    .scalar_subquery()
)


def seated_student_ids(db: Session, session_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        db.scalars(
            select(SessionParticipant.user_id).where(
                SessionParticipant.session_id == session_id, *HOLDS_SEAT
            )
        ).all()
    )


def seated_students(db: Session, session_id: uuid.UUID) -> int:
    return db.scalar(select(_SEAT_COUNT), {"target_session": session_id}) or 0


def create(
    db: Session,
    *,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    role: ParticipantRole,
    now: datetime,
) -> SessionParticipant:
    participant = SessionParticipant(
        session_id=session_id,
        user_id=user_id,
        role=role,
        status=ConnectionStatus.JOINED,
        first_joined_at=now,
        last_joined_at=now,
    )
    db.add(participant)
    db.flush()
    return participant


def list_with_users(
    db: Session, session_id: uuid.UUID
) -> Sequence[tuple[SessionParticipant, User]]:
    rows = db.execute(
        select(SessionParticipant, User)
        .join(User, User.id == SessionParticipant.user_id)
        .where(SessionParticipant.session_id == session_id)
        .order_by(SessionParticipant.role.desc(), SessionParticipant.first_joined_at)
    ).all()
    return [(row[0], row[1]) for row in rows]


# An open presence interval of the row's user: Daily's webhooks say they are in the call now.
IN_CALL = exists(
    select(ParticipantPresence.id).where(
        ParticipantPresence.session_id == SessionParticipant.session_id,
        ParticipantPresence.user_id == SessionParticipant.user_id,
        ParticipantPresence.left_at.is_(None),
    )
)
# Present: in the call now and not removed (a removed student's late interval never counts).
IS_PRESENT = and_(SessionParticipant.removed_at.is_(None), IN_CALL)


def removed_in_call(db: Session, now: datetime) -> list[tuple[str, uuid.UUID]]:
    """(room name, user id) of removed students whose presence is still open, in sessions
    that are not (effectively) ended: those a re-eject has not reached yet."""
    rows = db.execute(
        select(TutoringSession.room_name, SessionParticipant.user_id)
        .join(TutoringSession, TutoringSession.id == SessionParticipant.session_id)
        .where(
            SessionParticipant.removed_at.is_not(None),
            IN_CALL,
            ~effective_status_is(SessionStatus.ENDED, now),
        )
    ).all()
    return [(row[0], row[1]) for row in rows]


def roster(db: Session, session_id: uuid.UUID) -> Sequence[tuple[SessionParticipant, User, bool]]:
    """The session's rows with their users and whether each is present (`IS_PRESENT`)."""
    rows = db.execute(
        select(SessionParticipant, User, IS_PRESENT)
        .join(User, User.id == SessionParticipant.user_id)
        .where(SessionParticipant.session_id == session_id)
        .order_by(SessionParticipant.role.desc(), SessionParticipant.first_joined_at)
    ).all()
    return [(row[0], row[1], bool(row[2])) for row in rows]


def mark_all_left(db: Session, session_id: uuid.UUID, now: datetime) -> None:
    db.execute(
        update(SessionParticipant)
        .where(
            SessionParticipant.session_id == session_id,
            SessionParticipant.status == ConnectionStatus.JOINED,
        )
        .values(status=ConnectionStatus.LEFT, left_at=now)
    )


class SeatOutcome(StrEnum):
    SEATED = "seated"  # a new row: a seat taken, or the teacher's own place
    REJOINED = "rejoined"  # the caller's row was there and is joined again
    REMOVED = "removed"  # the caller's row was there, but they were removed: nothing changed
    ENDED = "ended"  # the session has ended: nothing changed
    GONE = "gone"  # the session was deleted since the caller's read: nothing changed
    NO_SEAT = "no_seat"  # no row, and none taken: the session is full


_participants = SessionParticipant.__table__
_events = SessionEvent.__table__


def _bound(name: str, column: str, table: Table = _participants) -> ColumnElement[Any]:
    """A parameter typed as `table.column`, cast in the SQL: in INSERT … SELECT, PostgreSQL
    would otherwise take an untyped parameter as text."""
    column_type = table.c[column].type
    return cast(bindparam(name, type_=column_type), column_type)


_target_session = bindparam("target_session", type_=Uuid)
_joined_at = _bound("joined_at", "last_joined_at")
_session_is_open = and_(
    TutoringSession.id == _target_session,
    ~effective_status_is(SessionStatus.ENDED, _joined_at),
)
_session_is_still_open = exists(select(TutoringSession.id).where(_session_is_open))
_callers_row = and_(
    _participants.c.session_id == _target_session,
    _participants.c.user_id == bindparam("caller"),
)
# Each statement below runs after `SELECT … FOR UPDATE` of the session row, in the same
# query string (`LockThen`): with a snapshot of its own, it counts every seat committed
# before the lock was granted and reads the session's newest status and seat limit.
_LOCK_SESSION = text(
    f"SELECT FROM {TutoringSession.__tablename__} WHERE id = :target_session FOR UPDATE"
)
_new_seat = (
    pg_insert(_participants)
    .from_select(
        ["id", "session_id", "user_id", "role", "status", "first_joined_at", "last_joined_at"],
        select(
            _bound("seat_id", "id"),
            _bound("target_session", "session_id"),
            _bound("caller", "user_id"),
            _bound("seat_role", "role"),
            _bound("seat_status", "status"),
            _joined_at,
            _joined_at,
        ).where(
            _session_is_open,
            or_(
                ~bindparam("seat_is_limited", type_=Boolean),
                TutoringSession.max_participants > _SEAT_COUNT,
            ),
        ),
    )
    # The same student's other join got in first: theirs is the seat.
    .on_conflict_do_nothing(index_elements=["session_id", "user_id"])
    .returning(_participants.c.session_id, _participants.c.user_id)
    .cte("new_seat")
)
_seated_event = (
    insert(_events)
    .from_select(
        ["id", "session_id", "type", "source", "actor_id", "payload", "occurred_at"],
        select(
            _bound("event_id", "id", _events),
            _new_seat.c.session_id,
            _bound("event_type", "type", _events),
            _bound("event_source", "source", _events),
            _new_seat.c.user_id,
            _bound("event_payload", "payload", _events),
            _joined_at,
        ),
    )
    .cte("seated_event")
)
_TAKE_NEW_SEAT = LockThen(
    _LOCK_SESSION, select(exists(select(_new_seat.c.session_id))).add_cte(_seated_event)
)
_rejoined = (
    update(_participants)
    .where(
        _callers_row,
        _participants.c.removed_at.is_(None),
        _session_is_still_open,
    )
    .values(status=ConnectionStatus.JOINED, last_joined_at=_joined_at, left_at=None)
    .returning(_participants.c.id)
    .cte("rejoined")
)
# Both return one boolean, whether the caller sits now. (The DML is a CTE: `LockThen`
# is no DML statement itself, so it cannot be the top of one.)
_REJOIN = LockThen(_LOCK_SESSION, select(exists(select(_rejoined.c.id))))
_WHY_NOT_SEATED = select(
    exists(select(TutoringSession.id).where(TutoringSession.id == _target_session)),
    exists(select(_participants.c.id).where(_callers_row)),
    exists(select(_participants.c.id).where(_callers_row, _participants.c.removed_at.is_not(None))),
    _session_is_still_open,
)


def take_seat(
    connection: Connection,
    *,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    role: ParticipantRole,
    has_place: bool,
    now: datetime,
) -> SeatOutcome:
    """Rejoin the caller's place, or take a new seat if one is free, in one round trip.

    `has_place` says which, as the join's unlocked read saw it. The session's row is
    locked first and the seat decided in a second statement of the same query string
    (`LockThen`), so the seat limit holds however many join at once, and nobody is seated
    or rejoined in a session whose `end` has committed. A new seat also appends its
    `participant.seated` event. On an `autocommit_connection` (`app.db.session`) the
    query is its own transaction, committed before the result comes back, so the lock
    that every join of a class queues on is held for no client round trip at all. Each
    statement is as small as it can be, because it is planned while the lock is held.
    A refusal (removed, ended, full, deleted) changes nothing; only then does a second,
    unlocked read tell which it was. How a join gets here: docs/join-path.md.

    Sends, when the caller has a place (a rejoin):

        SELECT FROM sessions WHERE id = %(target_session)s FOR UPDATE;
        WITH rejoined AS
        (UPDATE session_participants
            SET status=%(param_1)s,
                last_joined_at=CAST(%(joined_at)s AS TIMESTAMP WITH TIME ZONE),
                left_at=%(param_2)s
            WHERE session_participants.session_id = %(target_session)s::UUID
                AND session_participants.user_id = %(caller)s::UUID
                AND session_participants.removed_at IS NULL
                AND (EXISTS (SELECT sessions.id
                    FROM sessions
                    WHERE sessions.id = %(target_session)s::UUID
                        AND NOT (sessions.status = %(status_1)s
                        OR sessions.expires_at <= CAST(%(joined_at)s AS TIMESTAMP WITH TIME ZONE))))
            RETURNING session_participants.id)
        SELECT EXISTS (SELECT rejoined.id
        FROM rejoined) AS anon_1

    otherwise (a new seat, or the teacher's own place):

        SELECT FROM sessions WHERE id = %(target_session)s FOR UPDATE;
        WITH new_seat AS
        (INSERT INTO session_participants (id, session_id, user_id, role, status,
                first_joined_at, last_joined_at)
            SELECT CAST(%(seat_id)s::UUID AS UUID) AS anon_6,
                CAST(%(target_session)s::UUID AS UUID) AS anon_7,
                CAST(%(caller)s::UUID AS UUID) AS anon_8,
                CAST(%(seat_role)s AS VARCHAR(16)) AS anon_9,
                CAST(%(seat_status)s AS VARCHAR(16)) AS anon_10,
                CAST(%(joined_at)s AS TIMESTAMP WITH TIME ZONE) AS anon_5,
                CAST(%(joined_at)s AS TIMESTAMP WITH TIME ZONE) AS anon__1
            FROM sessions
            WHERE sessions.id = %(target_session)s::UUID
                AND NOT (sessions.status = %(status_1)s
                OR sessions.expires_at <= CAST(%(joined_at)s AS TIMESTAMP WITH TIME ZONE))
                AND (NOT %(seat_is_limited)s
                OR sessions.max_participants > (SELECT count(*) AS count_1
                    FROM session_participants
                    WHERE session_participants.session_id = %(target_session)s::UUID
                        AND session_participants.role = %(role_1)s
                        AND session_participants.removed_at IS NULL))
            ON CONFLICT (session_id, user_id) DO NOTHING
            RETURNING session_participants.session_id, session_participants.user_id),
        seated_event AS
        (INSERT INTO session_events (id, session_id, type, source, actor_id, payload,
                occurred_at)
            SELECT CAST(%(event_id)s::UUID AS UUID) AS anon_1,
                new_seat.session_id AS session_id,
                CAST(%(event_type)s AS VARCHAR(64)) AS anon_2,
                CAST(%(event_source)s AS VARCHAR(16)) AS anon_3,
                new_seat.user_id AS user_id,
                CAST(%(event_payload)s::JSONB AS JSONB) AS anon_4,
                CAST(%(joined_at)s AS TIMESTAMP WITH TIME ZONE) AS anon_5
            FROM new_seat)
        SELECT EXISTS (SELECT new_seat.session_id
        FROM new_seat) AS anon_11

    and, only when that returned false, to tell which refusal it was:

        SELECT EXISTS (SELECT sessions.id
            FROM sessions
            WHERE sessions.id = %(target_session)s::UUID) AS anon_1,
        EXISTS (SELECT session_participants.id
            FROM session_participants
            WHERE session_participants.session_id = %(target_session)s::UUID
                AND session_participants.user_id = %(caller)s::UUID) AS anon_2,
        EXISTS (SELECT session_participants.id
            FROM session_participants
            WHERE session_participants.session_id = %(target_session)s::UUID
                AND session_participants.user_id = %(caller)s::UUID
                AND session_participants.removed_at IS NOT NULL) AS anon_3,
        EXISTS (SELECT sessions.id
            FROM sessions
            WHERE sessions.id = %(target_session)s::UUID
                AND NOT (sessions.status = %(status_1)s
                OR sessions.expires_at <= CAST(%(joined_at)s AS TIMESTAMP WITH TIME ZONE)))
            AS anon_4
    """
    params = {
        "target_session": session_id,
        "caller": user_id,
        "joined_at": now,
        "seat_id": uuid.uuid4(),
        "seat_role": role,
        "seat_status": ConnectionStatus.JOINED,
        "seat_is_limited": role is ParticipantRole.STUDENT,
        "event_id": uuid.uuid4(),
        "event_type": "participant.seated",
        "event_source": EventSource.API,
        "event_payload": {"user_id": str(user_id), "role": role.value},
    }
    if connection.execute(_REJOIN if has_place else _TAKE_NEW_SEAT, params).scalar_one():
        return SeatOutcome.REJOINED if has_place else SeatOutcome.SEATED
    session_exists, has_row, removed, session_open = connection.execute(
        _WHY_NOT_SEATED, params
    ).one()
    if not session_exists:
        return SeatOutcome.GONE
    if removed:
        return SeatOutcome.REMOVED
    if not session_open:
        return SeatOutcome.ENDED
    return SeatOutcome.REJOINED if has_row else SeatOutcome.NO_SEAT
