"""Where the abuse limits count: the configured storage (Redis), or this process's memory while
that storage is down.

A rate limiter must never be the reason a sign-in or a join fails: with Redis down, every
request would otherwise answer 500. So the limiter falls back to in-memory counts with the
same rules (each process counts on its own, and the counts start from zero: weaker, not
absent), warns once per outage, and asks Redis again at most every `PROBE_INTERVAL_S` until it
answers; then the shared counts are used again.
"""

import logging
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

from limits import RateLimitItem, WindowStats
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from app.core.metrics import RATE_LIMIT_STORAGE_DEGRADED, RATE_LIMIT_STORAGE_OUTAGES

logger = logging.getLogger(__name__)

T = TypeVar("T")
PROBE_INTERVAL_S = 1.0
# Redis on the same network answers in a millisecond: a dead one must not hold a request longer.
REDIS_TIMEOUT_S = 0.5
_STORAGE_ERRORS = (StorageError, RedisError, OSError)


class StorageState(StrEnum):
    OK = "ok"  # the configured shared storage counts
    DEGRADED = "degraded"  # it is down: this process counts in memory
    MEMORY = "memory"  # configured in memory: per process by design


class FallbackRateLimiter:
    """A moving-window limiter over `storage` that counts in memory while `storage` fails."""

    def __init__(
        self,
        storage: Storage,
        *,
        shared: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`shared`: whether `storage` lives outside this process (default: unless memory)."""
        self._primary = MovingWindowRateLimiter(storage)
        self._storage = storage
        self._shared = not isinstance(storage, MemoryStorage) if shared is None else shared
        self._fallback = MovingWindowRateLimiter(MemoryStorage())
        self._clock = clock
        self._lock = threading.Lock()
        self._degraded_since: float | None = None
        self._next_probe = 0.0

    @property
    def state(self) -> StorageState:
        if not self._shared:
            return StorageState.MEMORY
        return StorageState.OK if self._degraded_since is None else StorageState.DEGRADED

    def check(self) -> StorageState:
        """Ask the shared storage now (readiness does, so the state is fresh without traffic)."""
        if self._shared:
            if self._storage.check():
                self._recovered()
            else:
                self._failed(ConnectionError("no answer to PING"))
        return self.state

    def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        return self._run(lambda limiter: limiter.test(item, *identifiers))

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        return self._run(lambda limiter: limiter.hit(item, *identifiers))

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        return self._run(lambda limiter: limiter.get_window_stats(item, *identifiers))

    def _run(self, operation: Callable[[MovingWindowRateLimiter], T]) -> T:
        if self._degraded_since is not None and not self._probe_due():
            return operation(self._fallback)
        try:
            result = operation(self._primary)
        except _STORAGE_ERRORS as exc:
            self._failed(exc)
            return operation(self._fallback)
        self._recovered()
        return result

    def _probe_due(self) -> bool:
        """One request per interval tries the shared storage again; the rest count in memory."""
        with self._lock:
            now = self._clock()
            if now < self._next_probe:
                return False
            self._next_probe = now + PROBE_INTERVAL_S
            return True

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            self._next_probe = self._clock() + PROBE_INTERVAL_S
            if self._degraded_since is not None:
                return
            self._degraded_since = self._clock()
        RATE_LIMIT_STORAGE_DEGRADED.set(1)
        RATE_LIMIT_STORAGE_OUTAGES.inc()
        logger.warning(
            "rate limit storage unavailable: counting in this process's memory until it is "
            "back (%s: %s)",
            type(exc).__name__,
            exc,
        )

    def _recovered(self) -> None:
        if self._degraded_since is None:  # the hot path: a read, no lock
            return
        with self._lock:
            if self._degraded_since is None:
                return
            down_for = self._clock() - self._degraded_since
            self._degraded_since = None
        RATE_LIMIT_STORAGE_DEGRADED.set(0)
        logger.warning("rate limit storage back after %.1f s: counting there again", down_for)
