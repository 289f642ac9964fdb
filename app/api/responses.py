"""The errors each operation can answer, declared once per route and published from there.

A route lists the error classes it can answer (`responses=error_responses(SessionNotFound,
...)`); this module turns them into OpenAPI responses: per status, a schema whose `code` is
the enum of exactly those codes, one example per code, and the headers that status carries.
`tests/api/test_error_codes.py` walks each route's call graph and checks the list is true.
"""

from collections import defaultdict
from typing import Any

from app.core.errors import (
    BadRequest,
    PayloadTooLarge,
    TokenExpired,
    TutoriumError,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
)

ERROR_SCHEMA_REF = "#/components/schemas/ErrorResponse"
VALIDATION_ERROR_SCHEMA_REF = "#/components/schemas/ValidationErrorResponse"

# What the framework answers around every route of a kind, whatever its service raises.
BEARER_ERRORS: tuple[type[TutoriumError], ...] = (Unauthorized, TokenExpired)
"""A bearer token is required: missing or invalid (`not_authenticated`) or expired."""
BODY_ERRORS: tuple[type[TutoriumError], ...] = (
    BadRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    Unprocessable,
)
"""A request body is read: unreadable (400), over 1 MiB (413), not JSON (415), invalid (422)."""
PARAMETER_ERRORS: tuple[type[TutoriumError], ...] = (Unprocessable,)
"""Path or query parameters are validated (422)."""

_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "`Bearer`: authenticate with a bearer access token.",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
    503: {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def _example(error: type[TutoriumError]) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": error.message, "code": error.code}
    if issubclass(error, Unprocessable) and error.code == Unprocessable.code:
        body["detail"] = "The request is not valid: see `errors` for each field at fault."
        body["errors"] = [{"loc": ["body", "title"], "msg": "Field required", "type": "missing"}]
    return {"summary": error.message, "value": body}


def _response(status: int, errors: list[type[TutoriumError]]) -> dict[str, Any]:
    codes = sorted({error.code.value for error in errors})
    base = VALIDATION_ERROR_SCHEMA_REF if status == 422 else ERROR_SCHEMA_REF
    response: dict[str, Any] = {
        "description": "Error codes: " + ", ".join(f"`{code}`" for code in codes) + ".",
        "content": {
            "application/json": {
                "schema": {
                    "allOf": [
                        {"$ref": base},
                        {"type": "object", "properties": {"code": {"enum": codes}}},
                    ]
                },
                "examples": {error.code.value: _example(error) for error in errors},
            }
        },
    }
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def error_responses(
    *errors: type[TutoriumError] | tuple[type[TutoriumError], ...],
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the error classes (or groups of them) a route can answer."""
    by_status: dict[int, list[type[TutoriumError]]] = defaultdict(list)
    for entry in errors:
        for error in entry if isinstance(entry, tuple) else (entry,):
            if error not in by_status[error.status_code]:
                by_status[error.status_code].append(error)
    return {status: _response(status, by_status[status]) for status in sorted(by_status)}
