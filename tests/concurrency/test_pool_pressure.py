"""More requests than database connections: they queue, none times out."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.main import create_app
from tests.conftest import TEST_PASSWORD, AccountFactory, make_settings, truncate_all
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import create_session, join_by_code

pytestmark = pytest.mark.storm


def test_a_login_and_join_rush_on_a_tiny_pool_completes(
    engine: Engine, committing_accounts: AccountFactory, daily: FakeDaily
) -> None:
    """Two connections, 40 threads, 60 requests at once. A request that holds a connection
    while it waits for a thread, behind threads that wait for connections, would stall
    every one of them until the pool timeout; here each must simply wait its turn."""
    app = create_app(
        make_settings(
            database_pool_size=2,
            database_max_overflow=0,
            database_pool_timeout_seconds=5,
            rate_limit_enabled=False,
        )
    )
    teacher = committing_accounts("teacher")
    students = [committing_accounts("student") for _ in range(30)]
    try:
        with TestClient(app) as client:
            session = create_session(client, teacher, max_participants=50)

            def login(index: int) -> int:
                form = {"username": students[index].user.email, "password": TEST_PASSWORD}
                return client.post("/api/v1/auth/login", data=form).status_code

            def join(index: int) -> int:
                return join_by_code(client, students[index], session["room_code"]).status_code

            with ThreadPoolExecutor(max_workers=60) as pool:
                logins = [pool.submit(login, i) for i in range(30)]
                joins = [pool.submit(join, i) for i in range(30)]
                statuses = [future.result() for future in logins + joins]
        assert statuses == [200] * 60
    finally:
        app.state.engine.dispose()
        truncate_all(engine)
