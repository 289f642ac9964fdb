"""A join that answered 503 after its seat committed is safe to retry: same seat, 200.

The seat statement commits on the server before its result comes back (`take_seat` on an
autocommit connection), so a connection lost at that moment leaves a seat whose owner heard
503. Here the seat statement runs for real and the connection is then reported lost.
"""

import uuid

import psycopg2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.crud import participant as participant_crud
from app.models.event import SessionEvent
from app.models.participant import SessionParticipant
from tests.conftest import AccountFactory
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import create_session, join_by_code


def test_a_join_retried_after_a_lost_connection_gets_its_seat(
    committing_app: FastAPI,
    committing_accounts: AccountFactory,
    daily: FakeDaily,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    teacher, student = committing_accounts("teacher"), committing_accounts("student")
    take_seat = participant_crud.take_seat

    def seat_then_lose_the_connection(connection, **kwargs):  # type: ignore[no-untyped-def]
        take_seat(connection, **kwargs)
        lost = psycopg2.OperationalError("server closed the connection unexpectedly")
        raise OperationalError("the seat statement", {}, lost)

    with TestClient(committing_app) as client:
        session = create_session(client, teacher, max_participants=1)
        monkeypatch.setattr(participant_crud, "take_seat", seat_then_lose_the_connection)
        failed = join_by_code(client, student, session["room_code"])
        monkeypatch.setattr(participant_crud, "take_seat", take_seat)
        retried = join_by_code(client, student, session["room_code"])

    assert failed.status_code == 503
    assert failed.json()["code"] == "database_unavailable"
    assert int(failed.headers["Retry-After"]) >= 1
    assert retried.status_code == 200, retried.text
    assert retried.json()["role"] == "student"
    with committing_app.state.session_factory() as db:
        session_id = uuid.UUID(session["id"])
        places = db.scalars(
            select(SessionParticipant).where(SessionParticipant.session_id == session_id)
        ).all()
        seated_events = db.scalar(
            select(func.count())
            .select_from(SessionEvent)
            .where(SessionEvent.session_id == session_id, SessionEvent.type == "participant.seated")
        )
    assert [p.user_id for p in places] == [student.id]  # one place: the seat of the first try
    assert seated_events == 1
