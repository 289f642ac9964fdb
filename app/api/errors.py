"""One handler renders every error as `{"detail": ..., "code": ...}`."""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import ErrorCode, TutoriumError

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
    return JSONResponse(
        error_body(exc.message, exc.code), status_code=exc.status_code, headers=exc.headers
    )


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
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        error_body("Internal server error.", ErrorCode.INTERNAL_ERROR), status_code=500
    )


def install_error_handlers(app: FastAPI) -> None:
    # The decorator form: `add_exception_handler` types every handler as taking `Exception`.
    app.exception_handler(TutoriumError)(_tutorium_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(StarletteHTTPException)(_http_error)
    app.exception_handler(Exception)(_unexpected_error)
