"""Shared fixtures: real PostgreSQL, one rolled-back transaction per test, small builders.

Tests that need real concurrency use `committing_app` (the real engine) and
TRUNCATE afterwards; everything else runs inside an outer transaction that is
rolled back, so tests never see each other's rows.
"""

import base64
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.core.security import create_access_token, hash_password
from app.db.base import Base
from app.db.session import AUTOCOMMIT_CONNECT
from app.main import create_app
from app.models.user import User, UserRole
from devtools.testdb import DEFAULT_TEST_DATABASE_URL
from tests.daily_fake import FakeDaily, mocked_daily

TEST_DAILY_API_URL = "https://api.daily.test/v1"
TEST_WEBHOOK_SECRET = base64.b64encode(b"tutorium-test-webhook-secret-0123").decode()
TEST_PASSWORD = "correct horse battery"


_MARK_BY_DIRECTORY = {"e2e": pytest.mark.e2e, "fuzz": pytest.mark.fuzz}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in tests/e2e and tests/fuzz carries its directory's marker."""
    root = Path(__file__).parent
    for item in items:
        parts = item.path.relative_to(root).parts
        if parts and parts[0] in _MARK_BY_DIRECTORY:
            item.add_marker(_MARK_BY_DIRECTORY[parts[0]])


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": os.environ.get("TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL,
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        "daily_api_key": "test-daily-api-key",
        "daily_api_url": TEST_DAILY_API_URL,
        "daily_webhook_secret": TEST_WEBHOOK_SECRET,
        "daily_max_attempts": 3,
        "daily_retry_budget_seconds": 2.0,
        "cors_origins": ["https://teacher.example.com"],
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def settings() -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_connection(engine: Engine) -> Iterator[Connection]:
    connection = engine.connect()
    outer = connection.begin()
    yield connection
    outer.rollback()
    connection.close()


@pytest.fixture
def session_factory(db_connection: Connection) -> sessionmaker[Session]:
    """Each request's commit only releases a SAVEPOINT inside the outer transaction, and the
    join's autocommit statements run on the same connection: nothing outlives the test."""
    return sessionmaker(
        bind=db_connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
        info={AUTOCOMMIT_CONNECT: lambda: nullcontext(db_connection)},
    )


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    yield session
    session.close()


class PlannedBackfills:
    """Stands in for the app's `BackfillRetries`: records what it is asked to plan and runs
    nothing, since its thread would share the test's one connection
    (tests/services/test_backfill_retries.py runs the real one)."""

    def __init__(self) -> None:
        self.planned: list[tuple[str, uuid.UUID]] = []

    def after_end(self, session_id: uuid.UUID) -> None:
        self.planned.append(("after_end", session_id))

    def meeting_ended(self, session_id: uuid.UUID) -> None:
        self.planned.append(("meeting_ended", session_id))

    def stop(self) -> None:
        pass


def plan_backfills_only(application: FastAPI) -> PlannedBackfills:
    application.state.backfill_retries = PlannedBackfills()
    return application.state.backfill_retries


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]) -> FastAPI:
    application = create_app(settings)
    application.state.session_factory = session_factory
    plan_backfills_only(application)
    return application


@pytest.fixture
def planned_backfills(app: FastAPI) -> PlannedBackfills:
    backfills: PlannedBackfills = app.state.backfill_retries
    return backfills


@pytest.fixture
def daily() -> Iterator[FakeDaily]:
    """Daily's REST API, mocked: every call a test makes must be declared here."""
    yield from mocked_daily(TEST_DAILY_API_URL)


@pytest.fixture
def client(app: FastAPI, daily: FakeDaily) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(TEST_PASSWORD)


@dataclass
class Account:
    user: User
    token: str

    @property
    def id(self) -> uuid.UUID:
        return self.user.id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


AccountFactory = Callable[..., Account]


def _account_builder(
    db: Session, settings: Settings, password_hash: str, *, commit: bool
) -> AccountFactory:
    def build(
        role: UserRole | str = UserRole.STUDENT,
        *,
        token_issued_at: datetime | None = None,
        **fields: Any,
    ) -> Account:
        """`token_issued_at`: the access token's clock (now unless given)."""
        role = UserRole(role)
        suffix = uuid.uuid4().hex[:10]
        user = User(
            email=fields.pop("email", f"{role.value}-{suffix}@example.com"),
            full_name=fields.pop("full_name", f"{role.value.title()} {suffix}"),
            hashed_password=password_hash,
            role=role,
            **fields,
        )
        db.add(user)
        if commit:
            db.commit()
        else:
            db.flush()
        token = create_access_token(
            user_id=user.id, role=role.value, settings=settings, now=token_issued_at
        ).token
        return Account(user=user, token=token)

    return build


@pytest.fixture
def make_account(db: Session, settings: Settings, password_hash: str) -> AccountFactory:
    return _account_builder(db, settings, password_hash, commit=False)


@pytest.fixture
def teacher(make_account: AccountFactory) -> Account:
    return make_account(UserRole.TEACHER, full_name="Ada Teacher")


@pytest.fixture
def student(make_account: AccountFactory) -> Account:
    return make_account(UserRole.STUDENT, full_name="Sam Student")


def truncate_all(engine: Engine) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} CASCADE"))


@pytest.fixture
def committing_app(settings: Settings, engine: Engine) -> Iterator[FastAPI]:
    """An app on the real engine, for tests that need several connections at once."""
    application = create_app(settings)
    plan_backfills_only(application)
    yield application
    application.state.engine.dispose()
    truncate_all(engine)


@pytest.fixture
def committing_accounts(
    committing_app: FastAPI, settings: Settings, password_hash: str
) -> Iterator[AccountFactory]:
    session = committing_app.state.session_factory()
    yield _account_builder(session, settings, password_hash, commit=True)
    session.close()
