"""The emulator's record of the REST calls it received, for tests to assert what Tutorium sent."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

REQUEST_LOG_SIZE = 1000


class RequestLog:
    """The last REST calls received; the Authorization value is never stored."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
