"""`make test`: get a PostgreSQL and a Redis, migrate, run pytest, clean up.

Which database, in this order:
1. TEST_DATABASE_URL (environment or `.env`): recreated fresh, kept afterwards to inspect.
2. The local server on 127.0.0.1:5432 as user `postgres`: a database unique to this run
   (`tutorium_test_<random>`), dropped at the end, so two runs on one server never collide.
3. Else an embedded PostgreSQL (devtools/embedded.py) in a temporary folder, removed at the end.

Redis for the rate-limit tests' Redis lane: TEST_REDIS_URL, else 127.0.0.1:6379, else an
embedded Valkey. The lane is never skipped: if no Redis can be had the run fails and says why.
The suite never falls back to SQLite: the join path needs PostgreSQL's data-modifying CTEs.
"""

import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from devtools.database import (
    LOCAL_SERVER_URL,
    DatabaseUnavailable,
    check,
    drop_database,
    recreate_database,
)
from devtools.devsettings import DevSettings
from devtools.embedded import EmbeddedPostgres, embedded_redis

# What `pytest` alone uses when TEST_DATABASE_URL is unset (make test always sets it).
DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/tutorium_test"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/0"
VARIABLE = "TEST_DATABASE_URL"


def say(message: str) -> None:
    print(f"testdb: {message}", file=sys.stderr, flush=True)


def local_server(url: str = LOCAL_SERVER_URL) -> URL | None:
    """The local server's admin URL if it answers and takes user `postgres`, else None."""
    try:
        check(make_url(url), VARIABLE)
    except DatabaseUnavailable as unavailable:
        say(f"not using 127.0.0.1:5432 ({unavailable.problem})")
        return None
    return make_url(url)


@contextmanager
def fresh_test_database(explicit: str | None, local_url: str = LOCAL_SERVER_URL) -> Iterator[URL]:
    """A fresh, empty database for one run, chosen as the module docstring says."""
    if explicit:
        url = make_url(explicit)
        recreate_database(url, VARIABLE)
        yield url
        return
    server = local_server(local_url)
    if server is not None:
        url = server.set(database=f"tutorium_test_{secrets.token_hex(4)}")
        recreate_database(url, VARIABLE)
        try:
            yield url
        finally:
            drop_database(url)
        return
    with tempfile.TemporaryDirectory(prefix="tutorium-test-pg-") as folder:
        cluster = EmbeddedPostgres(Path(folder) / "data", durable=False)
        say("no PostgreSQL server: starting an embedded one (removed at the end)")
        url = cluster.start("tutorium_test")
        try:
            recreate_database(url, VARIABLE)
            yield url
        finally:
            cluster.stop()


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@contextmanager
def redis_for_tests(explicit: str | None, work_dir: Path) -> Iterator[str]:
    if explicit:
        if not _redis_answers(explicit):
            raise SystemExit(
                f"testdb: no Redis answers at TEST_REDIS_URL={explicit}. Start it, or unset "
                "TEST_REDIS_URL to use 127.0.0.1:6379 or else an embedded Valkey."
            )
        yield explicit
    elif _redis_answers(DEFAULT_TEST_REDIS_URL):
        yield DEFAULT_TEST_REDIS_URL
    else:
        say("no Redis on 127.0.0.1:6379: starting an embedded Valkey (removed at the end)")
        with embedded_redis(work_dir) as url:
            yield url


def migrate(url: URL) -> None:
    env = {**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False)}
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], check=True, env=env)


def main(pytest_args: list[str]) -> int:
    settings = DevSettings()
    with ExitStack() as stack:
        try:
            url = stack.enter_context(fresh_test_database(settings.test_database_url))
        except DatabaseUnavailable as unavailable:
            say(str(unavailable))
            return 2
        redis_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tutorium-")))
        redis_url = stack.enter_context(redis_for_tests(settings.test_redis_url, redis_dir))
        migrate(url)
        say(f"database {url.render_as_string(hide_password=True)}, Redis {redis_url}")
        env = {
            **os.environ,
            "TEST_DATABASE_URL": url.render_as_string(hide_password=False),
            "TEST_REDIS_URL": redis_url,
        }
        try:
            return subprocess.run(
                [sys.executable, "-m", "pytest", *pytest_args], env=env
            ).returncode
        except KeyboardInterrupt:
            return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
