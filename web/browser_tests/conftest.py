"""Browser tests: the built web app, the API and the Daily emulator as real processes, driven
by Playwright in Debian's Chromium (Playwright's own browser download is not used).

One stack for the whole run (started on first use): the emulator and the API from the e2e
suite's `start_stack`, the app built with `@daily-co/daily-js` aliased to the emulator's
stand-in, and `vite preview` serving it with `/api` proxied to the API. Screenshots go to
`web/test-results/<run>/`, a folder named by the run's start time (printed at the end).

A second stack, started only by the tests that use it, is what a newcomer runs: `make run`
itself (devtools/run_dev.py: ENVIRONMENT=dev, no CORS_ORIGINS, the emulator beside the API)
and `make web`'s Vite dev server on a `http://localhost:<port>` origin, the app calling the API
across origins (VITE_API_BASE) instead of through Vite's proxy.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from sqlalchemy import Engine, create_engine

from app.core.config import REPO_ROOT
from devtools.run_dev import port_taken
from tests.conftest import make_settings, truncate_all
from tests.e2e.stack import (
    Server,
    Stack,
    _inherited_environment,
    free_port,
    start_stack,
)

WEB_DIR = REPO_ROOT / "web"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
RESULTS_DIR = WEB_DIR / "test-results"
VITE = WEB_DIR / "node_modules" / ".bin" / "vite"
# `make web`'s port; another free one when it is taken (a developer's own `make web`).
WEB_DEV_PORT = 5173
# Playwright's 5 s default is short on a shared 2-core machine; deadlines that are part of the
# behaviour (the roster's 2 s) are given explicitly where they are checked.
expect.set_options(timeout=15_000)


@dataclass
class WebStack:
    stack: Stack
    web_url: str
    shots: Path
    secret_key: str  # the API's, so a test can sign an expired access token itself

    def shot(self, page: Page, name: str) -> None:
        page.screenshot(path=self.shots / f"{name}.png", full_page=True)


def _build(emulator_url: str, out_dir: Path, log: Path) -> None:
    env = {**os.environ, "DAILY_JS_URL": f"{emulator_url}/_emulator/daily-js.mjs"}
    command = [str(VITE), "build", "--outDir", str(out_dir), "--emptyOutDir"]
    with log.open("wb") as out:
        done = subprocess.run(command, cwd=WEB_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        pytest.fail(f"vite build failed:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    engine = create_engine(make_settings().database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def shots() -> Iterator[Path]:
    """This run's screenshot folder."""
    folder = RESULTS_DIR / datetime.now(UTC).strftime("run-%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    print(f"\nscreenshots: {folder}")


@pytest.fixture(scope="session")
def web(
    tmp_path_factory: pytest.TempPathFactory, engine: Engine, shots: Path
) -> Iterator[WebStack]:
    workdir = tmp_path_factory.mktemp("web")
    truncate_all(engine)
    secret_key = secrets.token_urlsafe(48)
    stack = start_stack("self_signed", make_settings().database_url, workdir, secret_key=secret_key)
    preview: Server | None = None
    try:
        dist = workdir / "dist"
        _build(stack.emulator_url, dist, workdir / "build.log")
        port = free_port()
        preview = Server(
            "vite preview",
            [str(VITE), "preview", str(WEB_DIR), "--outDir", str(dist), "--port", str(port)],
            {**os.environ, "TUTORIUM_API_URL": stack.api_url, "DAILY_JS": "real"},
            workdir / "preview.log",
        )
        web_url = f"http://127.0.0.1:{port}"
        preview.wait_until_ready(web_url)
        yield WebStack(stack, web_url, shots, secret_key)
    finally:
        if preview is not None:
            preview.stop()
        stack.close()
        truncate_all(engine)


@dataclass
class DevRun:
    """`make run`'s API and emulator, as a newcomer gets them."""

    api_url: str
    emulator_url: str


@pytest.fixture(scope="session")
def dev_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevRun]:
    """`make run` (devtools/run_dev.py) on free ports, against the test database.

    Nothing configures the API but the database and the ports: the variables `make run`
    reads are given the values a machine without `.env` has (a developer's `.env` could
    otherwise set CORS_ORIGINS or a real Daily key and the tests would prove less).
    Stopped with SIGINT, as Ctrl-C stops `make run`, so it stops the API and the emulator.
    """
    api_port = free_port()
    emulator_port = free_port()
    env = {
        **_inherited_environment(),
        "DATABASE_URL": make_settings().database_url,
        "API_PORT": str(api_port),
        "EMULATOR_PORT": str(emulator_port),
        "ENVIRONMENT": "dev",
        "CORS_ORIGINS": "",
        "DAILY_API_KEY": "",
    }
    # Its own var/ (dev Daily secrets, emulator rooms): a developer's `make run` keeps theirs.
    env["DEV_VAR_DIR"] = str(tmp_path_factory.mktemp("make-run-var"))
    command = [sys.executable, "-m", "devtools.run_dev"]
    log = tmp_path_factory.mktemp("make-run") / "make-run.log"
    run = Server("make run", command, env, log, stop_signal=signal.SIGINT)
    api_url, emulator_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{emulator_port}"
    try:
        run.wait_until_ready(f"{api_url}/health/ready")
        run.wait_until_ready(f"{emulator_url}/_emulator")
        yield DevRun(api_url, emulator_url)
    finally:
        run.stop()


@pytest.fixture(scope="session")
def dev_web_url(dev_run: DevRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`make web`'s Vite dev server, on http://localhost:5173 unless that port is taken.

    The page's origin is `localhost`, the API's `127.0.0.1`: cross-origin, as a frontend
    team's own dev server is. VITE_API_BASE sends the app's calls straight to the API; the
    proxy `make web` sets up stays as it is, and the tests check nothing went through it.
    """
    port = WEB_DEV_PORT if not port_taken("127.0.0.1", WEB_DEV_PORT) else free_port()
    env = {
        **os.environ,
        "TUTORIUM_API_URL": dev_run.api_url,
        "DAILY_EMULATOR_URL": dev_run.emulator_url,
        "VITE_API_BASE": dev_run.api_url,
    }
    command = [str(VITE), str(WEB_DIR), "--port", str(port)]
    log = tmp_path_factory.mktemp("make-web") / "vite-dev.log"
    vite = Server("make web (vite dev)", command, env, log)
    try:
        vite.wait_until_ready(f"http://127.0.0.1:{port}/")
        yield f"http://localhost:{port}"
    finally:
        vite.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM)
    yield browser
    browser.close()
