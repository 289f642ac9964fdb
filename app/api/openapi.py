"""How the OpenAPI document names things: generated clients take their names from here.

Operation ids are the route function's name in camelCase (`create_session` ->
`createSession`), so a client's method names are chosen where the route is written and
never change with a path or a method. Tags group operations the way the README does.
"""

from fastapi.routing import APIRoute

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
