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
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import DatabaseUnavailable, ErrorCode, TutoriumError, UnsupportedMediaType
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


VALIDATION_DETAIL = "The request is not valid: see `errors` for each field at fault."


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only where and what: FastAPI's default `input` would echo a submitted password.
    return [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors()
    ]


async def _tutorium_error(_request: Request, exc: TutoriumError) -> JSONResponse:
    return _tutorium_response(exc)


def _is_json(media_type: str) -> bool:
    main, _, sub = media_type.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


def _wrongly_labelled_body(request: Request, exc: RequestValidationError) -> bool:
    """A JSON route's body that FastAPI did not read as JSON because of its Content-Type.

    FastAPI parses a body as JSON only when it is labelled JSON; anything else (no label,
    or text/plain, which `fetch` gives a string body) reaches validation as raw bytes and
    fails as a whole, with an error located at `body` itself. Refused rather than guessed:
    a label that says what the bytes are is what every JSON client library sends.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if _is_json(media_type):
        return False
    return any(tuple(error.get("loc", ())) == ("body",) for error in exc.errors())


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    if _wrongly_labelled_body(request, exc):
        return await _tutorium_error(request, UnsupportedMediaType())
    body = error_body(VALIDATION_DETAIL, ErrorCode.VALIDATION_ERROR)
    return JSONResponse({**body, "errors": _field_errors(exc)}, status_code=422)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, HTTPStatus(exc.status_code).phrase.lower())
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return JSONResponse(
        error_body(exc.detail, code.replace(" ", "_")), status_code=exc.status_code, headers=headers
    )


def _allowed_methods(request: Request) -> str:
    """Every documented method on this path: the router's own 405 names only the first route
    that matched, while a path has one route per method. A literal path (`/join-by-code`)
    hides the parameter routes its text also matches (`/{session_id}`), as in routing."""
    path = request.scope["path"]
    matching: list[tuple[str, set[str]]] = []
    for route in iter_route_contexts(request.app.router.routes):
        if not route.path or not route.methods or not route.include_in_schema:
            continue
        if compile_path(route.path)[0].match(path):
            matching.append((route.path, route.methods))
    literal = [(route_path, methods) for route_path, methods in matching if "{" not in route_path]
    return ", ".join(sorted({method for _, methods in literal or matching for method in methods}))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    return _internal_error(request.method, request.url.path, exc)


def _internal_error(method: str, path: str, exc: BaseException) -> JSONResponse:
    """The 500: the exception goes to the log only (its text may hold SQL), never out."""
    logger.error("unhandled error on %s %s", method, path, exc_info=exc)
    return JSONResponse(
        error_body("Internal server error.", ErrorCode.INTERNAL_ERROR), status_code=500
    )


def _tutorium_response(exc: TutoriumError) -> JSONResponse:
    body = error_body(exc.message, exc.code)
    if exc.status_code == 422:  # one 422 shape: a rule about the whole request has no fields
        body["errors"] = []
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


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
