import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Table,
    bindparam,
    cast,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from app.models.event import EventSource, SessionEvent
from app.models.participant import ConnectionStatus, ParticipantRole, SessionParticipant
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
    NO_SEAT = "no_seat"  # no row, and none taken (full, or not allowed a new one)


_participants = SessionParticipant.__table__
_events = SessionEvent.__table__


def _bound(name: str, column: str, table: Table = _participants) -> ColumnElement[Any]:
    """A parameter typed as `table.column`, cast in the SQL: in INSERT … SELECT, PostgreSQL
    would otherwise take an untyped parameter as text."""
    column_type = table.c[column].type
    return cast(bindparam(name, type_=column_type), column_type)


_caller_row = (
    select(_participants.c.id, _participants.c.removed_at)
    .where(
        _participants.c.session_id == bindparam("target_session"),
        _participants.c.user_id == bindparam("caller"),
    )
    .cte("caller_row")
)
_rejoined = (
    update(_participants)
    .where(
        _participants.c.id.in_(select(_caller_row.c.id)),
        _participants.c.removed_at.is_(None),
    )
    .values(status=ConnectionStatus.JOINED, last_joined_at=bindparam("joined_at"), left_at=None)
    .returning(_participants.c.id)
    .cte("rejoined")
)
_new_seat = (
    insert(_participants)
    .from_select(
        ["id", "session_id", "user_id", "role", "status", "first_joined_at", "last_joined_at"],
        select(
            _bound("seat_id", "id"),
            _bound("target_session", "session_id"),
            _bound("caller", "user_id"),
            _bound("seat_role", "role"),
            _bound("seat_status", "status"),
            _bound("joined_at", "first_joined_at"),
            _bound("joined_at", "last_joined_at"),
        ).where(
            ~exists(select(_caller_row.c.id)),
            bindparam("may_take_new_seat", type_=Boolean),
            or_(
                ~bindparam("seat_is_limited", type_=Boolean),
                bindparam("max_students", type_=Integer) > _SEAT_COUNT,
            ),
        ),
    )
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
            _bound("joined_at", "occurred_at", _events),
        ),
    )
    .cte("seated_event")
)
_TAKE_SEAT = select(
    exists(select(_caller_row.c.id)),
    exists(select(_rejoined.c.id)),
    exists(select(_new_seat.c.session_id)),
).add_cte(_seated_event)


def take_seat(
    db: Session,
    *,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    role: ParticipantRole,
    may_take_new_seat: bool,
    max_students: int,
    now: datetime,
) -> SeatOutcome:
    """Rejoin the caller's row, or take a new seat if one is free, in one statement.

    Run it under the session's row lock (`session_crud.get_join_target(lock=True)`): it is
    a new statement, so it counts every seat committed before the lock was granted. A new
    seat also appends its `participant.seated` event. A refusal (removed, full) changes
    nothing, so the caller raises and the transaction rolls back clean.
    """
    had_row, rejoined, seated = (
        db.connection()
        .execute(
            _TAKE_SEAT,
            {
                "target_session": session_id,
                "caller": user_id,
                "joined_at": now,
                "seat_id": uuid.uuid4(),
                "seat_role": role,
                "seat_status": ConnectionStatus.JOINED,
                "may_take_new_seat": may_take_new_seat,
                "seat_is_limited": role is ParticipantRole.STUDENT,
                "max_students": max_students,
                "event_id": uuid.uuid4(),
                "event_type": "participant.seated",
                "event_source": EventSource.API,
                "event_payload": {"user_id": str(user_id), "role": role.value},
            },
        )
        .one()
    )
    if had_row:
        return SeatOutcome.REJOINED if rejoined else SeatOutcome.REMOVED
    return SeatOutcome.SEATED if seated else SeatOutcome.NO_SEAT
