"""Daily's webhook management: `POST/GET /v1/webhooks`, `GET/POST/DELETE /v1/webhooks/:uuid`.

One webhook per domain (a field-seen `max_webhook_count: 1`). Creating or updating first sends
`{"test":"test"}` to the URL and answers 400 unless it gets a 200; a successful update also
re-activates a FAILED webhook, as Daily documents (daily-api.md §5).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request

from .errors import invalid_request, not_found, read_json_object, reject_unknown_keys
from .runtime import Emulator, EmulatorDep, require_api_key
from .webhooks import CIRCUIT_BREAKER, EXPONENTIAL, Subscription

router = APIRouter(prefix="/v1", dependencies=[Depends(require_api_key)])

_KEYS = ("url", "hmac", "basicAuth", "retryType", "eventTypes")


def _settings(body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    reject_unknown_keys(body, _KEYS)
    url = body.get("url")
    if (creating or "url" in body) and (not isinstance(url, str) or not url.startswith("http")):
        raise invalid_request("url must be an http(s) URL")
    if "hmac" in body and body["hmac"] is not None:
        try:
            base64.b64decode(body["hmac"], validate=True)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise invalid_request("hmac must be base64") from exc
    if body.get("retryType", CIRCUIT_BREAKER) not in (CIRCUIT_BREAKER, EXPONENTIAL):
        raise invalid_request("retryType must be 'circuit-breaker' or 'exponential'")
    types = body.get("eventTypes", [])
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise invalid_request("eventTypes must be an array of strings")
    return body


def _verified(emulator: Emulator, url: str) -> None:
    if not emulator.outbox.verify(url):
        raise invalid_request(f"non-200 status code returned from webhook endpoint {url}")


def _ours(emulator: Emulator, webhook_uuid: str) -> Subscription:
    subscription = emulator.outbox.subscription
    if subscription is None or subscription.uuid != webhook_uuid:
        raise not_found(f"webhook {webhook_uuid} not found")
    return subscription


@router.post("/webhooks")
async def create_webhook(request: Request, emulator: EmulatorDep) -> dict[str, Any]:
    body = _settings(await read_json_object(request), creating=True)
    if emulator.outbox.subscription is not None:
        raise invalid_request("this domain already has a webhook (max_webhook_count: 1)")
    _verified(emulator, body["url"])
    now = emulator.clock.now()
    subscription = Subscription(
        uuid=str(uuid.uuid4()),
        url=body["url"],
        hmac=body.get("hmac") or base64.b64encode(secrets.token_bytes(32)).decode(),
        retry_type=body.get("retryType", CIRCUIT_BREAKER),
        event_types=list(body.get("eventTypes") or []),
        domain_id=emulator.store.domain_id,
        created_at=now,
        updated_at=now,
        basic_auth=body.get("basicAuth"),
    )
    emulator.outbox.subscription = subscription
    return subscription.to_api()


@router.get("/webhooks")
def list_webhooks(emulator: EmulatorDep) -> list[dict[str, Any]]:
    subscription = emulator.outbox.subscription
    return [] if subscription is None else [subscription.to_api()]


@router.get("/webhooks/{webhook_uuid}")
def get_webhook(webhook_uuid: str, emulator: EmulatorDep) -> dict[str, Any]:
    return _ours(emulator, webhook_uuid).to_api()


@router.post("/webhooks/{webhook_uuid}")
async def update_webhook(
    webhook_uuid: str, request: Request, emulator: EmulatorDep
) -> dict[str, Any]:
    subscription = _ours(emulator, webhook_uuid)
    body = _settings(await read_json_object(request), creating=False)
    _verified(emulator, body.get("url", subscription.url))
    subscription.url = body.get("url", subscription.url)
    subscription.hmac = body.get("hmac", subscription.hmac)
    subscription.basic_auth = body.get("basicAuth", subscription.basic_auth)
    subscription.retry_type = body.get("retryType", subscription.retry_type)
    subscription.event_types = list(body.get("eventTypes", subscription.event_types))
    subscription.state, subscription.failed_count = "ACTIVE", 0
    subscription.updated_at = emulator.clock.now()
    return subscription.to_api()


@router.delete("/webhooks/{webhook_uuid}")
def delete_webhook(webhook_uuid: str, emulator: EmulatorDep) -> dict[str, Any]:
    subscription = _ours(emulator, webhook_uuid)
    emulator.outbox.subscription = None
    return subscription.to_api()
