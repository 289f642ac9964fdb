"""Telling a database outage from a bug, and noticing when the outage is over.

An outage (PostgreSQL restarting, stopped, out of reach, or the pool empty for its whole
timeout) is not the request's fault and will pass: the client hears 503 with Retry-After
and may retry. Every other database error (a constraint, a bad statement) is a bug and
stays a 500. The outage is logged once, when it starts, not once per failed request: a
stopped database under a class's join rush would otherwise write thousands of lines.
"""

import logging
import threading

import psycopg2
from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.core.metrics import DATABASE_OUTAGES, DATABASE_UNAVAILABLE_ERRORS

logger = logging.getLogger(__name__)

# SQLSTATE class 08 (connection exception) and the server going away: admin_shutdown
# (a fast restart terminates every backend), crash_shutdown, cannot_connect_now (starting
# up or shutting down).
_SERVER_GOING_AWAY = frozenset({"57P01", "57P02", "57P03"})


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database could not be reached, rather than refused our SQL."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:  # SQLAlchemy's own disconnect detection
        return True
    driver_error = exc.orig
    if isinstance(driver_error, psycopg2.InterfaceError):  # "connection already closed"
        return True
    if not isinstance(driver_error, psycopg2.OperationalError):
        return False
    code = driver_error.pgcode
    # No SQLSTATE: libpq itself failed (connection refused, server closed the connection).
    return code is None or code.startswith("08") or code in _SERVER_GOING_AWAY


class DatabaseOutage:
    """Per process: is the database down as far as this process knows, since when, why.

    A connection handed out by the pool ends the outage: with `pool_pre_ping` the pool only
    hands out a connection that has just answered.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.ongoing = False

    def report(self, exc: BaseException) -> None:
        DATABASE_UNAVAILABLE_ERRORS.inc()
        with self._lock:
            if self.ongoing:
                return
            self.ongoing = True
        DATABASE_OUTAGES.inc()
        cause = exc.orig if isinstance(exc, DBAPIError) else exc
        logger.error(
            "database unavailable: answering 503 until it is back (%s: %s)",
            type(cause).__name__,
            str(cause).strip().splitlines()[0] if str(cause).strip() else "",
        )

    def _reachable(self, *_: object) -> None:
        if not self.ongoing:  # the hot path: a read of a bool, no lock
            return
        with self._lock:
            if not self.ongoing:
                return
            self.ongoing = False
        logger.warning("database reachable again")

    def watch(self, engine: Engine) -> None:
        event.listen(engine, "checkout", self._reachable)
