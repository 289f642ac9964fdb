"""How long a session's events gather between two reads of the log (`FeedHub.gather_for`,
`FeedListener`): the fan-out's cost is bounded per session, and sessions wait on their own
clocks."""

import asyncio
import uuid

from sqlalchemy import Connection

from app.services.feed.hub import MAX_GATHER_SECONDS, FeedHub
from app.services.feed.listener import POLL_SECONDS, FeedListener

BUSY, QUIET = uuid.uuid4(), uuid.uuid4()


def _hub(gather_seconds: float = 0.1, writes_per_second: float = 1000) -> FeedHub:
    return FeedHub(
        "postgresql+psycopg2://unused",
        buffer_messages=8,
        gather_seconds=gather_seconds,
        writes_per_second=writes_per_second,
        heartbeat_seconds=15,
    )


def _subscribe(hub: FeedHub, session_id: uuid.UUID, count: int) -> None:
    """Subscribers are made on the event loop (their heartbeat timer lives there)."""

    async def subscribe_all() -> None:
        for _ in range(count):
            hub.subscribe(session_id, 0)

    asyncio.run(subscribe_all())


def test_a_few_subscribers_gather_for_the_configured_least() -> None:
    hub = _hub()
    _subscribe(hub, BUSY, 3)
    assert hub.gather_for(BUSY) == 0.1
    assert hub.gather_for(QUIET) == 0.1  # nobody here yet


def test_many_subscribers_gather_longer_so_the_sends_per_second_stay_bounded() -> None:
    hub = _hub(writes_per_second=1000)
    _subscribe(hub, BUSY, 200)
    assert hub.gather_for(BUSY) == 0.2  # 200 subscribers x 5 reads/s = 1,000 sends/s


def test_however_many_subscribers_a_change_waits_at_most_half_a_second() -> None:
    hub = _hub(writes_per_second=1000)
    _subscribe(hub, BUSY, 5000)
    assert hub.gather_for(BUSY) == MAX_GATHER_SECONDS == 0.5


class _ScriptedListener(FeedListener):
    """`_read` answers from a script instead of PostgreSQL: which sessions had new events."""

    def __init__(self, gather: dict[uuid.UUID, float], has_events: set[uuid.UUID]) -> None:
        super().__init__("postgresql+psycopg2://unused", lambda *_: None, gather_for=gather.get)
        self.has_events = has_events
        self.reads: list[uuid.UUID] = []

    def _read(self, connection: Connection, session_id: uuid.UUID) -> bool:
        self.reads.append(session_id)
        return session_id in self.has_events


def test_a_busy_session_gathering_does_not_hold_back_another() -> None:
    listener = _ScriptedListener({BUSY: 60.0, QUIET: 0.0}, has_events={BUSY, QUIET})
    connection = Connection.__new__(Connection)  # never used: `_read` is scripted
    assert listener._read_due(connection, {BUSY}) == set()
    # BUSY found events: it now gathers for a minute, while QUIET is read at once.
    still_gathering = listener._read_due(connection, {BUSY, QUIET})
    assert still_gathering == {BUSY}
    assert listener.reads == [BUSY, QUIET]
    assert 59 < listener._next_wait(still_gathering) <= 60
    assert listener._next_wait(set()) == POLL_SECONDS


def test_a_session_nobody_follows_any_more_leaves_no_gathering_clock_behind() -> None:
    listener = _ScriptedListener({BUSY: 60.0}, has_events={BUSY})
    connection = Connection.__new__(Connection)
    listener.follow(BUSY, 0)
    listener._read_due(connection, {BUSY})
    assert BUSY in listener._not_before
    listener.unfollow(BUSY)
    listener._read_due(connection, set())
    assert listener._not_before == {}
