"""One handler renders every error as `{"detail": ..., "code": ...}`."""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from app.core.errors import ErrorCode, TutoriumError, UnsupportedMediaType

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
    body = error_body(exc.message, exc.code)
    if exc.status_code == 422:  # one 422 shape: a rule about the whole request has no fields
        body["errors"] = []
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


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
    matching = [
        route
        for route in iter_route_contexts(request.app.router.routes)
        if route.path
        and route.methods
        and route.include_in_schema
        and compile_path(route.path)[0].match(path)
    ]
    literal = [route for route in matching if "{" not in route.path]
    return ", ".join(sorted({method for route in literal or matching for method in route.methods}))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        error_body("Internal server error.", ErrorCode.INTERNAL_ERROR), status_code=500
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TutoriumError, _tutorium_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)
