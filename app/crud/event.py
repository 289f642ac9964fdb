import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, insert, select
from sqlalchemy.orm import Session

from app.db.types import utcnow
from app.models.event import EventSource, SessionEvent

_INSERT_EVENT = insert(SessionEvent.__table__)


def record(
    db: Session,
    *,
    session_id: uuid.UUID,
    type: str,
    source: EventSource = EventSource.API,
    actor_id: uuid.UUID | None = None,
    payload: dict[str, Any] | None = None,
    external_id: str | None = None,
    occurred_at: datetime | None = None,
) -> None:
    """Append to the log with a plain INSERT, sent at once: no ORM object is ever read back,
    and an ORM flush per event costs the join path more than the INSERT itself."""
    db.execute(
        _INSERT_EVENT,
        {
            "id": uuid.uuid4(),
            "session_id": session_id,
            "type": type,
            "source": source,
            "actor_id": actor_id,
            "payload": payload or {},
            "external_id": external_id,
            "occurred_at": occurred_at or utcnow(),
        },
    )


def list_for_session(
    db: Session, session_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[list[SessionEvent], int]:
    where = SessionEvent.session_id == session_id
    total = db.scalar(select(func.count()).select_from(SessionEvent).where(where)) or 0
    rows = db.scalars(
        select(SessionEvent)
        .where(where)
        .order_by(SessionEvent.occurred_at, SessionEvent.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def external_id_seen(db: Session, external_id: str) -> bool:
    return bool(db.scalar(select(exists().where(SessionEvent.external_id == external_id))))


def webhook_event_seen(
    db: Session, session_id: uuid.UUID, type: str, payload_key: str, value: str
) -> bool:
    """Has this session already stored a webhook event of `type` whose payload has `key=value`?

    Daily sometimes redelivers an event under a new id; its payload's own id is the same.
    """
    return bool(
        db.scalar(
            select(
                exists().where(
                    SessionEvent.session_id == session_id,
                    SessionEvent.source == EventSource.WEBHOOK,
                    SessionEvent.type == type,
                    SessionEvent.payload[payload_key].as_string() == value,
                )
            )
        )
    )
