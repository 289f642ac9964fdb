"""The API suite's join and webhook tests, pointed at PgBouncer in transaction mode.

They are the tests that send every statement a join and a webhook send: with PgBouncer
handing each transaction to whichever server connection is free, a statement that relied
on session state (a prepared statement, a SET, an advisory lock) would fail or misbehave
here. The concurrency tests commit on real connections of their own, many at once.
"""

from __future__ import annotations

import subprocess
import sys

from app.core.config import REPO_ROOT
from tests.conftest import truncate_all
from tests.e2e.stack import _inherited_environment
from tests.scale.district import District
from tests.scale.topology import BALANCER_IP, PGBOUNCER_PORT

THROUGH_PGBOUNCER = [
    "tests/api/test_joins.py",
    "tests/api/test_webhooks.py",
    "tests/concurrency/test_seat_lock.py",
    "tests/concurrency/test_join_storm.py",
]


def test_join_and_webhook_tests_pass_through_transaction_pooling(district: District) -> None:
    truncate_all(district.engine)  # the suite counts rows from an empty database
    env = {
        **_inherited_environment(),
        "TEST_DATABASE_URL": f"postgresql+psycopg2://postgres@{BALANCER_IP}:{PGBOUNCER_PORT}/tutorium",
        "TEST_REDIS_URL": district.redis.url,
    }
    run = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *THROUGH_PGBOUNCER],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert " passed" in run.stdout.splitlines()[-1]
