"""Seats and status under real concurrency: many connections to PostgreSQL at once."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.models.participant import ParticipantRole, SessionParticipant
from tests.conftest import AccountFactory
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import SESSIONS, create_session, join_by_code

pytestmark = pytest.mark.storm


def _seated(app: FastAPI) -> list[SessionParticipant]:
    with app.state.session_factory() as db:
        return list(
            db.scalars(
                select(SessionParticipant).where(SessionParticipant.role == ParticipantRole.STUDENT)
            )
        )


def test_fifty_students_storm_a_ten_seat_session(
    committing_app: FastAPI, committing_accounts: AccountFactory, daily: FakeDaily
) -> None:
    teacher = committing_accounts("teacher")
    students = [committing_accounts("student") for _ in range(50)]
    with TestClient(committing_app) as client:
        session = create_session(client, teacher, max_participants=10)
        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(
                pool.map(
                    lambda s: join_by_code(client, s, session["room_code"]).status_code, students
                )
            )
    assert sorted(statuses) == [200] * 10 + [409] * 40
    seated = _seated(committing_app)
    assert len(seated) == 10
    assert len({row.user_id for row in seated}) == 10


def test_the_same_student_joining_twice_at_once_gets_one_seat(
    committing_app: FastAPI, committing_accounts: AccountFactory, daily: FakeDaily
) -> None:
    teacher = committing_accounts("teacher")
    student = committing_accounts("student")
    with TestClient(committing_app) as client:
        session = create_session(client, teacher, max_participants=3)
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(
                pool.map(
                    lambda _: join_by_code(client, student, session["room_code"]).status_code,
                    range(8),
                )
            )
    assert statuses == [200] * 8
    assert len(_seated(committing_app)) == 1


def test_end_racing_joins_is_atomic(
    committing_app: FastAPI, committing_accounts: AccountFactory, daily: FakeDaily
) -> None:
    """Each join lands wholly before the end (seated, then marked left) or is refused."""
    teacher = committing_accounts("teacher")
    students = [committing_accounts("student") for _ in range(20)]
    with TestClient(committing_app) as client:
        session = create_session(client, teacher, max_participants=30)

        def act(index: int) -> tuple[int, str | None]:
            if index == 10:
                ended = client.post(f"{SESSIONS}/{session['id']}/end", headers=teacher.headers)
                return ended.status_code, "end"
            student = students[index if index < 10 else index - 1]
            response = join_by_code(client, student, session["room_code"])
            return response.status_code, response.json().get("code")

        with ThreadPoolExecutor(max_workers=21) as pool:
            outcomes = list(pool.map(act, range(21)))
        final = client.get(f"{SESSIONS}/{session['id']}", headers=teacher.headers).json()

    joins = [outcome for outcome in outcomes if outcome[1] != "end"]
    assert (200, "end") in outcomes
    assert all(status == 200 or code == "session_ended" for status, code in joins)
    seated = _seated(committing_app)
    assert len(seated) == sum(1 for status, _ in joins if status == 200)
    assert all(row.status.value == "left" for row in seated)
    assert final["status"] == "ended"
    assert final["present_count"] == 0
