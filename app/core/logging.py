"""Structured JSON logs, each line carrying the request id and user id of its request.

python-json-logger does the JSON; the request context travels in contextvars
set by the request middleware, so any module's plain `logger.info(...)` line
is attributable to a request without passing ids around.
"""

import logging
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

_CONFIGURED_MARK = "_tutorium_json_handler"


@dataclass
class RequestContext:
    """Mutable on purpose: sync routes run in threadpool copies of the context, and a
    user id set there must still reach the middleware's access line."""

    request_id: str
    user_id: str | None = None


request_context_var: ContextVar[RequestContext | None] = ContextVar("request_context", default=None)


def set_current_user_id(user_id: str) -> None:
    context = request_context_var.get()
    if context is not None:
        context.user_id = user_id


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = request_context_var.get()
        if not hasattr(record, "request_id"):
            record.request_id = context.request_id if context else None
        if not hasattr(record, "user_id"):
            record.user_id = context.user_id if context else None
        return True


def json_handler(stream: TextIO) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
    )
    handler.addFilter(RequestContextFilter())
    return handler


def configure_logging(level: str) -> None:
    """Install one JSON handler on the root logger, and own the access log.

    Idempotent (tests build many apps), and run again when the app starts serving: a
    server that sets up its logging after importing the app (`uvicorn.run(app)`, a
    `--log-config`, gunicorn) re-enables its access logger, and each request would be
    logged twice. The app's own access line (`app.access`) is the one that has the
    route template, request id and user id, whatever the server's command line says.
    """
    root = logging.getLogger()
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").disabled = True
    if any(getattr(handler, _CONFIGURED_MARK, False) for handler in root.handlers):
        return
    handler = json_handler(sys.stderr)
    setattr(handler, _CONFIGURED_MARK, True)
    root.addHandler(handler)
    # httpx logs every request URL at INFO; our Daily client logs its own, safer lines.
    logging.getLogger("httpx").setLevel(logging.WARNING)
