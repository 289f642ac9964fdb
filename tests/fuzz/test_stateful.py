"""Schemathesis' stateful phase: sequences of calls that follow the document's links.

A created session's `id` goes to every session operation, its `room_code` to
`joinSessionByCode`, a registration to a login and a login's `refresh_token` to `refresh`
(app/api/links.py), each step with generated data (mostly valid, some invalid) and every
built-in check on, the stateful ones included: a resource just created must be found, a
deleted one must stay gone.

Run as a teacher and as a student. Sessions are created with the teacher's token in both
runs (a student may not create one, so the student's run would otherwise never get past
that 403), and the student takes a seat in each new session by its room code, as a class
does; every other step is the run's own caller. Without the seat, the student's reads of a
session they are not in answer 404 by design (ids reveal nothing), which the
resource-availability check would take for a session that vanished.
"""

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky
from schemathesis import Case, CheckContext, Response
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import ensure_resource_availability

from tests.conftest import Account
from tests.fuzz.api_schema import EXCLUDED_CHECKS, schema
from tests.sessions_helpers import seat

# Bounded for 2 shared cores: about 200 steps per role.
SCENARIOS = 20
STEPS_PER_SCENARIO = 10
# Runs of the machine that may end early on hypothesis' `Flaky` (see `run_scenarios`).
ATTEMPTS = 10

LinkedWorkflow: Any = schema.as_state_machine()


def _operation_id(case: Case) -> str:
    operation_id: str = case.operation.definition.raw["operationId"]
    return operation_id


def _not_the_created_session(ctx: CheckContext, case: Case) -> bool:
    """Whether a 404 from `joinSessionByCode` says nothing about the session just created.

    That operation names its session by a body field, the room code, and schemathesis'
    resource-availability check knows only paths: it would take any 404 there, after a
    created session, for that session vanishing, also when the body was generated rather
    than taken from the link (another code), or when a `DELETE /sessions/{id}` earlier in
    the scenario removed the session. The check stands for the created session's own code,
    while that session exists."""
    parent = ctx.internals.find_parent(case_id=case.id)
    if _operation_id(case) != "joinSessionByCode" or parent is None:
        return False
    created = ctx.internals.find_response(case_id=parent.id)
    if created is None or _operation_id(parent) != "createSession":
        return False
    session = created.json()
    if not isinstance(case.body, dict) or case.body.get("room_code") != session["room_code"]:
        return True
    for earlier in ctx.internals.find_all_cases():
        answer = ctx.internals.find_response(case_id=earlier.id)
        if (
            _operation_id(earlier) == "deleteSession"
            and str((earlier.path_parameters or {}).get("session_id")) == session["id"]
            and answer is not None
            and answer.status_code == 204
        ):
            return True
    return False


def created_resource_available_unless_not_the_created_session(
    ctx: CheckContext, response: Response, case: Case
) -> bool | None:
    """The built-in `ensure_resource_availability`, minus `_not_the_created_session`."""
    if response.status_code == 404 and _not_the_created_session(ctx, case):
        return None
    return ensure_resource_availability(ctx, response, case)


def run_scenarios(workflow: Any, failures: list[FailureGroup], scenarios: list[int]) -> None:
    """Run the machine until `SCENARIOS` scenarios have run, tolerating hypothesis' `Flaky`.

    Which rules a step may take depends on the API's answers so far (a bundle fills only
    when a call succeeds) and schemathesis decides with true randomness whether a step
    uses a link's value, so hypothesis can find that a sequence it has seen before now
    draws differently, and stops with `Flaky`. That is the API being stateful, not a fault:
    schemathesis' own runner counts it as success unless a check failed, and so does this.
    A check that failed before the `Flaky` is raised here."""
    for _ in range(ATTEMPTS):
        remaining = SCENARIOS - len(scenarios)
        if remaining <= 0:
            return
        try:
            workflow.run(
                settings=settings(
                    max_examples=remaining,
                    stateful_step_count=STEPS_PER_SCENARIO,
                    phases=[Phase.generate],
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
            )
            return
        except Flaky:
            if failures:
                raise failures[0] from None


@pytest.mark.parametrize("role", ["teacher", "student"])
def test_linked_operations_pass_every_check(
    role: str, fuzz_app: FastAPI, teacher: Account, student: Account
) -> None:
    caller = teacher if role == "teacher" else student
    failures: list[FailureGroup] = []
    scenarios: list[int] = []

    with TestClient(fuzz_app) as client:

        class ClassroomWorkflow(LinkedWorkflow):
            def setup(self) -> None:
                scenarios.append(1)

            def get_call_kwargs(self, case: Case) -> dict[str, Any]:
                account = teacher if _operation_id(case) == "createSession" else caller
                return {"headers": account.headers}

            def after_call(self, response: Response, case: Case) -> None:
                super().after_call(response, case)
                if _operation_id(case) == "createSession" and response.status_code == 201:
                    seat(client, student, response.json())

            def validate_response(
                self,
                response: Response,
                case: Case,
                additional_checks: Any = None,
                **kwargs: Any,
            ) -> None:
                try:
                    case.validate_response(
                        response,
                        additional_checks=[
                            created_resource_available_unless_not_the_created_session,
                            *(additional_checks or []),
                        ],
                        excluded_checks=[*EXCLUDED_CHECKS, ensure_resource_availability],
                        transport_kwargs=kwargs or None,
                        recorder=self.recorder,
                    )
                except FailureGroup as failure:
                    failures.append(failure)
                    raise

        run_scenarios(ClassroomWorkflow, failures, scenarios)
    assert len(scenarios) >= SCENARIOS
