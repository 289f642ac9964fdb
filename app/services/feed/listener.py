"""The process's one LISTEN connection, and the reads of the log it triggers.

A thread owns a psycopg2 connection in autocommit and waits on its socket with `select()`.
Why a thread and not an asyncio reader on the event loop: the same connection also reads
the new events (psycopg2 is blocking), and those reads must never stall the loop that
serves every request; a thread keeps them off it without borrowing a connection from the
request pool, so the process uses the pool plus exactly this one, whatever the number of
subscribers. What it reads is handed to the loop with `call_soon_threadsafe`.

A NOTIFY says only "session S has a new event at position n". The thread then reads
everything after its cursor for S, once for all of the process's subscribers of S. When
the connection drops it reconnects and reads every followed session from its cursor, so an
event committed while nobody listened still arrives.
"""

import logging
import select
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence

from sqlalchemy import Connection, create_engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from app.crud.feed import LoggedEvent, events_after
from app.models.event import FEED_CHANNEL

logger = logging.getLogger(__name__)

APPLICATION_NAME = "tutorium-feed-listener"
READ_BATCH = 500
# select() also wakes for `stop()` (a socket pair), so this bounds nothing but idle loops.
POLL_SECONDS = 30.0
RECONNECT_DELAYS = (0.2, 0.5, 1.0, 2.0)

EventsCallback = Callable[[uuid.UUID, Sequence[LoggedEvent]], None]
GatherPolicy = Callable[[uuid.UUID], float]
"""How long a session's next events gather after a read that found some (`FeedHub`)."""


class FeedListener:
    def __init__(self, url: str, on_events: EventsCallback, *, gather_for: GatherPolicy) -> None:
        """`gather_for(session)`: after a read of that session found events, its next ones
        gather this long before the next read. During a join storm a session gets hundreds of
        events a second; handed over one by one, each would wake every subscriber (a thousand
        sends per event). Gathered, a subscriber gets a few writes a second whatever the rate,
        and the log one read per round. Each session waits on its own clock: a busy one never
        delays another's first event."""
        self._gather_for = gather_for
        self._not_before: dict[uuid.UUID, float] = {}  # listener thread only
        self._unfollowed: list[uuid.UUID] = []  # under the lock: their _not_before goes
        self._engine = create_engine(
            url,
            poolclass=NullPool,
            connect_args={
                "application_name": APPLICATION_NAME,
                # A dead peer (machine gone, no RST) is noticed in about 20 s, not hours.
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 2,
            },
        )
        self._on_events = on_events
        self._lock = threading.Lock()
        self._cursors: dict[uuid.UUID, int] = {}  # followed sessions: the last position read
        self._stopping = threading.Event()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self.connected = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feed-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake_writer.send(b"x")
        self._thread.join(timeout=5)
        self._engine.dispose()
        self._wake_reader.close()
        self._wake_writer.close()

    def follow(self, session_id: uuid.UUID, after: int) -> None:
        """Read `session_id`'s events from now on; `after` if nobody here followed it yet."""
        with self._lock:
            self._cursors.setdefault(session_id, after)

    def skip_to(self, session_id: uuid.UUID, position: int) -> None:
        """The session's only subscriber read the log up to `position` itself: a reconnect
        with an old Last-Event-ID must not make the listener read it all again."""
        with self._lock:
            if session_id in self._cursors:
                self._cursors[session_id] = max(self._cursors[session_id], position)

    def unfollow(self, session_id: uuid.UUID) -> None:
        with self._lock:
            self._cursors.pop(session_id, None)
            self._unfollowed.append(session_id)

    def _run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            try:
                with self._engine.connect() as connection:
                    attempt = 0
                    self._listen(connection.execution_options(isolation_level="AUTOCOMMIT"))
            except DBAPIError as error:
                self.connected.clear()
                delay = RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]
                attempt += 1
                logger.warning(
                    "feed listener lost PostgreSQL (%s); reconnecting in %.1f s",
                    type(error.orig).__name__,
                    delay,
                )
                self._stopping.wait(delay)
            except Exception:  # never let the thread die: the feed would go silent
                self.connected.clear()
                logger.exception("feed listener failed; restarting")
                self._stopping.wait(RECONNECT_DELAYS[-1])
        self.connected.clear()

    def _listen(self, connection: Connection) -> None:
        connection.exec_driver_sql(f"LISTEN {FEED_CHANNEL}")
        driver = connection.connection.dbapi_connection
        if driver is None:  # only after close(); here the connection was just opened
            raise RuntimeError("feed listener: no driver connection")
        with self._lock:
            due = set(self._cursors)  # whatever committed while nobody listened
        self.connected.set()
        logger.info("feed listener connected; catching up %d session(s)", len(due))
        while not self._stopping.is_set():
            due = self._read_due(connection, due)
            select.select([driver.fileno(), self._wake_reader], [], [], self._next_wait(due))
            driver.poll()  # raises when the server is gone
            due |= self._notified(driver.notifies)
            driver.notifies.clear()

    def _read_due(self, connection: Connection, due: set[uuid.UUID]) -> set[uuid.UUID]:
        """Read the sessions whose gathering time is over; returns those still gathering."""
        with self._lock:
            unfollowed, self._unfollowed = self._unfollowed, []
        for session_id in unfollowed:
            self._not_before.pop(session_id, None)
        now = time.monotonic()
        gathering = set()
        for session_id in due:
            if self._not_before.get(session_id, 0.0) > now:
                gathering.add(session_id)
            elif self._read(connection, session_id):
                self._not_before[session_id] = now + self._gather_for(session_id)
            else:
                self._not_before.pop(session_id, None)
        return gathering

    def _next_wait(self, gathering: set[uuid.UUID]) -> float:
        """Until the first gathering session is due, or a NOTIFY (or `stop()`) comes first."""
        if not gathering:
            return POLL_SECONDS
        return max(0.0, min(self._not_before[s] for s in gathering) - time.monotonic())

    def _notified(self, notifies: list[object]) -> set[uuid.UUID]:
        sessions: set[uuid.UUID] = set()
        with self._lock:
            for notify in notifies:
                session_text = getattr(notify, "payload", "").partition(" ")[0]
                try:
                    session_id = uuid.UUID(session_text)
                except ValueError:
                    continue
                if session_id in self._cursors:
                    sessions.add(session_id)
        return sessions

    def _read(self, connection: Connection, session_id: uuid.UUID) -> bool:
        """Hand over the session's new events; whether there were any."""
        found = False
        while True:
            with self._lock:
                after = self._cursors.get(session_id)
            if after is None:
                return found
            events = events_after(connection, session_id, after, limit=READ_BATCH)
            if not events:
                return found
            found = True
            with self._lock:
                if session_id in self._cursors:
                    self._cursors[session_id] = max(self._cursors[session_id], events[-1].position)
            self._on_events(session_id, events)
            if len(events) < READ_BATCH:
                return found
