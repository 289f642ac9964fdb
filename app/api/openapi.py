"""How the OpenAPI document names things: generated clients take their names from here.

Operation ids are the route function's name in camelCase (`create_session` ->
`createSession`), so a client's method names are chosen where the route is written and
never change with a path or a method. Tags group operations the way the README does.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic.json_schema import models_json_schema

from app.api.links import add_links
from app.schemas.common import ErrorResponse, ValidationErrorResponse

TAGS: list[dict[str, str]] = [
    {
        "name": "auth",
        "description": "Accounts and tokens. Register and log in need no token; log in is an "
        "OAuth2 password form (what Swagger's Authorize button sends).",
    },
    {
        "name": "users",
        "description": "Your own account: any signed-in user, about themselves only.",
    },
    {
        "name": "sessions",
        "description": "Tutoring sessions and their Daily rooms. Teachers create and manage "
        "their own; students join with a room code. Anyone who is neither the session's "
        "teacher nor a participant gets 404, so ids reveal nothing.",
    },
    {
        "name": "attendance",
        "description": "A session's record (who was in the call, for how long, and its event "
        "log): the session's teacher only.",
    },
    {
        "name": "feed",
        "description": "A session's live feed (server-sent events): who is in the room, as it "
        "changes. The session's teacher sees the roster; a seated student only the counts.",
    },
    {
        "name": "classroom",
        "description": "Classroom controls: cloud recordings for the class to watch again "
        "(Daily bills recorded minutes) and screen share by the teacher's invitation.",
    },
    {
        "name": "webhooks",
        "description": "Daily.co's webhook receiver, authenticated by Daily's HMAC signature "
        "(not a bearer token). Not for browsers.",
    },
    {
        "name": "health",
        "description": "Liveness and readiness probes for load balancers; no token needed.",
    },
]


def operation_id(route: APIRoute) -> str:
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def install_openapi(app: FastAPI) -> None:
    """FastAPI's document, plus the error schemas every operation's errors refer to and the
    links between operations (`app.api.links`).

    The error responses are written by `app.api.responses` as raw OpenAPI (a per-operation
    enum of codes), so their base schemas are added here. FastAPI's own default 422
    (`HTTPValidationError`) is dropped: our handler never sends that shape, and every
    operation that can answer 422 declares it.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            _, error_schemas = models_json_schema(
                [(ErrorResponse, "serialization"), (ValidationErrorResponse, "serialization")],
                ref_template="#/components/schemas/{model}",
            )
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(error_schemas["$defs"])
            _drop_default_validation_error(document)
            add_links(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _drop_default_validation_error(document: dict[str, Any]) -> None:
    default_ref = "#/components/schemas/HTTPValidationError"
    for item in document["paths"].values():
        for operation in item.values():
            response = operation.get("responses", {}).get("422", {})
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref") == default_ref:
                del operation["responses"]["422"]
    for name in ("HTTPValidationError", "ValidationError"):
        document["components"]["schemas"].pop(name, None)
