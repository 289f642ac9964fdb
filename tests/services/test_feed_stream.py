"""A viewer's stream on its own (no database, no HTTP): what it sends for what the hub hands
it. The wire behaviour across processes is tests/e2e/test_feed.py."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence

from app.crud.feed import LoggedEvent
from app.models.event import EventSource
from app.models.participant import ParticipantRole
from app.services.feed.access import FeedStart
from app.services.feed.hub import FeedHub
from app.services.feed.messages import HEARTBEAT, RESYNC, FeedBatch, FeedMessage, to_message
from app.services.feed.stream import feed_stream

SESSION = uuid.uuid4()
TEACHER = uuid.uuid4()
STUDENT = uuid.uuid4()


def _event(
    position: int, type: str = "participant.seated", user: uuid.UUID = STUDENT
) -> FeedMessage:
    return to_message(
        LoggedEvent(
            position,
            type,
            EventSource.API,
            {"user_id": str(user)},
            user,
            ParticipantRole.STUDENT,
            "Sam Student",
        )
    )


class _Log:
    """The session's log as the stream's replay reads it; remembers each read."""

    def __init__(self, messages: Sequence[FeedMessage]) -> None:
        self.messages = list(messages)
        self.reads: list[int] = []

    async def read(self, session_id: uuid.UUID, after: int, limit: int) -> list[FeedMessage]:
        self.reads.append(after)
        return [m for m in self.messages if m.position > after][:limit]


def _start(after: int, *, teacher: bool = True) -> FeedStart:
    user = TEACHER if teacher else STUDENT
    return FeedStart(SESSION, user, teacher, after, b"retry: 3000\n\n", False, False)


def _hub(buffer: int = 8, heartbeat_seconds: float = 5) -> FeedHub:
    # never started: no listener, the test hands messages over itself
    return FeedHub(
        "postgresql+psycopg2://unused",
        buffer_messages=buffer,
        gather_seconds=0,
        writes_per_second=1000,
        heartbeat_seconds=heartbeat_seconds,
    )


async def _take(stream: AsyncIterator[bytes]) -> bytes:
    return await asyncio.wait_for(anext(stream), 2)


def _ids(chunk: bytes) -> list[int]:
    return [int(line[4:]) for line in chunk.decode().splitlines() if line.startswith("id: ")]


def test_live_messages_follow_the_replay_without_gap_or_duplicate() -> None:
    async def scenario() -> None:
        hub = _hub()
        log = _Log([_event(1), _event(2)])
        stream = feed_stream(hub, _start(0), log.read)
        assert _ids(await _take(stream)) == [1, 2]  # opening + replay
        log.messages += [_event(3), _event(4), _event(5)]
        # 2 was replayed; 3 and 4 never came live
        hub.deliver(SESSION, FeedBatch.of([_event(2), _event(5)]))
        assert _ids(await _take(stream)) == [3, 4, 5]
        assert log.reads == [0, 2]  # the hole was read from the log
        hub.deliver(SESSION, FeedBatch.of([_event(6), _event(7, "meeting.started")]))
        assert await _take(stream) == _event(6).teacher_frame + b"id: 7\n\n"  # sent whole
        await stream.aclose()
        assert hub.subscriber_count == 0

    asyncio.run(scenario())


def test_a_subscriber_too_far_behind_gets_resync_and_is_closed() -> None:
    async def scenario() -> None:
        hub = _hub(buffer=3)
        stream = feed_stream(hub, _start(0), _Log([]).read)
        await _take(stream)
        hub.deliver(SESSION, FeedBatch.of([_event(1), _event(2)]))
        hub.deliver(SESSION, FeedBatch.of([_event(3), _event(4)]))  # 4 pending > 3: overflow
        assert await _take(stream) == RESYNC
        assert [chunk async for chunk in stream] == []
        assert hub.subscriber_count == 0

    asyncio.run(scenario())


def test_silence_sends_a_heartbeat_comment() -> None:
    async def scenario() -> None:
        hub = _hub(heartbeat_seconds=0.01)
        stream = feed_stream(hub, _start(0), _Log([]).read)
        await _take(stream)
        assert await _take(stream) == HEARTBEAT
        await stream.aclose()

    asyncio.run(scenario())


def test_a_stream_that_keeps_sending_gets_no_heartbeat_until_it_falls_silent() -> None:
    async def scenario() -> None:
        hub = _hub(heartbeat_seconds=0.6)
        stream = feed_stream(hub, _start(0), _Log([]).read)
        await _take(stream)
        for position in range(1, 25):  # 1.2 s: two heartbeat periods, a message every 0.05 s
            hub.deliver(SESSION, FeedBatch.of([_event(position)]))
            assert _ids(await _take(stream)) == [position]
            await asyncio.sleep(0.05)
        assert await _take(stream) == HEARTBEAT
        await stream.aclose()
        assert hub.subscriber_count == 0

    asyncio.run(scenario())


def test_a_removed_students_stream_ends_with_their_removal_and_hides_names() -> None:
    async def scenario() -> None:
        hub = _hub()
        stream = feed_stream(hub, _start(0, teacher=False), _Log([]).read)
        await _take(stream)
        other = uuid.uuid4()
        removal = [_event(1, user=other), _event(2, "participant.removed")]
        hub.deliver(SESSION, FeedBatch.of(removal))
        chunk = (await _take(stream)).decode()
        assert "Sam Student" not in chunk
        assert chunk.endswith(
            f'event: participant.removed\ndata: {{"user_id":"{STUDENT}","status":"removed"}}\n\n'
        )
        assert [c async for c in stream] == []
        assert hub.subscriber_count == 0

    asyncio.run(scenario())


def test_events_the_viewer_is_not_shown_still_move_its_last_event_id() -> None:
    async def scenario() -> None:
        hub = _hub()
        stream = feed_stream(hub, _start(0), _Log([]).read)
        await _take(stream)
        hub.deliver(SESSION, FeedBatch.of([_event(1, "meeting.started")]))
        assert await _take(stream) == b"id: 1\n\n"
        await stream.aclose()

    asyncio.run(scenario())
