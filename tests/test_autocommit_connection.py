"""The join's autocommit connection commits each statement and goes back to the pool as it
came: a connection left in autocommit would make the next request's unit of work commit
statement by statement, with nothing left to roll back."""

from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.db.session import autocommit_connection, build_session_factory


def test_each_statement_commits_and_the_connection_goes_back_transactional(
    engine: Engine,
) -> None:
    with build_session_factory(engine)() as db:
        with autocommit_connection(db) as connection:
            driver = connection.connection.dbapi_connection
            connection.execute(text("SELECT txid_current()"))  # gives its transaction an id
            # Inside one transaction the id would still be there; each statement is its own.
            assert connection.execute(text("SELECT txid_current_if_assigned()")).scalar() is None
        assert driver is not None
        assert driver.autocommit is False


def test_the_connection_goes_back_transactional_when_the_join_fails(engine: Engine) -> None:
    drivers: list[Any] = []

    def failing_join(db: Session) -> None:
        with autocommit_connection(db) as connection:
            drivers.append(connection.connection.dbapi_connection)
            raise RuntimeError("refused")

    with build_session_factory(engine)() as db, pytest.raises(RuntimeError):
        failing_join(db)
    assert drivers[0].autocommit is False
