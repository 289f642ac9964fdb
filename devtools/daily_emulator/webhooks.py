"""Daily-shaped webhook events: signed, queued, and delivered in order by one worker thread.

Daily promises at-least-once delivery with only approximate ordering. The emulator is stricter
(one event at a time, in emission order, retried before the next is sent) so tests are
deterministic; redelivery (same or fresh `id`) lets tests exercise duplicate handling on purpose.
The signature is base64(HMAC-SHA256(base64decode(secret), "<timestamp>.<raw body>")) over the
exact bytes sent, compact JSON, as Cal.com's production handler verifies it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from .state import Clock, iso_time

WEBHOOK_VERSION = "1.0.0"


def sign(secret_b64: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret_b64)
    digest = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def encode_body(envelope: dict[str, Any]) -> bytes:
    """Compact JSON, as JavaScript's JSON.stringify would produce it."""
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class Delivery:
    seq: int
    envelope: dict[str, Any]
    body: bytes
    redelivery_of: int | None = None
    attempts: int = 0
    status_codes: list[int | None] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outcome: str = "pending"

    def to_api(self) -> dict[str, Any]:
        return {
            "delivery_id": self.seq,
            "id": self.envelope["id"],
            "type": self.envelope["type"],
            "payload": self.envelope["payload"],
            "event_ts": self.envelope["event_ts"],
            "attempts": self.attempts,
            "status_codes": list(self.status_codes),
            "errors": list(self.errors),
            "outcome": self.outcome,
            "redelivery_of": self.redelivery_of,
        }


CIRCUIT_BREAKER = "circuit-breaker"
EXPONENTIAL = "exponential"
CIRCUIT_BREAKER_FAILURES = 3  # Daily: three failures set state FAILED


@dataclass
class Subscription:
    """The domain's one webhook, as `GET /v1/webhooks` shows it (daily-api.md §5, §10).

    `circuit-breaker` (Daily's default): every failed attempt counts, and after three in a row
    the webhook is FAILED: nothing more is sent until `POST /webhooks/:uuid` re-activates it.
    `exponential`: a message is retried, then dropped; the webhook is never switched off.
    Any success resets `failedCount`.
    """

    uuid: str
    url: str
    hmac: str | None
    retry_type: str
    event_types: list[str]
    domain_id: str
    created_at: float
    updated_at: float
    basic_auth: str | None = None
    state: str = "ACTIVE"
    failed_count: int = 0
    last_moment_pushed: float | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "url": self.url,
            "hmac": self.hmac,
            "basicAuth": self.basic_auth,
            "retryType": self.retry_type,
            "eventTypes": list(self.event_types),
            "state": self.state,
            "failedCount": self.failed_count,
            "lastMomentPushed": iso_time(self.last_moment_pushed)
            if self.last_moment_pushed
            else None,
            "domainId": self.domain_id,
            "createdAt": iso_time(self.created_at),
            "updatedAt": iso_time(self.updated_at),
        }

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class WebhookOutbox:
    """Records every event; sends them to the subscription when there is one (else outcome
    `skipped`). While the subscription is FAILED, or when the drop switch picks an event, the
    event is recorded as `not-sent` / `dropped` and never sent."""

    def __init__(
        self,
        *,
        url: str | None,
        secret: str | None,
        clock: Clock,
        retries: int = 3,
        backoff_s: float = 0.25,
        timeout_s: float = 5.0,
        domain_id: str = "",
        should_drop: Callable[[], bool] = lambda: False,
    ) -> None:
        # A URL given at start-up is a webhook made beforehand; its messages are retried
        # `retries` times and it is never switched off (Daily's exponential mode, faster).
        self.subscription: Subscription | None = None
        if url is not None:
            now = clock.now()
            self.subscription = Subscription(
                uuid=str(uuid.uuid4()),
                url=url,
                hmac=secret,
                retry_type=EXPONENTIAL,
                event_types=[],
                domain_id=domain_id,
                created_at=now,
                updated_at=now,
            )
        self._initial_subscription = self.subscription
        self.should_drop = should_drop
        self.clock = clock
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._deliveries: list[Delivery] = []
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._pending = 0
        self._next_seq = 1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def emit(self, event_type: str, payload: dict[str, Any]) -> Delivery:
        envelope = {
            "version": WEBHOOK_VERSION,
            "type": event_type,
            "id": str(uuid.uuid4()),
            "payload": payload,
            "event_ts": round(self.clock.now(), 3),
        }
        return self._record(envelope, redelivery_of=None)

    def redeliver(self, key: str, *, new_id: bool) -> Delivery | None:
        """Send a recorded event again; `key` is the event id or the delivery id."""
        with self._lock:
            original = next(
                (d for d in self._deliveries if key in (d.envelope["id"], str(d.seq))), None
            )
        if original is None:
            return None
        envelope = dict(original.envelope, event_ts=round(self.clock.now(), 3))
        if new_id:
            envelope["id"] = str(uuid.uuid4())
        return self._record(envelope, redelivery_of=original.seq)

    def deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [d.to_api() for d in self._deliveries]

    def pending(self) -> int:
        with self._lock:
            return self._pending

    def wait_idle(self, timeout: float) -> bool:
        """Block until every queued event has been delivered or has failed for good."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def clear(self) -> None:
        """Forget the log and drop queued events; an in-flight send still finishes."""
        with self._idle:
            self._deliveries.clear()
            while True:
                try:
                    dropped = self._queue.get_nowait()
                except queue.Empty:
                    break
                if dropped is None:  # a close() in progress: keep its sentinel
                    self._queue.put(None)
                    break
                self._pending -= 1
            self._idle.notify_all()

    def close(self, timeout: float = 2.0) -> None:
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._stop.set()
        self._queue.put(None)
        thread.join(timeout)

    def _record(self, envelope: dict[str, Any], redelivery_of: int | None) -> Delivery:
        # Enqueue under the lock: two threads emitting at once must not swap queue order.
        with self._lock:
            delivery = Delivery(self._next_seq, envelope, encode_body(envelope), redelivery_of)
            self._next_seq += 1
            self._deliveries.append(delivery)
            subscription = self.subscription
            if subscription is None or not subscription.wants(envelope["type"]):
                delivery.outcome = "skipped"
                return delivery
            if subscription.state != "ACTIVE":
                delivery.outcome = "not-sent"
                return delivery
            if redelivery_of is None and self.should_drop():
                delivery.outcome = "dropped"
                return delivery
            self._pending += 1
            self._ensure_worker()
            self._queue.put(delivery)
        return delivery

    def _ensure_worker(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="daily-emulator-webhooks", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_s) as client:
            while True:
                delivery = self._queue.get()
                if delivery is None:
                    return
                try:
                    self._deliver(client, delivery)
                finally:
                    with self._idle:
                        self._pending -= 1
                        self._idle.notify_all()

    def _deliver(self, client: httpx.Client, delivery: Delivery) -> None:
        for attempt in range(1 + self.retries):
            if attempt and self._stop.wait(self.backoff_s * 2 ** (attempt - 1)):
                break
            subscription = self.subscription
            if subscription is None or subscription.state != "ACTIVE":
                with self._lock:
                    delivery.outcome = "not-sent"
                return
            status, error = self._send_once(client, subscription, delivery.body)
            with self._lock:
                delivery.attempts += 1
                delivery.status_codes.append(status)
                if error:
                    delivery.errors.append(error)
                if status == 200:  # Daily counts anything but 200 as a failure
                    subscription.failed_count = 0
                    subscription.last_moment_pushed = self.clock.now()
                    delivery.outcome = "delivered"
                    return
                subscription.failed_count += 1
                if (
                    subscription.retry_type == CIRCUIT_BREAKER
                    and subscription.failed_count >= CIRCUIT_BREAKER_FAILURES
                ):
                    subscription.state = "FAILED"
        with self._lock:
            delivery.outcome = "failed"

    def verify(self, url: str) -> bool:
        """Daily's check before it saves a webhook: `{"test":"test"}` must get a 200."""
        body = encode_body({"test": "test"})
        try:
            response = httpx.post(
                url,
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=self.timeout_s,
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def reset_subscription(self) -> None:
        self.subscription = self._initial_subscription
        if self.subscription is not None:
            self.subscription.state, self.subscription.failed_count = "ACTIVE", 0

    def _send_once(
        self, client: httpx.Client, subscription: Subscription, body: bytes
    ) -> tuple[int | None, str | None]:
        timestamp = str(int(time.time()))  # real time: receivers check it against their clock
        headers = {"Content-Type": "application/json", "X-Webhook-Timestamp": timestamp}
        if subscription.hmac:
            headers["X-Webhook-Signature"] = sign(subscription.hmac, timestamp, body)
        if subscription.basic_auth:
            headers["Authorization"] = f"Basic {subscription.basic_auth}"
        try:
            response = client.post(subscription.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None
