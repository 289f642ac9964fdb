"""The error codes the OpenAPI document publishes are the codes the code can answer.

For every operation, per status: the codes documented (one example each) must equal the
codes derived from the route itself: what its endpoint and dependencies can raise (walked
in the source by `error_graph`), plus what the framework answers around it (a request
body: 400, 413, 415, 422; path or query parameters: 422). No documented code the route
cannot produce, no code it can raise left undocumented.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.api import health
from app.api.openapi import operation_id
from app.api.responses import BODY_ERRORS, PARAMETER_ERRORS
from app.api.v1.endpoints import attendance, auth, classroom, feed, sessions, users, webhooks
from app.core.errors import ErrorCode, PayloadTooLarge
from tests.api.error_graph import route_errors

ROUTES = [
    route
    for module in (auth, users, sessions, feed, attendance, classroom, webhooks, health)
    for route in module.router.routes
    if isinstance(route, APIRoute) and route.include_in_schema
]
Codes = set[tuple[int, str]]


def _calls(dependant: Dependant) -> Iterator[Any]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def derived_codes(route: APIRoute) -> Codes:
    errors = set(route_errors(_calls(route.dependant)))
    if route.body_field is not None:
        errors |= set(BODY_ERRORS)
    elif "requestBody" in (route.openapi_extra or {}):  # read raw: only the size limit applies
        errors.add(PayloadTooLarge)
    if route.dependant.path_params or route.dependant.query_params:
        errors |= set(PARAMETER_ERRORS)
    return {(error.status_code, error.code.value) for error in errors}


def documented(operation: dict[str, Any]) -> Codes:
    found: Codes = set()
    for status, response in operation["responses"].items():
        if int(status) < 400 or "content" not in response:
            continue  # readiness's 503 is its own status body, not an error
        content = response["content"]["application/json"]
        codes = set(content["schema"]["allOf"][1]["properties"]["code"]["enum"])
        assert codes == set(content["examples"]), f"{status}: one example per code"
        found |= {(int(status), code) for code in codes}
    return found


@pytest.fixture(scope="module")
def operations(client_module: TestClient) -> dict[str, dict[str, Any]]:
    document = client_module.get("/openapi.json").json()
    return {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for operation in item.values()
    }


@pytest.fixture(scope="module")
def client_module() -> Iterator[TestClient]:
    from app.main import create_app
    from tests.conftest import make_settings

    with TestClient(create_app(make_settings())) as client:
        yield client


def test_every_route_is_checked(operations: dict[str, dict[str, Any]]) -> None:
    assert {operation_id(route) for route in ROUTES} == set(operations)


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
def test_documented_codes_are_the_codes_the_route_can_answer(
    route: APIRoute, operations: dict[str, dict[str, Any]]
) -> None:
    operation = operations[operation_id(route)]
    assert documented(operation) == derived_codes(route)


def test_auth_and_retry_headers_are_declared(operations: dict[str, dict[str, Any]]) -> None:
    expected = {"401": "WWW-Authenticate", "429": "Retry-After", "503": "Retry-After"}
    for operation in operations.values():
        for status, header in expected.items():
            response = operation["responses"].get(status)
            if response is not None and "content" in response:
                assert header in response["headers"], (operation["operationId"], status)


def test_the_registry_is_published(client_module: TestClient) -> None:
    schemas = client_module.get("/openapi.json").json()["components"]["schemas"]
    assert set(schemas["ErrorCode"]["enum"]) == {code.value for code in ErrorCode}
    assert schemas["ErrorResponse"]["properties"]["code"] == {
        "$ref": "#/components/schemas/ErrorCode",
        "description": "Stable machine-readable error code.",
    }
    assert "HTTPValidationError" not in schemas
