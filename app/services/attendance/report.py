"""Attendance: how long each person was really in the call, from their presence intervals.

The arithmetic is pure (intervals in, seconds out) so it is tested without a database.
Time is counted up to the session's end: an interval still open counts up to now while the
session runs, and up to its end once it is over (ended, or past `expires_at`).
"""

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.crud import participant as participant_crud
from app.crud import presence as presence_crud
from app.crud import user as user_crud
from app.models.participant import ParticipantRole
from app.models.session import SessionStatus, TutoringSession
from app.models.user import User
from app.schemas.attendance import AttendanceReport, AttendanceRow
from app.services.sessions.access import load_owned
from app.services.sessions.lifecycle import effective_status

Interval = tuple[datetime, datetime]
CSV_COLUMNS = tuple(AttendanceRow.model_fields)
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Span:
    """One presence interval as the arithmetic sees it; `left_at` None while open."""

    joined_at: datetime
    left_at: datetime | None


@dataclass(frozen=True)
class Summary:
    first_joined_at: datetime | None
    last_left_at: datetime | None
    total_seconds: float
    join_count: int
    present_now: bool


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Overlapping or touching intervals become one; empty ones disappear."""
    merged: list[Interval] = []
    for start, end in sorted((s, e) for s, e in intervals if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def covered_seconds(intervals: Iterable[Interval]) -> float:
    return sum((end - start).total_seconds() for start, end in merge_intervals(intervals))


def summarize(spans: Sequence[Span], *, counted_until: datetime, running: bool) -> Summary:
    """One person's numbers; `counted_until` is now, or the session's end once it is over."""
    clipped = [(s.joined_at, min(s.left_at or counted_until, counted_until)) for s in spans]
    left_times = [span.left_at for span in spans if span.left_at is not None]
    return Summary(
        first_joined_at=min((span.joined_at for span in spans), default=None),
        last_left_at=max(left_times, default=None),
        total_seconds=covered_seconds(clipped),
        join_count=len(spans),
        present_now=running and any(span.left_at is None for span in spans),
    )


def attendance_ratio(
    present_seconds: float, started_at: datetime | None, counted_until: datetime
) -> float | None:
    """Present time over running time (start to end, or to now), at most 1.0."""
    if started_at is None:
        return None
    running_seconds = (counted_until - started_at).total_seconds()
    if running_seconds <= 0:
        return 0.0
    return round(min(1.0, present_seconds / running_seconds), 4)


def counted_until(session: TutoringSession, now: datetime) -> datetime:
    if effective_status(session, now) is SessionStatus.ENDED:
        return session.ended_at or min(now, session.expires_at)
    return now


def attendance_report(
    db: Session, *, user: User, session_id: uuid.UUID, now: datetime
) -> AttendanceReport:
    session = load_owned(db, user, session_id, lock=False)
    until = counted_until(session, now)
    running = effective_status(session, now) is not SessionStatus.ENDED
    spans: dict[uuid.UUID, list[Span]] = {}
    for presence in presence_crud.list_for_session(db, session.id):
        spans.setdefault(presence.user_id, []).append(Span(presence.joined_at, presence.left_at))
    people = [
        (member, participant.role)
        for participant, member in participant_crud.list_with_users(db, session.id)
    ]
    if all(member.id != session.teacher_id for member, _ in people):
        teacher = user_crud.get_by_id(db, session.teacher_id)
        if teacher is not None:
            people.append((teacher, ParticipantRole.TEACHER))
    rows = []
    for member, role in people:
        summary = summarize(spans.get(member.id, []), counted_until=until, running=running)
        rows.append(
            AttendanceRow(
                user_id=member.id,
                full_name=member.full_name,
                role=role,
                first_joined_at=summary.first_joined_at,
                last_left_at=summary.last_left_at,
                total_seconds=round(summary.total_seconds),
                join_count=summary.join_count,
                present_now=summary.present_now,
                attendance_ratio=attendance_ratio(summary.total_seconds, session.started_at, until),
            )
        )
    rows.sort(key=_row_order)
    return AttendanceReport(items=rows)


def _row_order(row: AttendanceRow) -> tuple[bool, bool, datetime | str, str]:
    """The teacher first, then students in the order they arrived; never-present last."""
    return (
        row.role is not ParticipantRole.TEACHER,
        row.first_joined_at is None,
        row.first_joined_at or "",
        row.full_name.casefold(),
    )


def to_csv(report: AttendanceReport) -> str:
    """The JSON rows as CSV: same columns, ISO 8601 times, empty cells for null."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.items:
        writer.writerow(_cell(value) for value in row.model_dump(mode="json").values())
    return out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A name like "=HYPERLINK(...)" must not run as a formula in the teacher's spreadsheet.
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text
