"""A session's roster: listing it, and removing a student so the removal sticks."""

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from app.core.errors import CannotRemoveTeacher, ParticipantNotFound
from app.crud import event as event_crud
from app.crud import participant as participant_crud
from app.models.participant import (
    ConnectionStatus,
    ParticipantRole,
    RosterStatus,
    SessionParticipant,
)
from app.models.session import SessionStatus, TutoringSession
from app.models.user import User
from app.schemas.session import ParticipantList, ParticipantRead
from app.services.daily.client import DailyClient
from app.services.sessions.access import load_owned, load_visible
from app.services.sessions.lifecycle import effective_status


def list_participants(db: Session, *, user: User, session_id: uuid.UUID) -> ParticipantList:
    load_visible(db, user, session_id)
    return ParticipantList(
        items=[
            ParticipantRead(
                user_id=participant.user_id,
                full_name=member.full_name,
                role=participant.role,
                status=roster_status(participant, in_call=in_call),
                first_joined_at=participant.first_joined_at,
                last_joined_at=participant.last_joined_at,
                left_at=participant.left_at,
                removed=participant.removed_at is not None,
            )
            for participant, member, in_call in participant_crud.roster(db, session_id)
        ]
    )


def roster_status(participant: SessionParticipant, *, in_call: bool) -> RosterStatus:
    """Removed beats everything; then Daily's word (`in_call`); then the stored place."""
    if participant.removed_at is not None:
        return RosterStatus.REMOVED
    if in_call:
        return RosterStatus.IN_CALL
    if participant.status is ConnectionStatus.LEFT:
        return RosterStatus.LEFT
    return RosterStatus.SEATED


def remove_participant(
    db: Session,
    *,
    daily: DailyClient,
    teacher: User,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    now: datetime,
) -> None:
    """Ban a student from the session: seat freed, no new token, ejected from the call.

    Daily's eject with `ban: true` is part of the removal, and it is sent before the
    session's row is locked, so no join of the class waits on Daily (call-first rather than
    commit-then-call: a committed removal undone after a failed eject would hand back a
    seat someone else may have taken meanwhile). If Daily fails, nothing is written, so the
    roster never claims a ban the room does not enforce; if the write then fails, the
    teacher's retry re-sends the eject (idempotent) and writes the removal.
    """
    session = load_owned(db, teacher, session_id, lock=False)
    _removable(db, session, user_id)
    # A session past its end (reconciled or not) has no call: its room expired and ejected
    # everyone (`eject_at_room_exp`), or the end ejected them. Otherwise a 404 from the eject
    # (the room is gone) is success: there is nobody to eject.
    if effective_status(session, now) is not SessionStatus.ENDED:
        daily.eject(session.room_name, user_ids=[str(user_id)], ban=True)
    session = load_owned(db, teacher, session_id, lock=True)
    participant = _removable(db, session, user_id)
    db.refresh(participant)  # as of the lock: a join may have rejoined it meanwhile
    first_removal = participant.removed_at is None
    if first_removal:
        participant.removed_at = now
    if participant.status is ConnectionStatus.JOINED:
        participant.status = ConnectionStatus.LEFT
        participant.left_at = now
    if first_removal:
        event_crud.record(
            db,
            session_id=session.id,
            type="participant.removed",
            actor_id=teacher.id,
            payload={"user_id": str(user_id)},
            occurred_at=now,
        )
    db.flush()


def _removable(db: Session, session: TutoringSession, user_id: uuid.UUID) -> SessionParticipant:
    participant = participant_crud.get(db, session.id, user_id)
    if participant is None:
        raise ParticipantNotFound()
    if participant.role is ParticipantRole.TEACHER or user_id == session.teacher_id:
        raise CannotRemoveTeacher()
    return participant
