from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from app.api.deps import BackfillRetriesDep, DailyDep, DbSession, SettingsDep
from app.api.responses import error_responses
from app.core.errors import InvalidJson, PayloadTooLarge, ProviderRejected, ProviderUnavailable
from app.db.types import utcnow
from app.schemas.webhook import WebhookAck
from app.services.webhooks import handling as webhooks
from app.services.webhooks.signature import InvalidWebhookSignature

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


async def raw_body(request: Request) -> bytes:
    """The body byte for byte (the signature covers it); `BodySizeLimitMiddleware` has
    already refused it if it is over the app-wide limit."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


@router.post(
    "/daily",
    response_model=WebhookAck,
    responses=error_responses(
        InvalidJson, InvalidWebhookSignature, PayloadTooLarge, ProviderRejected, ProviderUnavailable
    ),
    summary="Receive a Daily.co webhook",
    description="Daily only: authenticated by Daily's HMAC signature "
    "(`X-Webhook-Signature`, `X-Webhook-Timestamp`), not a bearer token.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "example": {
                        "version": "1.0.0",
                        "type": "participant.joined",
                        "id": "ptcpt-join-6497c79b-f326-4942-aef8-c36a29140ad1-1708972279961",
                        "payload": {
                            "room": "tutorium-4f1c…",
                            "session_id": "6497c79b-f326-4942-aef8-c36a29140ad1",
                            "user_id": "our user id",
                            "joined_at": 1708972279.96,
                        },
                        "event_ts": 1708972279.961,
                    },
                }
            },
        }
    },
)
async def receive_daily_webhook(
    body: RawBody,
    db: DbSession,
    settings: SettingsDep,
    daily: DailyDep,
    background: BackgroundTasks,
    backfills: BackfillRetriesDep,
    x_webhook_signature: Annotated[str | None, Header()] = None,
    x_webhook_timestamp: Annotated[str | None, Header()] = None,
) -> WebhookAck:
    # One threadpool hop for the whole transaction (see endpoints/sessions.py for why).
    return await run_in_threadpool(
        webhooks.handle_daily_webhook,
        db,
        settings=settings,
        daily=daily,
        defer=background.add_task,
        backfill=backfills.meeting_ended,
        body=body,
        signature=x_webhook_signature,
        timestamp=x_webhook_timestamp,
        now=utcnow(),
    )
