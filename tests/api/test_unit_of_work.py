"""The request's unit of work commits before the response is sent."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api.deps import DbSession
from app.db.session import on_rollback
from app.models.user import User, UserRole
from tests.conftest import Account


def test_a_failed_commit_reaches_the_client_as_an_error(
    app: FastAPI, student: Account, db: Session
) -> None:
    undone: list[str] = []

    @app.post("/_test/duplicate-at-commit")
    def duplicate_at_commit(session: DbSession) -> dict[str, bool]:
        # Not flushed here: the unique violation surfaces only at commit time.
        session.add(
            User(
                email=student.user.email,
                full_name="Twin",
                hashed_password="x",
                role=UserRole.STUDENT,
            )
        )
        on_rollback(session, lambda: undone.append("compensated"))
        return {"ok": True}

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/_test/duplicate-at-commit")

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error.", "code": "internal_error"}
    assert undone == ["compensated"]
    assert len(db.scalars(select(User).where(User.full_name == "Twin")).all()) == 0
