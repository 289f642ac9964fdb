"""Engine, session factory and the one-unit-of-work-per-request contract
(docs/unit-of-work.md)."""

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")
# An undo or after-commit step; what it returns (a Daily call's result, say) is ignored.
Compensation = Callable[[], object]
_COMPENSATIONS_KEY = "compensations"
_AFTER_COMMIT_KEY = "after_commit"
# `Session.info` key of what `autocommit_connection` hands out, set by the session factory.
AUTOCOMMIT_CONNECT = "autocommit_connect"
AutocommitConnect = Callable[[], AbstractContextManager[Connection]]


def build_engine(settings: Settings) -> Engine:
    """PostgreSQL only: the join path's seat statement uses data-modifying CTEs.

    hide_parameters: a failed statement's values (emails, hashes) stay out of logs.
    """
    return create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout_seconds,
        pool_pre_ping=True,
        hide_parameters=True,
    )


def build_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: the response is serialised after the commit, and
    # reloading every attribute then would cost a round trip per object.
    return sessionmaker(
        bind=engine,
        expire_on_commit=False,
        autoflush=False,
        info={AUTOCOMMIT_CONNECT: partial(_autocommit_connection_of, engine)},
    )


def on_rollback(db: Session, compensation: Compensation) -> None:
    """Register an undo step for work done outside the database (a Daily room, say).

    It runs only if this unit of work does not commit, so a request never leaves
    a Daily room without its row, or the reverse.
    """
    db.info.setdefault(_COMPENSATIONS_KEY, []).append(compensation)


def after_commit(db: Session, step: Compensation) -> None:
    """Register outside work that must wait until the change is durable (deleting a room).

    A failure is logged, not raised: the database already says what is true,
    and reconcile finishes the outside part later.
    """
    db.info.setdefault(_AFTER_COMMIT_KEY, []).append(step)


def _run_steps(db: Session, key: str, *, newest_first: bool) -> None:
    steps = db.info.pop(key, [])
    for step in reversed(steps) if newest_first else steps:
        try:
            step()
        except Exception:
            logger.exception("%s step failed; reconcile will clean up", key)


def commit_unit_of_work(db: Session) -> None:
    """Commit, then run the after-commit steps; on failure roll back and compensate."""
    try:
        if db.in_transaction():  # a commit with nothing begun would begin, then commit
            db.commit()
    except BaseException:
        abort_unit_of_work(db)
        raise
    db.info.pop(_COMPENSATIONS_KEY, None)
    _run_steps(db, _AFTER_COMMIT_KEY, newest_first=False)
    db.close()


def abort_unit_of_work(db: Session) -> None:
    """Roll back, drop the after-commit steps and run the compensations."""
    try:
        db.rollback()
        db.info.pop(_AFTER_COMMIT_KEY, None)
        _run_steps(db, _COMPENSATIONS_KEY, newest_first=True)
    finally:
        db.close()


def committed(db: Session, work: Callable[..., T], /, **kwargs: Any) -> T:
    """Run `work(db, **kwargs)` and commit at once, in the same thread (the join routes: a
    teacher's first join holds the session's row lock until this commit). If `work` raises,
    nothing is committed and the request's unit of work rolls back as usual."""
    result = work(db, **kwargs)
    commit_unit_of_work(db)
    return result


def autocommit_connection(db: Session) -> AbstractContextManager[Connection]:
    """A plain Core connection on which each statement commits on its own, for the join's
    seat statement; close it before `db` opens its own connection. Where it comes from is
    the session factory's `AUTOCOMMIT_CONNECT` (docs/unit-of-work.md)."""
    connect: AutocommitConnect = db.info[AUTOCOMMIT_CONNECT]
    return connect()


@contextmanager
def _autocommit_connection_of(engine: Engine) -> Iterator[Connection]:
    """psycopg2's own `autocommit` flag, not SQLAlchemy's AUTOCOMMIT isolation level, which
    sends a `SET` each time the connection goes back to the pool (docs/join-path.md)."""
    with engine.connect() as connection:
        driver_connection: Any = connection.connection.dbapi_connection  # open: just checked out
        driver_connection.autocommit = True
        try:
            yield connection
        finally:
            if not driver_connection.closed:
                driver_connection.autocommit = False


def has_pending_work(db: Session) -> bool:
    """Whether ending this unit of work still has anything to commit or run."""
    return db.in_transaction() or bool(db.info.get(_AFTER_COMMIT_KEY))


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Commit when the block finishes, roll back (and compensate) when it raises."""
    db = factory()
    try:
        yield db
    except BaseException:
        abort_unit_of_work(db)
        raise
    commit_unit_of_work(db)
