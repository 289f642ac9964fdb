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
from dataclasses import dataclass, field
from typing import Any

import httpx

from .state import Clock

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


class WebhookOutbox:
    """Records every event; sends them when a URL is configured (else outcome `skipped`)."""

    def __init__(
        self,
        *,
        url: str | None,
        secret: str | None,
        clock: Clock,
        retries: int = 3,
        backoff_s: float = 0.25,
        timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self.secret = secret
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
            if self.url is None:
                delivery.outcome = "skipped"
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
            status, error = self._send_once(client, delivery.body)
            with self._lock:
                delivery.attempts += 1
                delivery.status_codes.append(status)
                if error:
                    delivery.errors.append(error)
                if status == 200:  # Daily counts anything but 200 as a failure
                    delivery.outcome = "delivered"
                    return
        with self._lock:
            delivery.outcome = "failed"

    def _send_once(self, client: httpx.Client, body: bytes) -> tuple[int | None, str | None]:
        timestamp = str(int(time.time()))  # real time: receivers check it against their clock
        headers = {"Content-Type": "application/json", "X-Webhook-Timestamp": timestamp}
        if self.secret:
            headers["X-Webhook-Signature"] = sign(self.secret, timestamp, body)
        try:
            response = client.post(self.url or "", content=body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None
