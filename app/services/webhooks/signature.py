"""Checking that a webhook really comes from Daily (Daily's webhook docs).

Daily signs `"<X-Webhook-Timestamp>.<body>"` with HMAC-SHA256 under the base64-*decoded*
webhook secret and sends the base64 digest in `X-Webhook-Signature`. Which body it signs is
not settled: some production handlers verify the raw bytes, Daily's own example re-serialises
the parsed event (`JSON.stringify`). So the raw body is tried first, then its compact form.
Pure functions: no I/O, no clock of their own.
"""

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

from app.core.errors import ErrorCode, TutoriumError
from app.services.daily.unix_time import unix_time

# Under `retryType: "exponential"` Daily retries a message for up to 15 minutes, and whether a
# retry carries a fresh X-Webhook-Timestamp is not documented (daily-api.md §10); an hour
# admits those. A replay inside the window changes nothing: events are deduplicated by id
# and by the participant/meeting they are about.
MAX_CLOCK_SKEW = timedelta(hours=1)


class InvalidWebhookSignature(TutoriumError):
    status_code = 401
    code = ErrorCode.INVALID_WEBHOOK_SIGNATURE
    message = "The webhook signature is missing or invalid."


def decode_secret(secret_b64: str) -> bytes:
    """The HMAC key: Daily issues (and requires) the secret base64-encoded."""
    try:
        return base64.b64decode(secret_b64.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("DAILY_WEBHOOK_SECRET is not valid base64") from exc


def compute_signature(key: bytes, timestamp: str, body: bytes) -> str:
    digest = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def compact_json(document: Any) -> bytes:
    """What JavaScript's `JSON.stringify` makes of the parsed body (no spaces, raw UTF-8)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def parse_timestamp(value: str) -> datetime:
    """`X-Webhook-Timestamp` as an aware datetime, read as Daily's other times are."""
    try:
        number = float(value.strip())
    except ValueError:
        raise InvalidWebhookSignature("X-Webhook-Timestamp is not a number.") from None
    sent_at = unix_time(number)
    if sent_at is None:
        raise InvalidWebhookSignature("X-Webhook-Timestamp is not a valid time.")
    return sent_at


def verify(
    *,
    key: bytes,
    body: bytes,
    parsed: Any,
    signature: str | None,
    timestamp: str | None,
    now: datetime,
) -> None:
    """Raise InvalidWebhookSignature unless `signature` signs `body` (raw, or compact JSON of
    `parsed` when it parsed) at a `timestamp` within an hour of `now`."""
    if not signature or not timestamp:
        raise InvalidWebhookSignature("X-Webhook-Signature and X-Webhook-Timestamp are required.")
    sent_at = parse_timestamp(timestamp)
    if abs(now - sent_at) > MAX_CLOCK_SKEW:
        raise InvalidWebhookSignature("X-Webhook-Timestamp is too far from now.")
    given = signature.strip().encode()
    candidates = [body]
    if parsed is not None:
        compact = compact_json(parsed)
        if compact != body:
            candidates.append(compact)
    matched = False
    for candidate in candidates:
        expected = compute_signature(key, timestamp.strip(), candidate).encode()
        matched |= hmac.compare_digest(expected, given)
    if not matched:
        raise InvalidWebhookSignature()
