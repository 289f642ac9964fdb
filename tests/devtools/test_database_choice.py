"""`make run` / `make test`: which database is used, and what a newcomer is told when it fails.

Real servers throughout: the suite's PostgreSQL for "a server is there", a closed port for
"nothing answers", and the embedded PostgreSQL from the wheel for "no server at all".
"""

import os
import secrets
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from devtools.database import DatabaseUnavailable, Problem, check, ensure_database
from devtools.embedded import embedded_redis, free_port
from devtools.testdb import (
    DEFAULT_TEST_DATABASE_URL,
    fresh_test_database,
    local_server,
    redis_for_tests,
)


@pytest.fixture
def server_url() -> URL:
    """The suite's own server, as its admin database."""
    url = make_url(os.environ.get("TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL)
    return url.set(database="postgres")


def database_exists(admin_url: URL, name: str) -> bool:
    engine = create_engine(admin_url)
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).scalar()
    engine.dispose()
    return found is not None


def closed_port_url() -> URL:
    return make_url(f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/postgres")


def test_nothing_answering_is_unreachable_and_names_the_variable() -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        check(closed_port_url(), "DATABASE_URL")
    assert caught.value.problem is Problem.UNREACHABLE
    assert "no PostgreSQL answers at 127.0.0.1:" in str(caught.value)
    assert "set DATABASE_URL" in str(caught.value)


def test_a_refused_login_is_told_apart_from_unreachable(server_url: URL) -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        check(server_url.set(username="no_such_role_w15", password="x"), "TEST_DATABASE_URL")
    assert caught.value.problem is Problem.LOGIN_REFUSED
    message = str(caught.value)
    assert "refused user 'no_such_role_w15'" in message
    assert "TEST_DATABASE_URL" in message
    assert ":x@" not in message  # the password is never shown


def test_a_missing_database_is_told_apart(server_url: URL) -> None:
    missing = server_url.set(database=f"tutorium_missing_{secrets.token_hex(4)}")
    with pytest.raises(DatabaseUnavailable) as caught:
        check(missing, "DATABASE_URL")
    assert caught.value.problem is Problem.DATABASE_MISSING
    assert f"database {missing.database!r} does not exist" in str(caught.value)
    assert "DATABASE_URL" in str(caught.value)


def test_make_run_creates_a_missing_database_and_keeps_an_existing_one(server_url: URL) -> None:
    url = server_url.set(database=f"tutorium_run_{secrets.token_hex(4)}")
    try:
        ensure_database(url, "DATABASE_URL")
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE kept (id int)"))
        engine.dispose()
        ensure_database(url, "DATABASE_URL")
        engine = create_engine(url)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM kept")).scalar() == 0
        engine.dispose()
    finally:
        engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
        engine.dispose()


def test_make_test_on_a_server_uses_a_database_of_its_own_and_drops_it(server_url: URL) -> None:
    local = server_url.render_as_string(hide_password=False)
    with fresh_test_database(None, local) as first, fresh_test_database(None, local) as second:
        assert first.database != second.database
        assert first.database.startswith("tutorium_test_")
        assert database_exists(server_url, first.database)
    assert not database_exists(server_url, first.database)
    assert not database_exists(server_url, second.database)


def test_an_explicit_test_database_url_wins(server_url: URL) -> None:
    explicit = server_url.set(database=f"tutorium_explicit_{secrets.token_hex(4)}")
    try:
        with fresh_test_database(explicit.render_as_string(hide_password=False)) as url:
            assert url.database == explicit.database
            assert database_exists(server_url, explicit.database)
    finally:
        engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{explicit.database}"'))
        engine.dispose()


def test_with_no_server_make_test_runs_an_embedded_postgresql_and_removes_it() -> None:
    nothing_there = closed_port_url().render_as_string(hide_password=False)
    with fresh_test_database(None, nothing_there) as url:
        engine = create_engine(url)
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version_num")).scalar()
            folder = connection.execute(text("SHOW data_directory")).scalar()
        engine.dispose()
        assert url.database == "tutorium_test"
        assert int(str(version)) >= 150000
        data = Path(str(folder))
        # Also as root: no folder permission was opened up, the data is ours.
        assert data.parent.stat().st_mode & 0o777 == 0o700
        assert data.stat().st_uid == os.geteuid()
    assert not data.exists()
    with pytest.raises(DatabaseUnavailable):
        check(url, "TEST_DATABASE_URL")  # the server is gone too


def test_an_unreachable_test_redis_url_fails_the_run_and_says_why(tmp_path: Path) -> None:
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    with (
        pytest.raises(SystemExit, match=r"no Redis answers at TEST_REDIS_URL="),
        redis_for_tests(unreachable, tmp_path),
    ):
        pass


def test_the_embedded_redis_answers_and_stops(tmp_path: Path) -> None:
    import redis

    with embedded_redis(tmp_path) as url:
        assert redis.Redis.from_url(url).ping()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", urlsplit(url).port or 0)) != 0


def test_make_run_uses_database_url_when_set(
    server_url: URL, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from app.core.config import get_settings
    from devtools.run_dev import choose_database

    url = server_url.set(database=f"tutorium_run_{secrets.token_hex(4)}")
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        assert choose_database([], tmp_path) == url
        assert database_exists(server_url, str(url.database))
    finally:
        get_settings.cache_clear()
        engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
        engine.dispose()


def test_a_local_server_refusing_user_postgres_is_passed_over(server_url: URL) -> None:
    """A stock Debian server (password auth) refuses the login: the embedded one is used."""
    refusing = server_url.set(username="no_such_role_w15")
    assert local_server(refusing.render_as_string(hide_password=False)) is None
    assert local_server(server_url.render_as_string(hide_password=False)) == server_url
