"""The list and attendance queries can use their indexes, so their cost follows one user's or one
session's rows, not the table's size (the second scenario of bench/README: p95 flat as data
grows tenfold).

The queries are the ones the app sends: each crud function runs once with the SQL captured, then
PostgreSQL EXPLAINs that SQL with the same parameters. On the handful of rows a test inserts a
sequential scan is the cheapest plan whatever the indexes, so `SET LOCAL enable_seqscan = off`
asks the question the test means: *can* this query use the index at all? A plan that still scans
(or walks a whole index with no `Index Cond`) cannot, and it will read every row of the table in
production.
"""

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from app.crud import participant as participant_crud
from app.crud import presence as presence_crud
from app.crud import session as session_crud
from app.db.types import utcnow
from app.models.participant import ParticipantRole, SessionParticipant
from app.models.presence import ParticipantPresence
from app.models.session import TutoringSession
from app.models.user import UserRole
from tests.conftest import Account, AccountFactory

Captured = list[tuple[str, Any]]


@contextmanager
def captured_sql(db: Session) -> Iterator[Captured]:
    statements: Captured = []
    connection = db.connection()

    def capture(
        _conn: object, _cursor: object, statement: str, parameters: Any, *_: object
    ) -> None:
        statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", capture)


def plan_of(db: Session, statement: str, parameters: Any) -> str:
    db.execute(text("SET LOCAL enable_seqscan = off"))
    cursor = db.connection().connection.cursor()
    cursor.execute(f"EXPLAIN {statement}", parameters)
    return "\n".join(row[0] for row in cursor.fetchall())


def plans(db: Session, call: Callable[[], object]) -> list[str]:
    with captured_sql(db) as statements:
        call()
    return [plan_of(db, statement, parameters) for statement, parameters in statements]


def uses_index_lookup(plan: str, index: str, column: str) -> bool:
    """`index` is used to *find* rows by `column` (an Index Cond), not walked end to end."""
    lines = plan.splitlines()
    for number, line in enumerate(lines):
        if re.search(rf"\b{index}\b", line):
            following = "\n".join(lines[number + 1 : number + 3])
            if re.search(rf"Index Cond: \(.*\b{column}\b", following):
                return True
    return False


@pytest.fixture
def classroom(db: Session, make_account: AccountFactory) -> tuple[TutoringSession, Account]:
    """One session with one seated student who was in the call once."""
    teacher, student = make_account(UserRole.TEACHER), make_account(UserRole.STUDENT)
    now = utcnow()
    session = _session(db, teacher.id, "Plans", now)
    db.add_all(
        [
            _seat(session.id, student.id, now),
            ParticipantPresence(
                session_id=session.id,
                user_id=student.id,
                daily_session_id=uuid.uuid4().hex,
                joined_at=now,
            ),
        ]
    )
    db.flush()
    _neighbours(db, make_account, now)
    return session, student


def _session(db: Session, teacher_id: uuid.UUID, title: str, now: datetime) -> TutoringSession:
    session = TutoringSession(
        title=title,
        teacher_id=teacher_id,
        room_name=f"tutorium-plans-{uuid.uuid4().hex[:8]}",
        room_url="https://example.daily.co/plans",
        room_code=uuid.uuid4().hex[:8].upper(),
        expires_at=now + timedelta(hours=2),
    )
    db.add(session)
    db.flush()
    return session


def _seat(session_id: uuid.UUID, user_id: uuid.UUID, now: datetime) -> SessionParticipant:
    return SessionParticipant(
        session_id=session_id,
        user_id=user_id,
        role=ParticipantRole.STUDENT,
        first_joined_at=now,
        last_joined_at=now,
    )


def _neighbours(db: Session, make_account: AccountFactory, now: datetime) -> None:
    """Other classes around it (40 sessions of the same 5 students), then ANALYZE (rolled back
    with the test): with one row per table every index costs the same, and PostgreSQL 18 may
    then walk any index end to end rather than look the session up; with a few hundred rows
    the planner sees what production's tables look like."""
    teacher = make_account(UserRole.TEACHER)
    students = [make_account(UserRole.STUDENT) for _ in range(5)]
    for n in range(40):
        other = _session(db, teacher.id, f"Neighbour {n}", now)
        db.add_all(_seat(other.id, student.id, now) for student in students)
    db.flush()
    db.execute(text("ANALYZE users, sessions, session_participants, participant_presence"))


def list_plans(db: Session, user_id: uuid.UUID) -> list[str]:
    return plans(
        db,
        lambda: session_crud.list_for_user(
            db, user_id, status=None, now=utcnow(), limit=20, offset=0
        ),
    )


def test_list_sessions_looks_taught_sessions_up_by_teacher(
    db: Session, classroom: tuple[TutoringSession, Account]
) -> None:
    session, _ = classroom
    for plan in list_plans(db, session.teacher_id):
        assert uses_index_lookup(plan, "ix_sessions_teacher_id_created_at", "teacher_id"), plan


def test_list_sessions_looks_joined_sessions_up_by_participant(
    db: Session, classroom: tuple[TutoringSession, Account]
) -> None:
    _, student = classroom
    for plan in list_plans(db, student.id):
        assert uses_index_lookup(plan, "ix_session_participants_user_id", "user_id"), plan


def test_attendance_reads_one_sessions_rows_by_index(
    db: Session, classroom: tuple[TutoringSession, Account]
) -> None:
    session, _ = classroom
    (presence_plan,) = plans(db, lambda: presence_crud.list_for_session(db, session.id))
    assert uses_index_lookup(
        presence_plan, "ix_participant_presence_session_id_user_id", "session_id"
    ), presence_plan
    (participants_plan,) = plans(db, lambda: participant_crud.list_with_users(db, session.id))
    assert uses_index_lookup(
        participants_plan, "uq_session_participants_session_user", "session_id"
    ), participants_plan
