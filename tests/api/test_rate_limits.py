"""Abuse limits, run once on in-memory counts and once on the Redis of this machine."""

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from limits.storage import storage_from_string
from sqlalchemy.orm import Session, sessionmaker

from app.main import create_app
from app.services.accounts.rate_limits import AbuseGuard
from devtools.testdb import DEFAULT_TEST_REDIS_URL
from tests.conftest import TEST_PASSWORD, Account, AccountFactory, make_settings
from tests.daily_fake import FakeDaily
from tests.e2e.stack import free_port
from tests.own_servers import start_redis
from tests.sessions_helpers import create_session, join_by_code

LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"
LIMIT_LOG = "app.services.accounts.limit_storage"
LIMITS = {
    "rate_limit_join_code": "3/minute",
    "rate_limit_login": "2/minute",
    "rate_limit_login_ip": "4/minute",
    "rate_limit_register": "2/hour",
}


@pytest.fixture(
    params=["memory://", os.environ.get("TEST_REDIS_URL") or DEFAULT_TEST_REDIS_URL],
    ids=["memory", "redis"],
)
def limited_client(
    request: pytest.FixtureRequest, session_factory: sessionmaker[Session], daily: FakeDaily
) -> Iterator[TestClient]:
    settings = make_settings(rate_limit_storage_url=request.param, **LIMITS)
    app = create_app(settings)
    app.state.session_factory = session_factory
    # A fresh key prefix per test keeps Redis counts from leaking between tests.
    storage = (
        storage_from_string(request.param, key_prefix=f"tutorium-test-{uuid.uuid4().hex}")
        if request.param.startswith("redis")
        else None
    )
    app.state.abuse_guard = AbuseGuard(settings, storage=storage)
    with TestClient(app) as client:
        yield client


def test_wrong_codes_lock_out_the_guesser_even_for_a_right_code(
    limited_client: TestClient, teacher: Account, student: Account
) -> None:
    session = create_session(limited_client, teacher)
    for _ in range(3):
        assert join_by_code(limited_client, student, "ZZZZ-ZZZZ").status_code == 404
    blocked = join_by_code(limited_client, student, session["room_code"])
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "rate_limited"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60


def test_code_lookup_limit_is_per_ip_too(
    limited_client: TestClient, teacher: Account, make_account: AccountFactory
) -> None:
    session = create_session(limited_client, teacher)
    for _ in range(3):
        join_by_code(limited_client, make_account("student"), "ZZZZ-ZZZZ")
    fresh_account = make_account("student")
    assert join_by_code(limited_client, fresh_account, session["room_code"]).status_code == 429


def test_successful_code_joins_do_not_count(
    limited_client: TestClient, teacher: Account, make_account: AccountFactory
) -> None:
    session = create_session(limited_client, teacher, max_participants=10)
    for _ in range(6):
        assert join_by_code(limited_client, make_account(), session["room_code"]).status_code == 200


def test_failed_logins_per_email_then_per_ip(
    limited_client: TestClient, student: Account, make_account: AccountFactory
) -> None:
    email = student.user.email
    for _ in range(2):
        wrong = limited_client.post(LOGIN, data={"username": email, "password": "wrong-password"})
        assert wrong.status_code == 401
    right = limited_client.post(LOGIN, data={"username": email, "password": TEST_PASSWORD})
    assert right.status_code == 429
    assert "Retry-After" in right.headers
    other = make_account("student")
    assert (
        limited_client.post(
            LOGIN, data={"username": other.user.email, "password": TEST_PASSWORD}
        ).status_code
        == 200
    )
    for _ in range(2):
        limited_client.post(LOGIN, data={"username": "ghost@example.com", "password": "nope-nope"})
    assert (
        limited_client.post(
            LOGIN, data={"username": other.user.email, "password": TEST_PASSWORD}
        ).status_code
        == 429
    )


def test_successful_logins_do_not_count(limited_client: TestClient, student: Account) -> None:
    for _ in range(6):
        response = limited_client.post(
            LOGIN, data={"username": student.user.email, "password": TEST_PASSWORD}
        )
        assert response.status_code == 200


def test_registrations_per_ip(limited_client: TestClient) -> None:
    def register(n: int) -> int:
        body = {
            "email": f"new{n}-{uuid.uuid4().hex[:6]}@example.com",
            "password": "a long enough password",
            "full_name": "New Person",
            "role": "student",
        }
        return limited_client.post(REGISTER, json=body).status_code

    assert [register(n) for n in range(3)] == [201, 201, 429]


def test_limits_can_be_switched_off(
    session_factory: sessionmaker[Session], daily: FakeDaily, teacher: Account, student: Account
) -> None:
    app = create_app(make_settings(rate_limit_enabled=False, **LIMITS))
    app.state.session_factory = session_factory
    with TestClient(app) as client:
        for _ in range(5):
            assert join_by_code(client, student, "ZZZZ-ZZZZ").status_code == 404


def test_bad_limit_notation_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="rate_limit_login"):
        make_settings(rate_limit_login="lots")


def test_redis_down_counts_in_memory_and_comes_back(
    session_factory: sessionmaker[Session],
    daily: FakeDaily,
    teacher: Account,
    student: Account,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The limiter's own Redis, started after the API: down first, then back."""
    port = free_port()
    app = create_app(make_settings(rate_limit_storage_url=f"redis://127.0.0.1:{port}/0", **LIMITS))
    app.state.session_factory = session_factory
    with TestClient(app) as client, caplog.at_level(logging.WARNING, logger=LIMIT_LOG):
        session = create_session(client, teacher)
        right = client.post(LOGIN, data={"username": student.user.email, "password": TEST_PASSWORD})
        assert right.status_code == 200
        for _ in range(3):
            assert join_by_code(client, student, "ZZZZ-ZZZZ").status_code == 404
        assert join_by_code(client, student, session["room_code"]).status_code == 429
        ready = client.get("/health/ready")
        assert (ready.status_code, ready.json()["rate_limit_storage"]) == (200, "degraded")
        assert "tutorium_rate_limit_storage_degraded 1.0" in client.get("/metrics").text
        [warning] = [r for r in caplog.records if r.name == LIMIT_LOG]
        assert "memory" in warning.getMessage()

        own_redis = start_redis(tmp_path, port)
        try:
            assert client.get("/health/ready").json()["rate_limit_storage"] == "ok"
            assert "tutorium_rate_limit_storage_degraded 0.0" in client.get("/metrics").text
            assert join_by_code(client, student, "ZZZZ-ZZZZ").status_code == 404
            assert own_redis.client().keys("LIMITS*")  # counted in Redis again
        finally:
            own_redis.stop()
