"""Reach a PostgreSQL server, and say in one line what is wrong when we cannot.

`make run` and `make test` share this. A newcomer's three usual problems look alike to the
driver (all an OperationalError) but need different fixes, so they are told apart here:
nothing answers, the server refused the login, or the database is missing. Each message names
the variable that applies (DATABASE_URL for `make run`, TEST_DATABASE_URL for `make test`).
"""

import enum
import re

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError

# The server `make run` and `make test` use when no URL is set (today's local setup).
LOCAL_SERVER_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
# Seconds to wait for a TCP answer: an unreachable host must fail in seconds, not 30.
CONNECT_TIMEOUT_SECONDS = 3


class Problem(enum.StrEnum):
    UNREACHABLE = "unreachable"
    LOGIN_REFUSED = "login refused"
    DATABASE_MISSING = "database missing"


class DatabaseUnavailable(RuntimeError):
    """A server or database we cannot use; the message says what to do."""

    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


_LOGIN_REFUSED = re.compile(
    r"password authentication failed|no password supplied|role .* does not exist|"
    r"pg_hba\.conf|authentication failed|permission denied for database",
    re.IGNORECASE,
)
_DATABASE_MISSING = re.compile(r"database .* does not exist", re.IGNORECASE)


def classify(error: OperationalError) -> Problem:
    message = str(error.orig)
    if _DATABASE_MISSING.search(message):
        return Problem.DATABASE_MISSING
    if _LOGIN_REFUSED.search(message):
        return Problem.LOGIN_REFUSED
    return Problem.UNREACHABLE


def _first_line(error: OperationalError) -> str:
    lines = [line.strip() for line in str(error.orig).splitlines() if line.strip()]
    return lines[-1] if lines else type(error.orig).__name__


def explain(problem: Problem, url: URL, variable: str, error: OperationalError) -> str:
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    shown = url.render_as_string(hide_password=True)
    reason = _first_line(error)
    if problem is Problem.UNREACHABLE:
        return (
            f"no PostgreSQL answers at {where} ({reason}). Start it, or set {variable} to a "
            f"server that runs; with {variable} unset the embedded PostgreSQL is used."
        )
    if problem is Problem.LOGIN_REFUSED:
        return (
            f"the PostgreSQL at {where} refused user {url.username!r} ({reason}). Put a user "
            f"and password it accepts in {variable}, e.g. "
            f"postgresql+psycopg2://USER:PASSWORD@{where}/{url.database}."
        )
    return (
        f"database {url.database!r} does not exist at {where} and could not be created as "
        f"{url.username!r}. Create it (createdb -h {url.host} -p {url.port or 5432} "
        f"-U {url.username} {url.database}) or set {variable} (now {shown}) to one that exists."
    )


def check(url: URL, variable: str) -> None:
    """Connect once; raise DatabaseUnavailable with an actionable message when that fails."""
    engine = create_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        problem = classify(error)
        raise DatabaseUnavailable(problem, explain(problem, url, variable, error)) from error
    finally:
        engine.dispose()


def _admin_engine(url: URL) -> Engine:
    return create_engine(
        url.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )


def ensure_database(url: URL, variable: str) -> None:
    """Use the database if it exists (`make run` keeps its data), else create it."""
    try:
        check(url, variable)
        return
    except DatabaseUnavailable as unavailable:
        if unavailable.problem is not Problem.DATABASE_MISSING:
            raise
        missing = unavailable
    engine = _admin_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    except DBAPIError as error:  # e.g. no CREATEDB privilege: still "database missing"
        raise missing from error
    finally:
        engine.dispose()


def recreate_database(url: URL, variable: str = "TEST_DATABASE_URL") -> None:
    """Drop and create the database: a fresh one for each test or benchmark run."""
    check(url.set(database="postgres"), variable)
    drop_database(url)
    engine = _admin_engine(url)
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    engine.dispose()


def drop_database(url: URL) -> None:
    engine = _admin_engine(url)
    with engine.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": url.database},
        )
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
    engine.dispose()
