"""One handler renders every error as `{"detail": ..., "code": ...}`.

An unexpected exception is answered by `ErrorBoundaryMiddleware`, not by Starlette's
server-error layer: that one sends the 500 and then re-raises, and uvicorn closes the
connection of a request whose application raised, so a keep-alive client's next request
on that socket met a reset. The boundary answers and swallows the exception, and the
connection stays usable.
"""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import DatabaseUnavailable, ErrorCode, TutoriumError
from app.db.outage import DatabaseOutage, is_database_unavailable

logger = logging.getLogger("app.errors")

_HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.NOT_AUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
}


def error_body(detail: Any, code: str) -> dict[str, Any]:
    return {"detail": detail, "code": code}


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only where and what: FastAPI's default `input` would echo a submitted password.
    return [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors()
    ]


async def _tutorium_error(_request: Request, exc: TutoriumError) -> JSONResponse:
    return _tutorium_response(exc)


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse(error_body(_field_errors(exc), ErrorCode.VALIDATION_ERROR), status_code=422)


async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, HTTPStatus(exc.status_code).phrase.lower())
    return JSONResponse(
        error_body(exc.detail, code.replace(" ", "_")),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    return _internal_error(request.method, request.url.path, exc)


def _internal_error(method: str, path: str, exc: BaseException) -> JSONResponse:
    """The 500: the exception goes to the log only (its text may hold SQL), never out."""
    logger.error("unhandled error on %s %s", method, path, exc_info=exc)
    return JSONResponse(
        error_body("Internal server error.", ErrorCode.INTERNAL_ERROR), status_code=500
    )


def _tutorium_response(exc: TutoriumError) -> JSONResponse:
    return JSONResponse(
        error_body(exc.message, exc.code), status_code=exc.status_code, headers=exc.headers
    )


class ErrorBoundaryMiddleware:
    """The answer to any exception no handler took: 503 for a database outage, else 500.

    Innermost of the middlewares, so the request-context layer still stamps and counts
    the answer. An exception after the response has started cannot be answered any more
    and is left to propagate.
    """

    def __init__(self, app: ASGIApp, outage: DatabaseOutage) -> None:
        self.app = app
        self.outage = outage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            if is_database_unavailable(exc):
                self.outage.report(exc)
                response = _tutorium_response(DatabaseUnavailable())
            else:
                response = _internal_error(scope["method"], scope["path"], exc)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    # The decorator form: `add_exception_handler` types every handler as taking `Exception`.
    app.exception_handler(TutoriumError)(_tutorium_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(StarletteHTTPException)(_http_error)
    app.exception_handler(Exception)(_unexpected_error)
