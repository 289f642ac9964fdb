"""The request path for Daily's REST surface (`/v1`): latency, faults and the request log.

Every `/v1` call is recorded (API key redacted) so tests can assert exactly what Tutorium sent;
latency is an async sleep so a slow emulated Daily never blocks other requests.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .faults import DroppedConnection
from .state import iso_time

if TYPE_CHECKING:
    from .runtime import Emulator


def _redact(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, credentials = authorization.partition(" ")
    return f"{scheme} [redacted]" if credentials else "[redacted]"


def _parse_body(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body[:2000].decode("utf-8", errors="replace")


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Callable[[], Any]:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class ApiMiddleware:
    """Sweeps due ejections on every request; for `/v1` also adds latency, faults and logging."""

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.emulator.calls.sweep()
        path: str = scope["path"]
        if path != "/v1" and not path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        await self._serve_api(scope, receive, send)

    async def _serve_api(self, scope: Scope, receive: Receive, send: Send) -> None:
        emulator = self.emulator
        body = await _read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        entry: dict[str, Any] = {
            "time": iso_time(time.time()),
            "method": scope["method"],
            "path": scope["path"],
            "query": dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))),
            "body": _parse_body(body),
            "authorization": _redact(headers.get("authorization")),
            "status": None,
            "fault": None,
            "dropped": False,
        }

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        started = time.monotonic()
        try:
            if emulator.config.latency_ms:
                await asyncio.sleep(emulator.config.latency_ms / 1000)
            fault = emulator.faults.take(scope["method"], scope["path"])
            if fault is not None:
                entry["fault"] = fault.id
                if fault.delay_ms:
                    await asyncio.sleep(fault.delay_ms / 1000)
                if fault.drop:
                    entry["dropped"] = True
                    head = {"type": "http.response.start", "status": 500}
                    await send({**head, "headers": [(b"content-length", b"1")]})
                    raise DroppedConnection(f"fault {fault.id} dropped {scope['path']}")
                if fault.status is not None:
                    response = JSONResponse(fault.body, status_code=fault.status)
                    await response(scope, _replay(body, receive), capture)
                    return
            await self.app(scope, _replay(body, receive), capture)
        finally:
            entry["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
            emulator.requests.add(entry)


class DevToolsCors:
    """CORS for `/_emulator/*` only: a frontend on another origin (Vite on :5173) loads the
    daily-js stand-in and drives calls from the browser. Any origin, no credentials: these
    endpoints carry no secrets. Daily's REST API (`/v1`) stays without CORS, as at Daily, where
    the API key must never reach a browser."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/_emulator/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
