"""The read-growth bench's data (bench/read_seed.py): the schema accepts every row, and the
measured users' reads return the same rows however much the pool around them grows, which is
what lets the bench compare their latency across sizes."""

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from app.db.types import utcnow
from app.models.presence import ParticipantPresence
from app.models.session import TutoringSession
from app.models.user import User
from app.services.attendance import report as attendance
from app.services.sessions import management as sessions
from app.services.sessions.room_codes import normalize_room_code
from bench import read_seed
from bench.seed import room_code

ROOM_BASE_URL = "http://127.0.0.1:9"
MEASURED = read_seed.MEASURED


def measured_reads(db: Session, now: datetime) -> dict[str, Any]:
    """What the three benchmarked endpoints would return."""
    teacher, student = db.get(User, MEASURED.teacher_id), db.get(User, MEASURED.student_id)
    assert teacher is not None
    assert student is not None
    return {
        user.email: sessions.list_sessions(
            db, user, status=None, limit=20, offset=0, now=now
        ).model_dump()
        for user in (teacher, student)
    } | {
        "attendance": attendance.attendance_report(
            db, user=teacher, session_id=MEASURED.session_id, now=now
        ).model_dump()
    }


def count(db: Session, model: type[Any]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_growing_the_pool_leaves_the_measured_reads_alone(
    db_connection: Connection, db: Session
) -> None:
    now = utcnow()
    read_seed.seed(db_connection, total_sessions=150, room_base_url=ROOM_BASE_URL)
    before = measured_reads(db, now)

    read_seed.grow(db_connection, from_sessions=150, to_sessions=450, room_base_url=ROOM_BASE_URL)

    assert count(db, TutoringSession) == 450
    assert count(db, ParticipantPresence) > 10 * 400
    assert measured_reads(db, now) == before
    teacher_page, student_page, report = before.values()
    assert (teacher_page["total"], student_page["total"]) == (50, 50)
    assert len(report["items"]) == read_seed.MEASURED_CLASS + 1  # and the teacher


def test_room_codes_are_the_apps_codes_numbered_like_the_join_storms(
    db_connection: Connection, db: Session
) -> None:
    read_seed.seed(db_connection, total_sessions=120, room_base_url=ROOM_BASE_URL)
    rows = db.execute(select(TutoringSession.room_name, TutoringSession.room_code)).all()
    assert len(rows) == 120
    for room_name, code in rows:
        assert normalize_room_code(code) == code
        assert code == room_code(int(room_name.rsplit("-", 1)[1]))
