"""Spacing calls that share one of Daily's tight rate limits within this process."""

import threading
from collections.abc import Callable


class Pacer:
    """At most one call per `interval` seconds, across every thread that shares it.

    Each caller reserves the next free slot under a lock and sleeps outside it, so callers
    queue in order without holding the lock while they wait.
    """

    def __init__(
        self, interval: float, sleep: Callable[[float], None], clock: Callable[[], float]
    ) -> None:
        self.interval = interval
        self._sleep, self._clock = sleep, clock
        self._lock = threading.Lock()
        self._next_at: float | None = None

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            slot = now if self._next_at is None else max(now, self._next_at)
            self._next_at = slot + self.interval
        if slot > now:
            self._sleep(slot - now)
