"""A session's event log, for its teacher: what the API and Daily's webhooks recorded."""

import uuid

from sqlalchemy.orm import Session

from app.crud import event as event_crud
from app.models.user import User
from app.schemas.event import SessionEventPage, SessionEventRead
from app.services.sessions.access import load_owned


def list_events(
    db: Session, *, user: User, session_id: uuid.UUID, limit: int, offset: int
) -> SessionEventPage:
    load_owned(db, user, session_id, lock=False)
    rows, total = event_crud.list_for_session(db, session_id, limit=limit, offset=offset)
    return SessionEventPage(
        items=[SessionEventRead.model_validate(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
