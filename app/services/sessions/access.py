"""Who may see or change a session. Outsiders get 404, so ids reveal nothing."""

import uuid

from sqlalchemy.orm import Session

from app.core.errors import NotSessionTeacher, SessionNotFound
from app.crud import participant as participant_crud
from app.crud import session as session_crud
from app.models.participant import SessionParticipant
from app.models.session import TutoringSession
from app.models.user import User


def load_visible(
    db: Session, user: User, session_id: uuid.UUID
) -> tuple[TutoringSession, SessionParticipant | None]:
    """The session and the caller's participant row, for its teacher or a participant."""
    session = session_crud.get(db, session_id)
    if session is None:
        raise SessionNotFound()
    participant = participant_crud.get(db, session_id, user.id)
    if session.teacher_id != user.id and participant is None:
        raise SessionNotFound()
    return session, participant


def load_owned(db: Session, user: User, session_id: uuid.UUID, *, lock: bool) -> TutoringSession:
    """The session, for its teacher only: a participant gets 403, anyone else 404."""
    session = (
        session_crud.get_for_update(db, session_id) if lock else session_crud.get(db, session_id)
    )
    if session is None:
        raise SessionNotFound()
    if session.teacher_id != user.id:
        if participant_crud.get(db, session_id, user.id) is None:
            raise SessionNotFound()
        raise NotSessionTeacher()
    return session
