"""Errors shaped the way Daily shapes them.

REST errors are `{"error": <stable type>, "info": <human text>}`; Daily documents that only
`error` is stable, so the `info` strings here imitate Daily's wording but clients must not parse
them. Join refusals imitate daily-js instead (an `error` event with a `type`), because that is
what a browser would see and what Tutorium's support logs record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class DailyError(Exception):
    """A REST error with Daily's body; `extra` adds fields such as `deleted` on 404s."""

    def __init__(self, status: int, error: str, info: str | None = None, **extra: Any) -> None:
        super().__init__(info or error)
        self.status = status
        self.error = error
        self.info = info
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error}
        if self.info is not None:
            body["info"] = self.info
        body.update(self.extra)
        return body


def invalid_request(info: str) -> DailyError:
    return DailyError(400, "invalid-request-error", info)


def not_found(info: str, **extra: Any) -> DailyError:
    """Daily answers missing things with `not-found`, although its error table omits it."""
    return DailyError(404, "not-found", info, **extra)


class JoinRefused(Exception):
    """A refused join, named by the daily-js error `type` the browser would receive."""

    def __init__(self, kind: str, msg: str) -> None:
        super().__init__(msg)
        self.kind = kind
        self.msg = msg

    @property
    def status(self) -> int:
        return 404 if self.kind == "no-room" else 403

    def body(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "errorMsg": self.msg,
            "error": {"type": self.kind, "msg": self.msg, "details": {}},
        }


async def read_json_object(request: Request) -> dict[str, Any]:
    """Parse a request body as a JSON object; an empty body counts as `{}` (Daily allows
    `POST /rooms` with no body and generates a random room)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DailyError(400, "json-parsing-error", "request body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise invalid_request("request body must be a JSON object")
    return data


def reject_unknown_keys(body: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise invalid_request(f"unknown parameter '{unknown[0]}'")


def install_error_handlers(app: FastAPI) -> None:
    """Render every error under /v1 in Daily's shape, so a client never sees FastAPI's
    `{"detail": ...}` from the emulator when the real service would not send it."""

    async def daily_error(_: Request, exc: DailyError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    async def join_refused(_: Request, exc: JoinRefused) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            body = {"error": "not-found", "info": "no such endpoint"}
        else:
            body = {"error": "invalid-request-error", "info": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": "invalid-request-error", "info": str(exc)}, status_code=400)

    # The decorator form: `add_exception_handler` types every handler as taking `Exception`.
    app.exception_handler(DailyError)(daily_error)
    app.exception_handler(JoinRefused)(join_refused)
    app.exception_handler(StarletteHTTPException)(http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
