"""OpenAPI links: where one operation's answer is the next call's input, declared once.

A generated client (and schemathesis' stateful phase) learns from them that the `id` a
created session answers is the `session_id` every session operation takes, that its
`room_code` is what students send to `joinSessionByCode`, and that a login's
`refresh_token` is what `refresh` takes. Operations are named by operationId and parameters
by name, as the document spells them; `tests/api/test_openapi_links.py` checks that each
one exists, so a renamed route fails a test instead of leaving a dangling link.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Link:
    """From a `status` answer of operation `source` to a call of operation `target`.

    `parameters` and `request_body` hold OpenAPI runtime expressions (`$response.body#/id`,
    `$request.path.session_id`); a body is the target's whole body.
    """

    source: str
    status: int
    target: str
    description: str
    parameters: dict[str, str] = field(default_factory=dict)
    request_body: dict[str, str] | None = None


def _session_links(
    source: str, status: int, targets: tuple[str, ...], session_id: str, whose: str
) -> list[Link]:
    return [
        Link(source, status, target, f"{whose} `session_id`.", {"session_id": session_id})
        for target in targets
    ]


# What the session's teacher does with a session they created.
TEACHER_OPERATIONS = (
    "getSession",
    "updateSession",
    "endSession",
    "deleteSession",
    "joinSession",
    "leaveSession",
    "listParticipants",
    "createFeedTicket",
    "getAttendance",
    "getAttendanceCsv",
    "listSessionEvents",
    "startRecording",
    "stopRecording",
    "listRecordings",
)
# What anyone holding a seat (or the teacher) does once in.
SEATED_OPERATIONS = (
    "getSession",
    "joinSession",
    "leaveSession",
    "listParticipants",
    "createFeedTicket",
    "listRecordings",
)
ROSTER_ROW = "$response.body#/items/0/user_id"

LINKS: tuple[Link, ...] = (
    Link(
        "register",
        201,
        "login",
        "Log in with the e-mail and password just registered (an OAuth2 form: `username` is "
        "the e-mail).",
        request_body={"username": "$request.body#/email", "password": "$request.body#/password"},
    ),
    Link(
        "login",
        200,
        "refresh",
        "Renew the tokens with the login's `refresh_token`.",
        request_body={"refresh_token": "$response.body#/refresh_token"},
    ),
    Link(
        "refresh",
        200,
        "refresh",
        "Renew again with the new `refresh_token` (the one sent is spent).",
        request_body={"refresh_token": "$response.body#/refresh_token"},
    ),
    Link(
        "createSession",
        201,
        "joinSessionByCode",
        "Join with the session's `room_code` (what the teacher shares with students).",
        request_body={"room_code": "$response.body#/room_code"},
    ),
    *_session_links(
        "createSession", 201, TEACHER_OPERATIONS, "$response.body#/id", "The created session's"
    ),
    *_session_links(
        "listSessions",
        200,
        ("getSession",),
        "$response.body#/items/0/id",
        "The first listed session's",
    ),
    *_session_links(
        "joinSessionByCode",
        200,
        SEATED_OPERATIONS,
        "$response.body#/session_id",
        "The joined session's",
    ),
    *_session_links(
        "joinSession", 200, SEATED_OPERATIONS, "$response.body#/session_id", "The joined session's"
    ),
    *(
        Link(
            "listParticipants",
            200,
            target,
            "The roster's first person (the teacher once they have joined, else the first "
            "student seated).",
            {"session_id": "$request.path.session_id", "user_id": ROSTER_ROW},
        )
        for target in ("removeParticipant", "setScreenShare")
    ),
    Link(
        "createFeedTicket",
        201,
        "sessionFeed",
        "Open the session's feed with the ticket (within 60 s, once).",
        {"session_id": "$request.path.session_id", "ticket": "$response.body#/ticket"},
    ),
)


def add_links(document: dict[str, Any]) -> None:
    """Write each link into its source operation's response; a link whose source operation
    or status is missing raises `KeyError`, so a broken document is never served."""
    operations = {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for operation in item.values()
    }
    for link in LINKS:
        response = operations[link.source]["responses"][str(link.status)]
        definition: dict[str, Any] = {
            "operationId": link.target,
            "description": link.description,
        }
        if link.parameters:
            definition["parameters"] = link.parameters
        if link.request_body is not None:
            definition["requestBody"] = link.request_body
        response.setdefault("links", {})[link.target] = definition
