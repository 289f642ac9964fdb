"""Fault injection for Daily's REST surface (`/v1`).

Tutorium's retry and compensation code is only trustworthy if it has seen Daily fail: a 500,
a slow answer, or a connection that dies mid-response. Faults are armed through the control
endpoints and applied by `middleware.ApiMiddleware`; each fires for its next `times` matches.
"""

from __future__ import annotations

import fnmatch
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from .errors import invalid_request, reject_unknown_keys

DEFAULT_FAULT_BODY = {"error": "server-error", "info": "fault injected by the Daily emulator"}


class DroppedConnection(Exception):
    """Raised after the response head was sent. uvicorn then closes the socket, so the client
    sees a broken response (httpx.RemoteProtocolError), never a status it could act on.
    (An ASGI app cannot close a socket silently; raising before the head would make uvicorn
    answer 500 instead.) In-process TestClient re-raises this exception to the caller."""


@dataclass
class Fault:
    id: str
    path: str
    method: str | None
    status: int | None
    body: Any
    delay_ms: int
    drop: bool
    times: int
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.hits >= self.times:
            return False
        if self.method is not None and self.method != method:
            return False
        return fnmatch.fnmatchcase(path, self.path)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": self.path,
            "method": self.method,
            "status": self.status,
            "body": self.body,
            "delay_ms": self.delay_ms,
            "drop": self.drop,
            "times": self.times,
            "remaining": self.times - self.hits,
        }


def _int_field(spec: dict[str, Any], name: str, default: int, minimum: int) -> int:
    value = spec.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise invalid_request(f"{name} must be an integer >= {minimum}")
    return value


class FaultBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, spec: dict[str, Any]) -> Fault:
        reject_unknown_keys(spec, ("path", "method", "status", "body", "delay_ms", "drop", "times"))
        path, method = spec.get("path"), spec.get("method")
        if not isinstance(path, str) or not path:
            raise invalid_request("path must be a glob such as /v1/rooms*")
        if method is not None and not isinstance(method, str):
            raise invalid_request("method must be a string")
        status = spec.get("status")
        if status is not None:
            status = _int_field(spec, "status", 0, 100)
        drop = spec.get("drop", False)
        if not isinstance(drop, bool):
            raise invalid_request("drop must be a boolean")
        delay_ms = _int_field(spec, "delay_ms", 0, 0)
        if status is None and not drop and not delay_ms:
            raise invalid_request("a fault needs status, delay_ms or drop")
        if status is not None and drop:
            raise invalid_request("status and drop exclude each other")
        fault = Fault(
            id=str(uuid.uuid4()),
            path=path,
            method=method.upper() if method else None,
            status=status,
            body=spec.get("body", DEFAULT_FAULT_BODY) if status is not None else None,
            delay_ms=delay_ms,
            drop=drop,
            times=_int_field(spec, "times", 1, 1),
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first armed fault matching this request."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_api() for fault in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
