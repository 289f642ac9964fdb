"""Property-based requests from the app's own OpenAPI document (schemathesis).

Every operation is called as a teacher and as a student (valid JWTs) with generated
input, valid and invalid, and every built-in check runs: no server error, status codes,
content types, headers and bodies as documented, invalid data refused, valid data
accepted (or answered with a documented error), methods and auth as declared. Bounded
so the whole run stays within a few minutes.
"""

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from tests.conftest import Account
from tests.fuzz.api_schema import EXCLUDED_CHECKS, schema
from tests.sessions_helpers import create_session, seat

MAX_EXAMPLES = 25


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
@pytest.mark.parametrize("role", ["teacher", "student"])
def test_every_check_passes(
    case: schemathesis.Case,
    role: str,
    teacher: Account,
    student: Account,
    live_session: dict[str, str],
) -> None:
    # Real ids reach past the 404s; a negative case keeps its deliberately invalid ones.
    if case.meta is None or case.meta.generation.mode.is_positive:
        for name in case.path_parameters or {}:
            if name in live_session:
                case.path_parameters[name] = live_session[name]
    caller = teacher if role == "teacher" else student
    case.call_and_validate(headers=caller.headers, excluded_checks=EXCLUDED_CHECKS)
