"""`make run` as a real process: it says which database it uses, serves, and one Ctrl-C
(SIGINT to its process group, as a terminal sends it) or a SIGTERM or SIGHUP to it alone (a
process manager, `kill`, a closed terminal) stops everything it started."""

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.core.config import REPO_ROOT
from devtools.embedded import free_port
from devtools.testdb import DEFAULT_TEST_DATABASE_URL


def processes_in_group(group: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def wait_until_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "make run exited before serving"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"nothing served {url}")


def ctrl_c(pid: int) -> None:
    os.killpg(pid, signal.SIGINT)


def sigterm(pid: int) -> None:
    os.kill(pid, signal.SIGTERM)


def sighup(pid: int) -> None:
    os.kill(pid, signal.SIGHUP)


@pytest.mark.parametrize("stop", [ctrl_c, sigterm, sighup])
def test_one_stop_signal_stops_api_emulator_and_leaves_no_process(
    tmp_path: Path, stop: Callable[[int], None]
) -> None:
    server = make_url(os.environ.get("TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL)
    url = server.set(database=f"tutorium_run_{secrets.token_hex(4)}")
    api_port, emulator_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "API_PORT": str(api_port),
        "EMULATOR_PORT": str(emulator_port),
        "DAILY_API_KEY": "",
        "DEV_VAR_DIR": str(tmp_path / "var"),
    }
    log = tmp_path / "run.log"
    run: subprocess.Popen[bytes] | None = None
    try:
        with log.open("wb") as output:
            run = subprocess.Popen(
                [sys.executable, "-m", "devtools.run_dev"],
                cwd=REPO_ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until_serving(f"http://127.0.0.1:{api_port}/health", run)
        wait_until_serving(f"http://127.0.0.1:{emulator_port}/_emulator/docs", run)
        # run_dev says "API on" once it has seen the emulator's port open, a moment after
        # the emulator answers: a Ctrl-C before that tests an earlier moment than a user's.
        deadline = time.monotonic() + 30
        while "run_dev: API on" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        stop(run.pid)
        assert run.wait(timeout=60) == 0
        deadline = time.monotonic() + 10
        while processes_in_group(run.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert processes_in_group(run.pid) == []
        said = log.read_text()
        assert f"run_dev: database {url.render_as_string(hide_password=True)}\n" in said
        assert said.index("run_dev: API on") > said.index("Daily API emulator")
        # DEV_VAR_DIR holds the dev secrets and the emulator's rooms, not the checkout's var/.
        kept = {path.name for path in (tmp_path / "var").iterdir()}
        assert {"dev-daily-secrets.json", "daily-emulator-state.json"} <= kept
    finally:
        if run is not None:  # whatever a failed stop left behind must not outlive the test
            with contextlib.suppress(ProcessLookupError):
                os.killpg(run.pid, signal.SIGKILL)
        engine = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        engine.dispose()
