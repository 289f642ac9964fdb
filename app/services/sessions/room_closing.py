"""Ending the call itself: everyone we know of is ejected, then the room is deleted.

Daily does not document that deleting a room ejects the people in it (daily-api.md §10), so a
class that must end now is ended by an explicit eject by `user_ids` (the teacher's and every
seated student's: the ids our tokens carry) before the room goes. Both run after the commit
that ended the session, never under its row lock; a failure is logged and reconcile repeats
both (`reconcile` ejects before each room delete too).
"""

import logging
import uuid

from sqlalchemy.orm import Session

from app.crud import participant as participant_crud
from app.models.session import TutoringSession
from app.services.daily.client import DailyClient, is_rate_limited

logger = logging.getLogger(__name__)


def people_of(db: Session, session: TutoringSession) -> list[str]:
    """The `user_id`s our tokens gave for this session: its teacher and its seated students."""
    students = participant_crud.seated_student_ids(db, session.id)
    return [str(user_id) for user_id in _unique([session.teacher_id, *students])]


def close_room(daily: DailyClient, room_name: str, user_ids: list[str], *, delete: bool) -> None:
    """Eject, then (if `delete`) delete. A 429 on the delete leaves the room to reconcile."""
    daily.eject(room_name, user_ids=user_ids, ban=False)
    if not delete:
        return
    try:
        daily.delete_room(room_name)
    except Exception as exc:
        if not is_rate_limited(exc):
            raise
        logger.info("deleting Daily room %s rate-limited; reconcile deletes it later", room_name)


def _unique(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    return list(dict.fromkeys(ids))
