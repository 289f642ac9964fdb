"""Per-request plumbing: request id, security headers, one access log line, metrics.

A plain ASGI middleware rather than BaseHTTPMiddleware: it sits on every
request of a class's join rush, and the plain form costs no extra task.
"""

import logging
import re
import time
import uuid

from fastapi import HTTPException
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import MAX_BODY_BYTES
from app.core.errors import PayloadTooLarge
from app.core.logging import RequestContext, request_context_var
from app.core.metrics import HTTP_LATENCY, HTTP_REQUESTS

access_logger = logging.getLogger("app.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def route_template(scope: Scope) -> str:
    """The matched route's path with its parameters named (`/sessions/{session_id}`).

    Derived from the path and its parameters rather than the route object, so
    metrics keep a bounded label set whatever router nesting FastAPI uses.
    """
    if "endpoint" not in scope:
        return "<unmatched>"
    template: str = scope.get("root_path", "") + scope["path"]
    for name, value in scope.get("path_params", {}).items():
        template = template.replace(f"/{value}", f"/{{{name}}}")
    return template


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _REQUEST_ID.match(candidate) else None
    return None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = RequestContext(request_id=_incoming_request_id(scope) or uuid.uuid4().hex)
        reset = request_context_var.set(context)
        status = 500
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = context.request_id
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except BaseException:
            # The context stays set: the error handler outside logs with this request's id.
            self._record(scope, status, started)
            raise
        self._record(scope, status, started)
        request_context_var.reset(reset)

    @staticmethod
    def _record(scope: Scope, status: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        template = route_template(scope)
        method = scope["method"]
        HTTP_REQUESTS.labels(method, template, str(status)).inc()
        HTTP_LATENCY.labels(method, template).observe(elapsed)
        access_logger.info(
            "%s %s %s",
            method,
            template,
            status,
            extra={
                "method": method,
                "path": template,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )


class BodySizeLimitMiddleware:
    """Refuse bodies over the limit with our 413 error shape, before anything parses them.

    A declared Content-Length over the limit is refused at once; a chunked body
    is counted as it streams and refused when it crosses the limit. The streamed case
    raises an HTTPException, not `PayloadTooLarge`: FastAPI turns any other exception from
    reading a body into a 400.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = JSONResponse(
                {"detail": PayloadTooLarge.message, "code": PayloadTooLarge.code},
                status_code=PayloadTooLarge.status_code,
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # HTTPException, not PayloadTooLarge: FastAPI turns anything else raised
                    # while it reads a body into a 400. The handler still answers our code.
                    raise HTTPException(status_code=413, detail=PayloadTooLarge.message)
            return message

        await self.app(scope, counting_receive, send)
