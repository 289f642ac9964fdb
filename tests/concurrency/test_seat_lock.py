"""A join that waits on the session's row lock decides its seat on what the holder committed.

The seat statement runs after the lock, with a snapshot of its own (`db.statements.LockThen`):
these tests hold the lock in another transaction, change the session there, and let the
waiting join go only when that transaction commits.
"""

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete as delete_statement
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models.participant import ConnectionStatus, ParticipantRole, SessionParticipant
from app.models.session import SessionStatus, TutoringSession
from tests.conftest import AccountFactory
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import create_session, join_by_code


def _wait_until_a_join_waits_on_a_lock(app: FastAPI) -> None:
    with app.state.engine.connect() as connection:
        for _ in range(200):
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            # A transaction keeps its first view of pg_stat_activity: look again in a new one.
            connection.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the join never waited on the session's lock")


@contextmanager
def _holding_the_session_lock(app: FastAPI, session_id: str) -> Iterator[Session]:
    """The session row locked in a transaction of its own, committed when the block ends."""
    with app.state.session_factory() as db:
        db.scalars(
            select(TutoringSession)
            .where(TutoringSession.id == uuid.UUID(session_id))
            .with_for_update()
        ).one()
        yield db
        db.commit()


def _join_while_locked(
    app: FastAPI,
    session: dict[str, str],
    change: Callable[[Session], None],
    join: Callable[[], httpx.Response],
) -> httpx.Response:
    with ThreadPoolExecutor(max_workers=1) as pool:
        with _holding_the_session_lock(app, session["id"]) as holder:
            change(holder)
            waiting: Future[httpx.Response] = pool.submit(join)
            _wait_until_a_join_waits_on_a_lock(app)
        return waiting.result(timeout=30)


def test_a_join_waiting_on_the_lock_counts_the_seat_committed_before_it(
    committing_app: FastAPI, committing_accounts: AccountFactory, daily: FakeDaily
) -> None:
    teacher = committing_accounts("teacher")
    first, second = committing_accounts("student"), committing_accounts("student")
    with TestClient(committing_app) as client:
        session = create_session(client, teacher, max_participants=1)

        def take_the_last_seat(holder: Session) -> None:
            now = datetime.now(UTC)
            holder.add(
                SessionParticipant(
                    session_id=uuid.UUID(session["id"]),
                    user_id=first.id,
                    role=ParticipantRole.STUDENT,
                    status=ConnectionStatus.JOINED,
                    first_joined_at=now,
                    last_joined_at=now,
                )
            )
            holder.flush()

        response = _join_while_locked(
            committing_app,
            session,
            take_the_last_seat,
            lambda: join_by_code(client, second, session["room_code"]),
        )
    assert response.status_code == 409
    assert response.json()["code"] == "session_full"


def test_a_join_waiting_on_the_lock_sees_the_end_committed_before_it(
    committing_app: FastAPI, committing_accounts: AccountFactory, daily: FakeDaily
) -> None:
    teacher, student = committing_accounts("teacher"), committing_accounts("student")
    with TestClient(committing_app) as client:
        session = create_session(client, teacher)

        def end(holder: Session) -> None:
            row = holder.get(TutoringSession, uuid.UUID(session["id"]))
            assert row is not None
            row.status = SessionStatus.ENDED
            holder.flush()

        response = _join_while_locked(
            committing_app,
            session,
            end,
            lambda: join_by_code(client, student, session["room_code"]),
        )
        seats = client.get(
            f"/api/v1/sessions/{session['id']}/participants", headers=teacher.headers
        )
    assert response.status_code == 409
    assert response.json()["code"] == "session_ended"
    assert seats.status_code == 200
    assert [row for row in seats.json()["items"] if row["role"] == "student"] == []


def test_a_join_waiting_on_the_lock_finds_the_session_deleted_before_it(
    committing_app: FastAPI, committing_accounts: AccountFactory, daily: FakeDaily
) -> None:
    teacher, student = committing_accounts("teacher"), committing_accounts("student")
    with TestClient(committing_app) as client:
        session = create_session(client, teacher)

        def delete(holder: Session) -> None:
            holder.execute(
                delete_statement(TutoringSession).where(
                    TutoringSession.id == uuid.UUID(session["id"])
                )
            )

        response = _join_while_locked(
            committing_app,
            session,
            delete,
            lambda: join_by_code(client, student, session["room_code"]),
        )
    assert response.status_code == 404
    assert response.json()["code"] == "room_code_not_found"
