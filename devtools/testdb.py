"""Make a fresh, migrated PostgreSQL database for the test suite.

Used by `make test`. Takes TEST_DATABASE_URL if set, else the local server on
127.0.0.1:5432 (starting it when it is installed but stopped). When no
PostgreSQL can be had it fails loudly: the suite never falls back to SQLite
and never skips silently.
"""

import glob
import os
import shutil
import subprocess
import sys
import time
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/tutorium_test"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/0"


def _server_reachable(admin_url: URL) -> bool:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def _start_local_server() -> None:
    if shutil.which("pg_ctlcluster") is None:
        return
    for version_dir in sorted(glob.glob("/etc/postgresql/*")):
        version = os.path.basename(version_dir)
        print(f"testdb: starting local PostgreSQL {version} cluster 'main'", file=sys.stderr)
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            check=False,
        )


def ensure_server(admin_url: URL) -> None:
    if _server_reachable(admin_url):
        return
    local = admin_url.host in (None, "localhost", "127.0.0.1", "::1")
    if local:
        _start_local_server()
        for _ in range(30):
            if _server_reachable(admin_url):
                return
            time.sleep(1)
    sys.exit(
        f"testdb: no PostgreSQL reachable at {admin_url.render_as_string(hide_password=True)}. "
        "Start one, or set TEST_DATABASE_URL to a server you can create databases on."
    )


def ensure_database(url: URL) -> None:
    """Create the database if it is missing, keeping one that exists (`make run`'s data)."""
    admin_url = url.set(database="postgres")
    ensure_server(admin_url)
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        ).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    engine.dispose()


def recreate_database(url: URL) -> None:
    admin_url = url.set(database="postgres")
    ensure_server(admin_url)
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = url.database
    with engine.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def _redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def ensure_redis(url: str) -> None:
    """The rate-limit tests run once on Redis: start a local one if it is installed."""
    if _redis_reachable(url):
        return
    if shutil.which("redis-server") and urlsplit(url).hostname in ("127.0.0.1", "localhost"):
        print("testdb: starting local redis-server (no persistence)", file=sys.stderr)
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                "6379",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=False,
        )
        for _ in range(20):
            if _redis_reachable(url):
                return
            time.sleep(0.5)
    sys.exit(
        f"testdb: no Redis reachable at {url}. Start one, or set TEST_REDIS_URL "
        "(the rate-limit tests run once in memory and once on Redis)."
    )


def main() -> None:
    ensure_redis(os.environ.get("TEST_REDIS_URL") or DEFAULT_TEST_REDIS_URL)
    url = make_url(os.environ.get("TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL)
    recreate_database(url)
    env = {**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False)}
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], check=True, env=env)
    print(f"testdb: {url.render_as_string(hide_password=True)} is fresh and migrated")


if __name__ == "__main__":
    main()
