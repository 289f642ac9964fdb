"""Who was in the call, and when: Daily's participant and meeting events as presence intervals.

Each Daily join (one participant `session_id`) is one interval. Events are applied so that
their order does not matter: a `left` that arrives before its `joined` creates the closed
interval, and the late `joined` only refines its start; a `joined` that never gets its `left`
is closed by `meeting.ended` or by the session's end. The participant row's `status` follows
the intervals: joined while any interval is open.
"""

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from app.crud import participant as participant_crud
from app.crud import presence as presence_crud
from app.crud import user as user_crud
from app.models.participant import ConnectionStatus, ParticipantRole, SessionParticipant
from app.models.presence import ParticipantPresence, PresenceCloser
from app.models.session import TutoringSession
from app.models.user import User


def resolve_user(db: Session, token_user_id: object) -> User | None:
    """Our user behind Daily's `user_id` (the id we put in the meeting token)."""
    if not isinstance(token_user_id, str):
        return None
    try:
        user_id = uuid.UUID(token_user_id)
    except ValueError:
        return None
    return user_crud.get_by_id(db, user_id)


def seat_for(
    db: Session, session: TutoringSession, user: User | None, *, at: datetime
) -> SessionParticipant | None:
    """The row presence is recorded against: the user's seat, or a new row for the teacher.

    A user without a seat is not seated by a webhook: seats are taken through the API, which
    enforces `max_participants` and removals.
    """
    if user is None:
        return None
    participant = participant_crud.get(db, session.id, user.id)
    if participant is None and user.id == session.teacher_id:
        participant = participant_crud.create(
            db, session_id=session.id, user_id=user.id, role=ParticipantRole.TEACHER, now=at
        )
    return participant


def record_joined(
    db: Session,
    participant: SessionParticipant,
    *,
    daily_session_id: str,
    joined_at: datetime,
    session_over: bool,
) -> ParticipantPresence:
    presence = presence_crud.get_by_daily_session(db, participant.session_id, daily_session_id)
    if presence is None:
        presence = presence_crud.create(
            db,
            session_id=participant.session_id,
            user_id=participant.user_id,
            daily_session_id=daily_session_id,
            joined_at=joined_at,
        )
    elif joined_at < presence.joined_at:
        # Its `left` came first and had to estimate the start; the `joined` knows it.
        presence_crud.reopen_at(presence, joined_at)
    _sync_participant(db, participant, presence, session_over=session_over)
    return presence


def record_left(
    db: Session,
    participant: SessionParticipant,
    *,
    daily_session_id: str,
    joined_at: datetime,
    left_at: datetime,
    session_over: bool,
) -> ParticipantPresence:
    presence = presence_crud.get_by_daily_session(db, participant.session_id, daily_session_id)
    if presence is None:  # the `left` overtook its `joined`
        presence = presence_crud.create(
            db,
            session_id=participant.session_id,
            user_id=participant.user_id,
            daily_session_id=daily_session_id,
            joined_at=min(joined_at, left_at),
        )
    elif joined_at < presence.joined_at:
        presence_crud.reopen_at(presence, joined_at)
    if presence.closed_by is not PresenceCloser.LEFT:
        # Daily's own `left` beats an end we inferred from meeting.ended or the session's end.
        presence_crud.close(presence, left_at, PresenceCloser.LEFT)
    _sync_participant(db, participant, presence, session_over=session_over)
    return presence


def close_meeting(db: Session, session: TutoringSession, *, ended_at: datetime) -> int:
    """meeting.ended: intervals opened by then are closed, and their people marked left.

    Intervals opened after `ended_at` belong to a newer meeting in the same room (the
    `meeting.ended` of the old one can arrive 20 s late), so they stay open.
    """
    closed = presence_crud.close_open(
        db, session.id, ended_at, PresenceCloser.MEETING_ENDED, joined_by=ended_at
    )
    for participant, _ in participant_crud.list_with_users(db, session.id):
        if participant.status is ConnectionStatus.JOINED and not presence_crud.has_open(
            db, session.id, participant.user_id
        ):
            participant.status = ConnectionStatus.LEFT
            participant.left_at = ended_at
    return closed


def _sync_participant(
    db: Session,
    participant: SessionParticipant,
    presence: ParticipantPresence,
    *,
    session_over: bool,
) -> None:
    """Joined while any interval is open, left once none is: Daily's word beats the API's guess.

    (A `POST /join` marks its caller joined when the token is issued, before Daily has seen
    them; the webhooks say whether they really came in, and when they went.)
    """
    db.flush()
    participant.last_joined_at = max(participant.last_joined_at, presence.joined_at)
    in_call = presence_crud.has_open(db, participant.session_id, participant.user_id)
    if in_call:
        if not session_over:
            participant.status = ConnectionStatus.JOINED
            participant.left_at = None
        return
    participant.status = ConnectionStatus.LEFT
    participant.left_at = presence_crud.last_left_at(
        db, participant.session_id, participant.user_id
    )
