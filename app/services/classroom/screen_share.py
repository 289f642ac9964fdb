"""Screen share by invitation: the teacher lets one student at a time share their screen.

Students join with the room's permissions, which let them send camera and microphone but not
their screen; the owner (teacher) is never restricted. A grant is Daily's
`update-permissions` for the student's participant id (from their latest `participant.joined`),
so it lasts for that stay in the call only: a student who leaves and rejoins comes back with
the room's permissions, and the webhook of that leave or rejoin clears our record of the grant.
"""

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from app.core.errors import NotInCall, ParticipantNotFound
from app.crud import event as event_crud
from app.crud import participant as participant_crud
from app.crud import presence as presence_crud
from app.crud import session as session_crud
from app.models.event import EventSource
from app.models.participant import ParticipantRole
from app.models.session import TutoringSession
from app.models.user import User
from app.schemas.classroom import ScreenShareState
from app.services.daily.client import SCREEN_SENDS, STUDENT_SENDS, DailyClient
from app.services.sessions import lifecycle
from app.services.sessions.access import load_owned

_WITH_SCREEN = [*STUDENT_SENDS, *SCREEN_SENDS]
_WITHOUT_SCREEN = list(STUDENT_SENDS)


def set_screen_share(
    db: Session,
    *,
    daily: DailyClient,
    teacher: User,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    allowed: bool,
    now: datetime,
) -> ScreenShareState:
    """Grant (taking it back from an earlier student in the same request to Daily) or revoke.
    Daily is called before the row lock is taken; the lock then guards our record."""
    session = load_owned(db, teacher, session_id, lock=False)
    lifecycle.ensure_not_ended(session, now)
    student = participant_crud.get(db, session.id, user_id)
    if student is None or student.role is not ParticipantRole.STUDENT or student.removed_at:
        raise ParticipantNotFound()
    daily_id = presence_crud.latest_open_daily_session(db, session.id, user_id)
    if daily_id is None and allowed:
        raise NotInCall()
    previous = (session.screen_sharer_id, session.screen_sharer_daily_id)
    can_send: dict[str, list[str]] = {}
    if daily_id is not None:
        can_send[daily_id] = _WITH_SCREEN if allowed else _WITHOUT_SCREEN
    if allowed and previous[1] and previous[1] != daily_id:
        can_send[previous[1]] = _WITHOUT_SCREEN
    if can_send:
        daily.update_permissions(session.room_name, can_send)
    locked = session_crud.get_for_update(db, session.id)
    if locked is None:
        raise ParticipantNotFound()
    if allowed:
        # One event, not a revoke plus a grant: both would carry the same instant, and the
        # log's order within an instant is not theirs.
        payload = {"user_id": str(user_id)}
        if previous[0] is not None and previous[0] != user_id:
            payload["taken_from"] = str(previous[0])
        locked.screen_sharer_id, locked.screen_sharer_daily_id = user_id, daily_id
        event_crud.record(
            db,
            session_id=locked.id,
            type="screen_share.granted",
            actor_id=teacher.id,
            payload=payload,
            occurred_at=now,
        )
    else:
        _revoked(db, locked, user_id, reason="revoked_by_teacher", now=now, actor_id=teacher.id)
    return ScreenShareState(user_id=user_id, allowed=allowed)


def _revoked(
    db: Session,
    session: TutoringSession,
    user_id: uuid.UUID,
    *,
    reason: str,
    now: datetime,
    actor_id: uuid.UUID | None = None,
    source: EventSource = EventSource.API,
) -> None:
    if session.screen_sharer_id == user_id:
        session.screen_sharer_id = session.screen_sharer_daily_id = None
    event_crud.record(
        db,
        session_id=session.id,
        type="screen_share.revoked",
        actor_id=actor_id,
        source=source,
        payload={"user_id": str(user_id), "reason": reason},
        occurred_at=now,
    )


def forget_on_rejoin_or_leave(
    db: Session,
    session: TutoringSession,
    user_id: uuid.UUID,
    *,
    daily_id: str,
    left: bool,
    now: datetime,
) -> None:
    """The granted stay ended (`participant.left` of that participant id) or the sharer came
    back as a new participant (a rejoin): Daily dropped the grant with that stay, so do we.
    A late event about another stay changes nothing."""
    if session.screen_sharer_id != user_id:
        return
    same_stay = daily_id == session.screen_sharer_daily_id
    if left != same_stay:
        return
    reason = "left_call" if left else "rejoined"
    _revoked(db, session, user_id, reason=reason, now=now, source=EventSource.WEBHOOK)
