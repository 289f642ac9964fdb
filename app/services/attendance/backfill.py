"""Attendance that survives lost webhooks: presence read back from Daily's `/meetings`.

Exponential retries give up after 15 minutes and a FAILED webhook sends nothing, so some
`participant.*` events never arrive. For an ended session, Daily's own record of each meeting
(`GET /meetings?room=…`, `GET /meetings/:id/participants`: `participant_id` = the webhooks'
`session_id`, join time and duration in seconds) fills the gaps: an interval no webhook
recorded is added, and one whose end was only inferred (meeting or session end) gets Daily's.
An interval closed by Daily's own `participant.left` is never touched, so running it twice, or
after every webhook arrived, changes nothing. Each change is logged with `source: backfill`.

Daily is read first, outside any transaction; the changes are then written in one short
transaction on the session's row lock, like a webhook's. Meetings still running are skipped,
and said so in the result, so a caller can come back once they are over
(`backfill_retries`, after a session's end); Daily leaves out joins shorter than 10 s
(daily-api.md §7).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.crud import event as event_crud
from app.crud import presence as presence_crud
from app.crud import session as session_crud
from app.db.session import unit_of_work
from app.models.event import EventSource
from app.models.presence import PresenceCloser
from app.models.session import SessionStatus, TutoringSession
from app.services.attendance import presence
from app.services.daily.client import DailyClient, MeetingAttendance

# No meeting of the room starts before its session was created; the room name is unique to
# the session, so a wide window takes in nothing foreign and tolerates clocks that disagree.
_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class DailyRecord:
    """Everyone in the room's finished meetings, and whether a meeting was still running."""

    attended: list[MeetingAttendance]
    ongoing: bool


@dataclass(frozen=True)
class Backfilled:
    """What one backfill did: `changed` intervals, and `ongoing` when a meeting of the room
    was still running at Daily, so its attendance is not complete yet: try again later."""

    changed: int = 0
    ongoing: bool = False


def fetch(daily: DailyClient, room_name: str, since: datetime) -> DailyRecord:
    """The room's meetings since `since`, as Daily recorded them; running ones are skipped,
    since Daily's record of a meeting is final only once it is over."""
    meetings = list(daily.iter_meetings(room_name, started_after=since - _SLACK))
    finished = [meeting for meeting in meetings if not meeting.get("ongoing")]
    attended = [
        person
        for meeting in finished
        for person in daily.iter_meeting_participants(str(meeting["id"]))
    ]
    return DailyRecord(attended=attended, ongoing=len(finished) < len(meetings))


def backfill_session(
    session_factory: sessionmaker[Session], daily: DailyClient, session_id: uuid.UUID
) -> Backfilled:
    """Apply Daily's record to one ended session (a missing or unended one: nothing to do)."""
    db = session_factory()
    try:
        session = session_crud.get(db, session_id)
        if session is None or session.status is not SessionStatus.ENDED:
            return Backfilled()
        room_name, since = session.room_name, session.created_at
    finally:
        db.close()
    record = fetch(daily, room_name, since)
    with unit_of_work(session_factory) as db:
        session = session_crud.get_for_update(db, session_id)
        if session is None:
            return Backfilled()
        changed = sum(_apply(db, session, person) for person in record.attended)
    return Backfilled(changed=changed, ongoing=record.ongoing)


def _apply(db: Session, session: TutoringSession, person: MeetingAttendance) -> bool:
    participant = presence.seat_for(
        db, session, presence.resolve_user(db, person.user_id), at=person.join_time
    )
    if participant is None or not 0 < len(person.participant_id) <= 64:
        return False
    left_at = person.join_time + timedelta(seconds=person.duration_seconds)
    interval = presence_crud.get_by_daily_session(db, session.id, person.participant_id)
    if interval is not None and interval.closed_by is PresenceCloser.LEFT:
        return False  # Daily's own `participant.left` was received: it stands
    if interval is None:
        interval = presence_crud.create(
            db,
            session_id=session.id,
            user_id=participant.user_id,
            daily_session_id=person.participant_id,
            joined_at=person.join_time,
        )
    presence_crud.reopen_at(interval, min(interval.joined_at, person.join_time))
    presence_crud.close(interval, left_at, PresenceCloser.LEFT)
    participant.last_joined_at = max(participant.last_joined_at, interval.joined_at)
    event_crud.record(
        db,
        session_id=session.id,
        type="participant.backfilled",
        source=EventSource.BACKFILL,
        actor_id=participant.user_id,
        payload={
            "session_id": person.participant_id,
            "user_id": str(participant.user_id),
            "joined_at": interval.joined_at.isoformat(),
            "left_at": interval.left_at.isoformat() if interval.left_at else None,
        },
        occurred_at=left_at,
    )
    db.flush()
    return True
