import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from app.services.webhooks.signature import (
    InvalidWebhookSignature,
    compact_json,
    compute_signature,
    decode_secret,
    parse_timestamp,
    verify,
)
from tests.webhook_signing import sign

SECRET = base64.b64encode(b"a webhook secret as Daily issues it").decode()
KEY = decode_secret(SECRET)
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
TS = str(int(NOW.timestamp()))
EVENT = {"type": "meeting.started", "id": "evt-1", "payload": {"room": "r", "start_ts": 1.5}}
PRETTY = json.dumps(EVENT, indent=2).encode()


def check(body: bytes, signature: str | None, timestamp: str | None = TS, *, parsed=EVENT) -> None:
    verify(key=KEY, body=body, parsed=parsed, signature=signature, timestamp=timestamp, now=NOW)


def test_the_key_is_the_decoded_secret_and_matches_an_independent_implementation() -> None:
    assert KEY == b"a webhook secret as Daily issues it"
    assert compute_signature(KEY, TS, PRETTY) == sign(PRETTY, TS, SECRET)
    # Using the base64 text itself as the key (a common mistake) gives another signature.
    assert compute_signature(SECRET.encode(), TS, PRETTY) != sign(PRETTY, TS, SECRET)


def test_a_signature_over_the_raw_body_is_accepted() -> None:
    check(PRETTY, sign(PRETTY, TS, SECRET))


def test_a_signature_over_the_compact_reserialisation_is_accepted() -> None:
    """Daily's own example signs JSON.stringify(event), not the bytes on the wire."""
    assert (
        compact_json(EVENT)
        == b'{"type":"meeting.started","id":"evt-1","payload":{"room":"r","start_ts":1.5}}'
    )
    check(PRETTY, sign(compact_json(EVENT), TS, SECRET))


def test_non_ascii_is_reserialised_as_utf8_like_json_stringify() -> None:
    event = {"type": "participant.joined", "id": "e", "payload": {"user_name": "Zoë Ñandú"}}
    raw = json.dumps(event).encode()  # \u escapes on the wire
    assert b"\\u00eb" in raw
    stringified = '{"type":"participant.joined","id":"e","payload":{"user_name":"Zoë Ñandú"}}'
    check(raw, sign(stringified.encode(), TS, SECRET), parsed=event)


@pytest.mark.parametrize(
    ("signature", "timestamp"),
    [
        (None, TS),
        ("", TS),
        ("sig", None),
        ("sig", ""),
    ],
)
def test_missing_headers_are_refused(signature: str | None, timestamp: str | None) -> None:
    with pytest.raises(InvalidWebhookSignature):
        check(PRETTY, signature, timestamp)


def test_a_wrong_signature_is_refused() -> None:
    with pytest.raises(InvalidWebhookSignature):
        check(PRETTY, sign(PRETTY, TS, base64.b64encode(b"another secret").decode()))


def test_a_signature_for_another_timestamp_is_refused() -> None:
    with pytest.raises(InvalidWebhookSignature):
        check(PRETTY, sign(PRETTY, str(int(TS) - 1), SECRET))


def test_a_tampered_body_is_refused() -> None:
    tampered = PRETTY.replace(b"evt-1", b"evt-2")
    with pytest.raises(InvalidWebhookSignature):
        check(tampered, sign(PRETTY, TS, SECRET), parsed=json.loads(tampered))


@pytest.mark.parametrize("skew", [timedelta(hours=-1, seconds=-1), timedelta(hours=1, seconds=1)])
def test_a_timestamp_more_than_an_hour_away_is_refused(skew: timedelta) -> None:
    stale = str(int((NOW + skew).timestamp()))
    with pytest.raises(InvalidWebhookSignature, match="too far"):
        check(PRETTY, sign(PRETTY, stale, SECRET), stale)


def test_a_retry_up_to_an_hour_late_is_accepted() -> None:
    """Exponential retries come up to 15 minutes late, perhaps with the first timestamp."""
    recent = str(int((NOW - timedelta(minutes=59, seconds=59)).timestamp()))
    check(PRETTY, sign(PRETTY, recent, SECRET), recent)


def test_millisecond_timestamps_are_understood() -> None:
    millis = str(int(NOW.timestamp() * 1000))
    assert parse_timestamp(millis) == NOW
    check(PRETTY, sign(PRETTY, millis, SECRET), millis)


@pytest.mark.parametrize("value", ["soon", "nan", "inf", "-5", "1e400"])
def test_nonsense_timestamps_are_refused(value: str) -> None:
    with pytest.raises(InvalidWebhookSignature):
        parse_timestamp(value)


def test_a_secret_that_is_not_base64_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="base64"):
        decode_secret("not base64!")
