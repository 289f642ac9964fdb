import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import plan_backfills_only
from tests.daily_fake import FakeDaily
from tests.fuzz.api_schema import FUZZ_APP


@pytest.fixture
def fuzz_app(session_factory: sessionmaker[Session], daily: FakeDaily) -> FastAPI:
    FUZZ_APP.state.session_factory = session_factory
    plan_backfills_only(FUZZ_APP)
    return FUZZ_APP
