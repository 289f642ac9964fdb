"""Property-based requests from the app's own OpenAPI document (schemathesis).

Every operation is called with a teacher's valid JWT and generated input; no
response may be a server error, and every response must match its documented
schema. Bounded so the whole run stays well under two minutes.
"""

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy.orm import Session, sessionmaker

from app.main import create_app
from tests.conftest import Account, make_settings
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import create_session, seat

MAX_EXAMPLES = 25


# Built once at import, as schemathesis collects operations then; each test binds it to
# that test's rolled-back database transaction below.
FUZZ_APP = create_app(make_settings(rate_limit_enabled=False))
# The live feed is excluded: a stream that lasts until the session ends has no body to
# validate, and tests/e2e/test_feed.py drives it over real HTTP.
schema = schemathesis.openapi.from_asgi("/openapi.json", FUZZ_APP).exclude(
    path_regex=r"/feed$", method="GET"
)


@pytest.fixture
def fuzz_app(session_factory: sessionmaker[Session], daily: FakeDaily) -> FastAPI:
    FUZZ_APP.state.session_factory = session_factory
    return FUZZ_APP


@pytest.fixture
def live_session(fuzz_app: FastAPI, teacher: Account, student: Account) -> dict[str, str]:
    """A real session with a seated student, so generated requests reach past the 404s."""
    with TestClient(fuzz_app) as client:
        session = create_session(client, teacher)
        seat(client, student, session)
    return {"session_id": session["id"], "user_id": str(student.id)}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors_and_documented_responses(
    case: schemathesis.Case, teacher: Account, live_session: dict[str, str]
) -> None:
    for name in case.path_parameters or {}:
        if name in live_session:
            case.path_parameters[name] = live_session[name]
    case.call_and_validate(
        headers=teacher.headers, checks=[not_a_server_error, response_schema_conformance]
    )
