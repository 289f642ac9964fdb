"""A session's live feed (server-sent events) and the tickets that open it from a browser."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.api.deps import (
    AccessToken,
    CurrentUser,
    DbSession,
    FeedHubDep,
    FeedLogReader,
    SettingsDep,
)
from app.api.responses import BEARER_ERRORS, PARAMETER_ERRORS, error_responses
from app.core.errors import InvalidFeedTicket, SessionNotFound
from app.db.types import utcnow
from app.schemas.feed import FeedTicketRead, StudentSnapshot, TeacherSnapshot
from app.services.feed import access as feed
from app.services.feed.stream import feed_stream

router = APIRouter(prefix="/sessions", tags=["feed"])

FEED_DESCRIPTION = """
`text/event-stream`. First a `retry:` hint and a `snapshot` (for the teacher the session and
its roster, each person `seated`, `in_call`, `left` or `removed`; for a student the session
and the counts, no other student's identity), then one message per change, in commit order:
`participant.seated`, `participant.joined` (entered the call), `participant.left`,
`participant.removed`, `session.started`, `session.updated`, `session.ended` (the stream
closes after it; a removed student's stream closes after their own `participant.removed`).
Each message's `id` is the event's position in the session's log (the snapshot's, the last
position it reflects): reconnect with `Last-Event-ID` to get exactly what was missed. A
`resync` message (no id) means the client fell too far behind: reconnect with
`Last-Event-ID`. A comment line is sent every 15 s of silence. Authenticate with the bearer
header, or `?ticket=` from `POST …/feed-ticket` (browsers' EventSource cannot send
headers). 204: the session is over and nothing was missed (EventSource stops reconnecting).
"""


@router.post(
    "/{session_id}/feed-ticket",
    response_model=FeedTicketRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(BEARER_ERRORS, PARAMETER_ERRORS, SessionNotFound),
    summary="A single-use ticket (60 s) to open the session's feed from a browser",
)
async def create_feed_ticket(
    session_id: uuid.UUID, db: DbSession, user: CurrentUser, settings: SettingsDep
) -> FeedTicketRead:
    """For the session's teacher and its seated students. A browser's EventSource cannot send
    the bearer header and tokens never go in a URL, so `GET …/feed?ticket=` takes this
    instead: one connection, within 60 s (`FEED_TICKET_TTL_SECONDS`)."""
    return await run_in_threadpool(
        feed.issue_ticket, db, user=user, session_id=session_id, settings=settings, now=utcnow()
    )


@router.get(
    "/{session_id}/feed",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "The feed. The snapshot's data is one of the schemas below.",
            "model": TeacherSnapshot | StudentSnapshot,
        },
        204: {"description": "The session is over and the client missed nothing."},
        **error_responses(BEARER_ERRORS, PARAMETER_ERRORS, InvalidFeedTicket, SessionNotFound),
    },
    summary="The session's live feed: who is in the room, as it changes",
    description=FEED_DESCRIPTION,
)
async def session_feed(
    session_id: uuid.UUID,
    db: DbSession,
    settings: SettingsDep,
    hub: FeedHubDep,
    read: FeedLogReader,
    access_token: AccessToken,
    ticket: Annotated[str | None, Query(max_length=128)] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=32)] = None,
) -> Response:
    start = await run_in_threadpool(
        feed.open_feed,
        db,
        settings=settings,
        access_token=access_token,
        ticket=ticket,
        session_id=session_id,
        last_event_id=last_event_id,
        now=utcnow(),
    )
    if start.nothing_to_send:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return StreamingResponse(
        feed_stream(hub, start, read),
        media_type="text/event-stream",
        # no-transform and X-Accel-Buffering: proxies must pass each message on at once.
        headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"},
    )
