"""One viewer's stream: the opening, a replay from the log, then the live tail.

The subscriber is registered BEFORE the replay is read, so an event committed at any moment
is either in the replay or delivered live (or both: positions at or below the cursor are
dropped). Positions have no holes, so a live message further ahead than the next position
means something was missed in between, and that stretch is read from the log first: no gap
and no duplicate at the seam.
"""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from app.crud.feed import events_after
from app.services.feed.access import FeedStart
from app.services.feed.hub import FeedHub
from app.services.feed.messages import HEARTBEAT, RESYNC, FeedBatch, FeedMessage, to_message

# Messages read from the log at a time; reads repeat until a short one.
REPLAY_BATCH = 500

LogReader = Callable[[uuid.UUID, int, int], Awaitable[Sequence[FeedMessage]]]


def read_log(
    session_factory: sessionmaker[Session], session_id: uuid.UUID, after: int, limit: int
) -> list[FeedMessage]:
    """A replay's read, on a connection of the request pool (blocking: run it in a thread)."""
    with session_factory() as db:
        return [to_message(event) for event in events_after(db, session_id, after, limit=limit)]


class _Cursor:
    """The position the viewer has seen, and whether their stream is over."""

    def __init__(self, start: FeedStart) -> None:
        self.after = start.after
        self.sent = start.after
        self.user_id = start.user_id
        self.is_teacher = start.is_teacher
        self.done = False

    def mark(self, out: list[bytes]) -> None:
        """Events this viewer is not shown still move its Last-Event-ID on: a bare `id:`
        line sets EventSource's last event id without dispatching anything, so a reconnect
        does not replay them (and one after the end gets its 204)."""
        if self.after != self.sent:
            out.append(f"id: {self.after}\n\n".encode())
            self.sent = self.after

    def takes_whole(self, batch: FeedBatch) -> bool:
        """The common case: the batch starts right after the cursor and ends no stream here."""
        return (
            batch.first == self.after + 1
            and not batch.ends_every_stream
            and (self.is_teacher or self.user_id not in batch.removed)
        )

    def take_whole(self, batch: FeedBatch, out: list[bytes]) -> None:
        chunk = batch.teacher_bytes if self.is_teacher else batch.student_bytes
        shown = batch.teacher_last_shown if self.is_teacher else batch.student_last_shown
        if chunk:
            out.append(chunk)
        if shown is not None:
            self.sent = shown
        self.after = batch.last

    def take(self, message: FeedMessage, out: list[bytes]) -> None:
        """`message` is the next position: send its frame (if this viewer sees one)."""
        self.after = message.position
        chunk = message.teacher_frame if self.is_teacher else message.student_frame
        if chunk is not None:
            out.append(chunk)
            self.sent = message.position
        if message.ends_every_stream or (
            not self.is_teacher and message.ends_stream_of(self.user_id)
        ):
            self.done = True


async def _read_up_to(
    read: LogReader, session_id: uuid.UUID, cursor: _Cursor, until: int | None, out: list[bytes]
) -> None:
    while not cursor.done and (until is None or cursor.after < until):
        messages = await read(session_id, cursor.after, REPLAY_BATCH)
        for message in messages:
            if (until is not None and message.position > until) or cursor.done:
                return
            cursor.take(message, out)
        if len(messages) < REPLAY_BATCH:
            return


async def _take_one_by_one(
    read: LogReader, session_id: uuid.UUID, cursor: _Cursor, batch: FeedBatch, out: list[bytes]
) -> None:
    """A batch that overlaps what was sent, follows a hole, or ends the stream."""
    for message in batch.messages:
        if message.position <= cursor.after:
            continue
        if message.position > cursor.after + 1:
            await _read_up_to(read, session_id, cursor, message.position - 1, out)
        if cursor.done:
            return
        cursor.take(message, out)
        if cursor.done:
            return


async def feed_stream(hub: FeedHub, start: FeedStart, read: LogReader) -> AsyncIterator[bytes]:
    subscriber = hub.subscribe(start.session_id, start.after)
    try:
        cursor = _Cursor(start)
        out: list[bytes] = [start.opening]
        await _read_up_to(read, start.session_id, cursor, None, out)
        hub.caught_up(subscriber, cursor.after)
        cursor.mark(out)
        yield b"".join(out)
        if start.session_over:
            return
        while not cursor.done:
            batches = await subscriber.next_batch()
            if batches is None:
                yield HEARTBEAT
                continue
            if subscriber.overflowed:
                yield RESYNC
                return
            out = []
            for batch in batches:
                if cursor.done:
                    break
                if batch.last <= cursor.after:
                    continue
                if cursor.takes_whole(batch):
                    cursor.take_whole(batch, out)
                else:
                    await _take_one_by_one(read, start.session_id, cursor, batch, out)
            cursor.mark(out)
            if out:
                yield b"".join(out)
    finally:
        hub.unsubscribe(subscriber)
