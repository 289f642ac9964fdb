"""Engine, session factory and the one-unit-of-work-per-request contract."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings

logger = logging.getLogger(__name__)

Compensation = Callable[[], None]
_COMPENSATIONS_KEY = "compensations"


def build_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        engine = create_engine(
            settings.database_url, connect_args={"check_same_thread": False}, pool_pre_ping=True
        )
        event.listen(engine, "connect", _sqlite_enforce_foreign_keys)
        return engine
    return create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_pre_ping=True,
    )


def _sqlite_enforce_foreign_keys(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def build_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: the response is serialised after the commit, and
    # reloading every attribute then would cost a round trip per object.
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def on_rollback(db: Session, compensation: Compensation) -> None:
    """Register an undo step for work done outside the database (a Daily room, say).

    It runs only if this unit of work does not commit, so a request never leaves
    a Daily room without its row, or the reverse.
    """
    db.info.setdefault(_COMPENSATIONS_KEY, []).append(compensation)


def _run_compensations(db: Session) -> None:
    for compensation in reversed(db.info.pop(_COMPENSATIONS_KEY, [])):
        try:
            compensation()
        except Exception:
            logger.exception("compensation step failed; reconcile will clean up")


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Commit when the block finishes, roll back (and compensate) when it raises."""
    db = factory()
    try:
        yield db
        db.commit()
        db.info.pop(_COMPENSATIONS_KEY, None)
    except BaseException:
        db.rollback()
        _run_compensations(db)
        raise
    finally:
        db.close()
