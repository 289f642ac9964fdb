"""A server-sent-events client for the feed tests: it reads a stream in a thread, as a
browser's EventSource would, and lets a test wait for what arrives."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

WAIT_S = 15.0


@dataclass(frozen=True)
class FeedMessage:
    event: str
    data: Any
    id: int | None


class FeedSubscriber:
    """GET the feed and collect its messages until the server closes it or `close()`."""

    def __init__(
        self,
        base_url: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> None:
        self.messages: list[FeedMessage] = []
        self.last_event_id: str | None = None  # as EventSource keeps it (bare `id:` lines too)
        self.comments = 0
        self.retry_ms: int | None = None
        self.status: int | None = None
        self.ended = threading.Event()
        self._changed = threading.Condition()
        self._client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(10.0, read=60.0))
        self._request = self._client.build_request("GET", path, headers=headers, params=params)
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            response = self._client.send(self._request, stream=True)
            self._response = response
            self.status = response.status_code
            if response.status_code == 200:
                for line in response.iter_lines():
                    self._line(line, fields)
            else:
                response.read()
        except (httpx.HTTPError, RuntimeError):
            pass  # closed by close(), or by the server
        finally:
            self.ended.set()
            with self._changed:
                self._changed.notify_all()

    def _line(self, line: str, fields: dict[str, str]) -> None:
        if line.startswith(":"):
            self.comments += 1
        elif line == "":
            if "id" in fields:
                self.last_event_id = fields["id"]
            if "event" in fields or "data" in fields:
                message = FeedMessage(
                    fields.get("event", "message"),
                    json.loads(fields["data"]) if "data" in fields else None,
                    int(fields["id"]) if "id" in fields else None,
                )
                with self._changed:
                    self.messages.append(message)
                    self._changed.notify_all()
            fields.clear()
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "retry":
                self.retry_ms = int(value)
            else:
                fields[name] = value

    def error_body(self) -> Any:
        self.ended.wait(WAIT_S)
        assert self._response is not None
        return self._response.json()

    def wait_for(
        self, done: Callable[[list[FeedMessage]], bool], timeout: float = WAIT_S
    ) -> list[FeedMessage]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done(self.messages):
                left = deadline - time.monotonic()
                if left <= 0 or (self.ended.is_set() and not done(self.messages)):
                    raise AssertionError(f"feed: not there in {timeout} s: {self.messages}")
                self._changed.wait(min(left, 0.2))
            return list(self.messages)

    def wait_count(self, event: str, count: int, timeout: float = WAIT_S) -> list[FeedMessage]:
        return self.wait_for(
            lambda messages: sum(m.event == event for m in messages) >= count, timeout
        )

    @property
    def last_id(self) -> int | None:
        ids = [m.id for m in self.messages if m.id is not None]
        return ids[-1] if ids else None

    def close(self) -> None:
        """Hang up as a browser tab does: shut the socket, which wakes the reading thread."""
        if self._response is not None:
            stream = self._response.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._client.close()
        self._thread.join(5)
