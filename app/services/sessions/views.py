"""Turning session rows into what the API returns."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from app.crud import session as session_crud
from app.models.session import TutoringSession
from app.schemas.session import SessionRead
from app.services.sessions.lifecycle import effective_status
from app.services.sessions.room_codes import format_room_code


def to_reads(db: Session, sessions: Sequence[TutoringSession], now: datetime) -> list[SessionRead]:
    counts = session_crud.seat_counts(db, [session.id for session in sessions])
    return [
        SessionRead.model_validate(
            {
                **{column: getattr(session, column) for column in _COLUMNS},
                "status": effective_status(session, now),
                "room_code": format_room_code(session.room_code),
                "seated_count": counts.get(session.id, (0, 0))[0],
                "participant_count": counts.get(session.id, (0, 0))[0],
                "present_count": counts.get(session.id, (0, 0))[1],
            }
        )
        for session in sessions
    ]


def to_read(db: Session, session: TutoringSession, now: datetime) -> SessionRead:
    return to_reads(db, [session], now)[0]


_COLUMNS = (
    "id",
    "title",
    "description",
    "teacher_id",
    "max_participants",
    "room_name",
    "room_url",
    "scheduled_start_at",
    "duration_minutes",
    "recording",
    "screen_sharer_id",
    "expires_at",
    "started_at",
    "ended_at",
    "created_at",
    "updated_at",
)
