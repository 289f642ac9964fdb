import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from starlette.requests import Request

from app.api.v1.endpoints.webhooks import capped_body
from app.core.errors import PayloadTooLarge
from app.services.webhooks.events import (
    NOT_JSON,
    DailyEvent,
    parse_body,
    parse_envelope,
    unix_time,
)
from app.services.webhooks.handling import MAX_BODY_BYTES

T = 1_900_000_000
NOW = datetime(2031, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (T, datetime.fromtimestamp(T, UTC)),
        (T + 0.25, datetime.fromtimestamp(T + 0.25, UTC)),
        (T * 1000, datetime.fromtimestamp(T, UTC)),  # milliseconds
        (True, None),
        ("1900000000", None),
        (-1, None),
        (float("nan"), None),
        (None, None),
    ],
)
def test_unix_time(value: object, expected: datetime | None) -> None:
    assert unix_time(value) == expected


def left(payload: dict, sent_at: datetime | None = None) -> DailyEvent:
    return DailyEvent(id="e", type="participant.left", payload=payload, sent_at=sent_at)


def test_a_left_ends_at_joined_at_plus_duration() -> None:
    joined, gone = left({"joined_at": T, "duration": 90.5}).participant_times(NOW)
    assert (joined, gone - joined) == (unix_time(T), timedelta(seconds=90.5))


def test_a_left_without_joined_at_counts_back_from_when_it_was_sent() -> None:
    sent = unix_time(T + 100)
    assert left({"duration": 40}, sent).participant_times(NOW) == (unix_time(T + 60), sent)
    assert left({}, sent).participant_times(NOW) == (sent, sent)
    assert left({}).participant_times(NOW) == (NOW, NOW)


def test_a_joined_has_no_leave_time() -> None:
    event = DailyEvent(id="e", type="participant.joined", payload={"joined_at": T}, sent_at=None)
    assert event.participant_times(NOW) == (unix_time(T), None)


def test_bodies_and_envelopes() -> None:
    assert parse_body(b"{") is NOT_JSON
    assert parse_body(b"\xff") is NOT_JSON
    assert parse_body(b'{"a": NaN}') is NOT_JSON
    assert parse_body(b"null") is None
    event = parse_envelope({"type": "meeting.ended", "id": "x", "payload": {"room_name": "r"}})
    assert event is not None
    assert event.room == "r"
    assert parse_envelope({"type": "meeting.ended", "id": "x" * 129, "payload": {}}) is None
    assert parse_envelope({"type": "meeting.ended", "id": "x", "payload": []}) is None


def _request(chunks: list[bytes], headers: dict[str, str]) -> Request:
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]

    async def receive() -> dict:
        return messages.pop(0)

    scope = {
        "type": "http",
        "method": "POST",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    return Request(scope, receive)


def test_the_endpoint_reads_at_most_one_mib_whatever_the_middleware_does() -> None:
    """Its own cap, so a larger app-wide limit later can never raise the webhook's."""
    ok = _request([b"a" * 10, b"b" * 10], {})
    assert asyncio.run(capped_body(ok)) == b"a" * 10 + b"b" * 10
    declared = _request([b""], {"content-length": str(MAX_BODY_BYTES + 1)})
    with pytest.raises(PayloadTooLarge):
        asyncio.run(capped_body(declared))
    streamed = _request([b"x" * MAX_BODY_BYTES, b"x"], {})
    with pytest.raises(PayloadTooLarge):
        asyncio.run(capped_body(streamed))
