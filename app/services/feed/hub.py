"""The in-process fan-out: subscribers per session, fed by the process's one listener.

Everything here runs on the event loop except `_from_listener`, which the listener's thread
calls; it encodes the messages there (once for all subscribers) and hands them to the loop.
A subscriber holds a bounded list of pending messages: one that falls behind by more than
`feed_buffer_messages` is marked overflowed and its stream sends `resync` and closes; the
client reconnects with Last-Event-ID and is replayed from the log.

Heartbeats come from one timer for all the process's subscribers, not a timeout on each
wait: under uvloop every timeout is a timer handle made and torn down per wait, which cost
about a fifth of a busy feed's writes (bench/RESULTS.md, "Live feed, third session").
"""

import asyncio
import uuid
from collections import deque
from collections.abc import Sequence

from app.crud.feed import LoggedEvent
from app.services.feed.listener import FeedListener
from app.services.feed.messages import FeedBatch, to_message

# However many subscribers: beyond this a change would take more than the second the feed
# aims for (bench/RESULTS.md, "Live feed") to reach them.
MAX_GATHER_SECONDS = 0.5


def gather_seconds(subscribers: int, *, least: float, writes_per_second: float) -> float:
    """How long a session's events gather between two reads with `subscribers` here: about
    `writes_per_second` sends whatever the audience, within [`least`, `MAX_GATHER_SECONDS`]."""
    return max(least, min(subscribers / writes_per_second, MAX_GATHER_SECONDS))


class Subscriber:
    __slots__ = (
        "_heartbeat_due",
        "_limit",
        "_pending",
        "_pending_messages",
        "_spoke",
        "_wakeup",
        "overflowed",
        "session_id",
    )

    def __init__(self, session_id: uuid.UUID, limit: int) -> None:
        self.session_id = session_id
        self.overflowed = False
        self._limit = limit
        self._pending: deque[FeedBatch] = deque()
        self._pending_messages = 0
        self._wakeup = asyncio.Event()
        self._spoke = True  # its opening is about to go out
        self._heartbeat_due = False

    def offer(self, batch: FeedBatch) -> None:
        if self.overflowed:
            return
        self._pending_messages += len(batch.messages)
        if self._pending_messages > self._limit:
            self.overflowed = True
            self._pending.clear()  # its memory goes now, not when the client reads
        else:
            self._pending.append(batch)
        self._wakeup.set()

    def beat(self) -> None:
        """The hub's tick, twice per heartbeat period: a stream that has sent nothing since
        the previous tick is due a heartbeat, so none stays silent for a whole period."""
        if not self._spoke:
            self._heartbeat_due = True
            self._wakeup.set()
        self._spoke = False

    async def next_batch(self) -> list[FeedBatch] | None:
        """What arrived since the last call, once something did; None: send a heartbeat."""
        if not self._pending and not self.overflowed and not self._heartbeat_due:
            await self._wakeup.wait()
        self._wakeup.clear()
        self._spoke = True
        self._heartbeat_due = False
        if not self._pending and not self.overflowed:
            return None
        batches = list(self._pending)
        self._pending.clear()
        self._pending_messages = 0
        return batches


class FeedHub:
    """One per process: started and stopped with the application."""

    def __init__(
        self,
        listen_url: str,
        *,
        buffer_messages: int,
        gather_seconds: float,
        writes_per_second: float,
        heartbeat_seconds: float,
    ) -> None:
        """`gather_seconds` is the least a session's events gather between two reads; with
        many subscribers here it is longer (up to `MAX_GATHER_SECONDS`), so that a session's
        fan-out stays near `writes_per_second` sends, the cost that competes with requests
        (bench/RESULTS.md). No stream is silent for longer than `heartbeat_seconds`."""
        self._beat_every = heartbeat_seconds / 2
        self._beats: asyncio.TimerHandle | None = None
        self._listen_url = listen_url
        self._gather_seconds = gather_seconds
        self._writes_per_second = writes_per_second
        self._buffer_messages = buffer_messages
        self._channels: dict[uuid.UUID, set[Subscriber]] = {}
        self._listener: FeedListener | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def listener_connected(self) -> bool:
        return self._listener is not None and self._listener.connected.is_set()

    @property
    def subscriber_count(self) -> int:
        return sum(len(subscribers) for subscribers in self._channels.values())

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """With the application (a test may start one app several times: a fresh thread each)."""
        self._loop = loop
        self._listener = FeedListener(
            self._listen_url, self._from_listener, gather_for=self.gather_for
        )
        for session_id in self._channels:
            self._listener.follow(session_id, 0)
        self._listener.start()

    def stop(self) -> None:
        if self._beats is not None:
            self._beats.cancel()
            self._beats = None
        if self._listener is not None:
            self._listener.stop()
            self._listener = None

    def gather_for(self, session_id: uuid.UUID) -> float:
        """Called from the listener's thread: reading the size of a set is safe there."""
        return gather_seconds(
            len(self._channels.get(session_id, ())),
            least=self._gather_seconds,
            writes_per_second=self._writes_per_second,
        )

    def subscribe(self, session_id: uuid.UUID, after: int) -> Subscriber:
        """On the event loop (the heartbeat timer starts with the first subscriber)."""
        subscriber = Subscriber(session_id, self._buffer_messages)
        self._channels.setdefault(session_id, set()).add(subscriber)
        if self._listener is not None:
            self._listener.follow(session_id, after)
        if self._beats is None:
            self._beats = asyncio.get_running_loop().call_later(self._beat_every, self._beat)
        return subscriber

    def _beat(self) -> None:
        """Tick every subscriber; the timer stops when nobody is subscribed."""
        self._beats = None
        if not self._channels:
            return
        for subscribers in self._channels.values():
            for subscriber in subscribers:
                subscriber.beat()
        self._beats = asyncio.get_running_loop().call_later(self._beat_every, self._beat)

    def caught_up(self, subscriber: Subscriber, position: int) -> None:
        """`subscriber` has read the log up to `position` (its replay). Only a session's sole
        subscriber here moves the listener on: others may still be waiting for events below
        `position` that the listener has yet to read."""
        if self._listener is not None and len(self._channels[subscriber.session_id]) == 1:
            self._listener.skip_to(subscriber.session_id, position)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subscribers = self._channels.get(subscriber.session_id)
        if subscribers is None:
            return
        subscribers.discard(subscriber)
        if not subscribers:
            del self._channels[subscriber.session_id]
            if self._listener is not None:
                self._listener.unfollow(subscriber.session_id)

    def _from_listener(self, session_id: uuid.UUID, events: Sequence[LoggedEvent]) -> None:
        batch = FeedBatch.of([to_message(event) for event in events])  # in the thread: off the loop
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.deliver, session_id, batch)

    def deliver(self, session_id: uuid.UUID, batch: FeedBatch) -> None:
        """Hand `batch` (consecutive positions of one session) to its subscribers here."""
        for subscriber in self._channels.get(session_id, ()):
            subscriber.offer(batch)
