"""Webhook delivery: Daily's envelope and signature, ordered retries, redelivery, draining."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable

from devtools.daily_emulator.webhooks import sign

from .conftest import WEBHOOK_SECRET, Emulated, WebhookReceiver


def _expected_signature(timestamp: str, body: bytes) -> str:
    """Independent re-implementation of what Tutorium's verifier computes."""
    key = base64.b64decode(WEBHOOK_SECRET)
    mac = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def _meeting(emu: Emulated) -> None:
    emu.create_room(name="w")
    emu.leave("w", emu.join("w", user_id="u")["participant_id"])


def test_every_delivery_is_signed_over_the_raw_compact_body(
    emu: Emulated, receiver: WebhookReceiver
) -> None:
    _meeting(emu)
    emu.flush()
    assert len(receiver.received) == 4
    for request in receiver.received:
        timestamp = request.headers["X-Webhook-Timestamp"]
        assert timestamp.isdigit()
        assert request.headers["X-Webhook-Signature"] == _expected_signature(
            timestamp, request.body
        )
        event = request.event
        assert set(event) == {"version", "type", "id", "payload", "event_ts"}
        assert request.body == json.dumps(event, separators=(",", ":")).encode()


def test_sign_matches_the_documented_scheme() -> None:
    assert sign(WEBHOOK_SECRET, "1700000000", b"{}") == _expected_signature("1700000000", b"{}")


def test_non_200_is_retried_then_delivered_in_order(
    emu: Emulated, receiver: WebhookReceiver
) -> None:
    receiver.respond_with = [500, 204]  # Daily counts anything but 200 as failure
    _meeting(emu)
    deliveries = emu.flush()
    first = deliveries[0]
    assert (first["attempts"], first["status_codes"], first["outcome"]) == (
        3,
        [500, 204, 200],
        "delivered",
    )
    types = [e["type"] for e in receiver.events()]
    assert types == [
        "meeting.started",
        "meeting.started",
        "meeting.started",
        "participant.joined",
        "participant.left",
        "meeting.ended",
    ]


def test_gives_up_after_three_retries(emu: Emulated, receiver: WebhookReceiver) -> None:
    receiver.respond_with = [500] * 4
    _meeting(emu)
    first, *rest = emu.flush()
    assert (first["attempts"], first["outcome"]) == (4, "failed")
    assert all(d["outcome"] == "delivered" for d in rest)


def test_unreachable_receiver_records_errors(make_emulator: Callable[..., Emulated]) -> None:
    emu = make_emulator(webhook_url="http://127.0.0.1:9/unreachable", webhook_retries=1)
    _meeting(emu)
    first = emu.flush()[0]
    assert first["outcome"] == "failed"
    assert first["status_codes"] == [None, None]
    assert first["errors"]


def test_without_webhook_url_events_are_recorded_not_sent(
    make_emulator: Callable[..., Emulated], receiver: WebhookReceiver
) -> None:
    emu = make_emulator(webhook_url=None)
    _meeting(emu)
    deliveries = emu.flush()
    assert [d["outcome"] for d in deliveries] == ["skipped"] * 4
    assert receiver.received == []


def test_redeliver_with_same_or_new_id(emu: Emulated, receiver: WebhookReceiver) -> None:
    _meeting(emu)
    original = emu.flush()[1]
    same = emu.anon.post(f"/_emulator/webhooks/{original['id']}/redeliver").json()
    fresh = emu.anon.post(
        f"/_emulator/webhooks/{original['id']}/redeliver", params={"new_id": "true"}
    ).json()
    emu.flush()
    assert same["id"] == original["id"]
    assert fresh["id"] != original["id"]
    assert fresh["redelivery_of"] == original["delivery_id"]
    resent = receiver.received[-2:]
    assert [r.event["id"] for r in resent] == [original["id"], fresh["id"]]
    assert all(r.event["payload"] == original["payload"] for r in resent)
    missing = emu.anon.post("/_emulator/webhooks/nope/redeliver")
    assert missing.status_code == 404


def test_wait_idle_on_the_listing(emu: Emulated) -> None:
    _meeting(emu)
    listing = emu.anon.get("/_emulator/webhooks", params={"wait_idle": 1, "timeout": 5}).json()
    assert listing["idle"] is True
    assert listing["pending"] == 0
    assert {d["outcome"] for d in listing["data"]} == {"delivered"}
