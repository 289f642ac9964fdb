"""The Daily emulator and the API as real processes on free loopback ports, and what tests
need to drive them: HTTP clients, the emulator's controls, the API's log.

The API gets every setting through its environment, so nothing else (a developer's `.env`,
the caller's shell) can change what the tests run against.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from app.core.config import REPO_ROOT, Settings

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# Small on purpose: the slow-Daily test waits for the whole retry budget to run out.
RETRY_BUDGET_S = 3.0
READ_TIMEOUT_S = 1.0
CONNECT_TIMEOUT_S = 1.0
MAX_ATTEMPTS = 3
LOG_TAIL_CHARS = 6000


def free_port() -> int:
    """A port nobody listens on now (the kernel's pick for port 0); races are unlikely on lo."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _env_value(value: Any) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def api_environment(**values: Any) -> dict[str, str]:
    """Every setting as an environment variable, ours or the default.

    pydantic-settings prefers the environment to `.env`, so a developer's leftover `.env` can
    change nothing here. None cannot be spelled as an environment variable, so every setting
    must end up with a value.
    """
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    env: dict[str, str] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is None:
            raise AssertionError(f"e2e: give {name} a value, or a .env file could set it")
        env[name.upper()] = _env_value(value)
    return env


def _inherited_environment() -> dict[str, str]:
    """The parent's environment minus anything that could configure the API or the emulator."""
    settings_names = {name.upper() for name in Settings.model_fields}
    inherited = {
        key: value
        for key, value in os.environ.items()
        if key.upper() not in settings_names and not key.startswith("DAILY_EMULATOR_")
    }
    return {**inherited, "PYTHONUNBUFFERED": "1"}  # logs reach the file as they happen


def emulator_command(port: int, host: str = "127.0.0.1") -> list[str]:
    return [
        sys.executable,
        "-m",
        "devtools.daily_emulator",
        "--host",
        host,
        "--port",
        str(port),
    ]


def api_command(port: int, host: str = "127.0.0.1") -> list[str]:
    """uvicorn serving the API on the loopback (or `host`); add options (`--workers`) after it."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:app",
        "--host",
        host,
        "--port",
        str(port),
    ]


class Server:
    """One child process, its output in a log file (a pipe nobody reads would fill and block)."""

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        log: Path,
        stop_signal: signal.Signals = signal.SIGTERM,  # uvicorn shuts down gracefully on TERM
    ) -> None:
        self.name, self.log, self.stop_signal = name, log, stop_signal
        with log.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 (our own fixed command)
                command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def wait_until_ready(self, url: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        pytest.fail(f"{self.name} was not ready at {url} in {STARTUP_TIMEOUT_S} s:\n{self.tail()}")

    def tail(self, start: int = 0) -> str:
        text = self.log.read_bytes()[start:].decode("utf-8", errors="replace")
        return text[-LOG_TAIL_CHARS:]

    def log_size(self) -> int:
        return self.log.stat().st_size

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Stack:
    """A running emulator + API pair and an HTTP client for each.

    Tests never call the emulator's `/v1` themselves, so its request log is the API's alone.
    """

    token_mode: str
    api_url: str
    emulator_url: str
    api_key: str
    webhook_secret: str
    api_server: Server
    emulator_server: Server
    api_env: dict[str, str] = field(repr=False)
    api: httpx.Client = field(init=False)
    emulator: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.api = httpx.Client(
            base_url=self.api_url, timeout=15.0, event_hooks={"response": [self._no_secrets]}
        )
        self.emulator = httpx.Client(base_url=self.emulator_url, timeout=15.0)

    def _no_secrets(self, response: httpx.Response) -> None:
        """Every API answer is checked: neither the Daily key nor the webhook secret may show."""
        body = response.read()
        for secret in (self.api_key, self.webhook_secret):
            if secret.encode() in body or any(secret in v for v in response.headers.values()):
                raise AssertionError(f"{response.request.method} {response.request.url} leaks it")

    def flush_webhooks(self) -> list[dict[str, Any]]:
        """Wait until every queued webhook reached the API; returns the delivery log."""
        flushed = self.emulator.post("/_emulator/webhooks/flush", params={"timeout": 20})
        assert flushed.json() == {"idle": True, "pending": 0}, flushed.text
        return self.emulator.get("/_emulator/webhooks").json()["data"]

    def daily_requests(self) -> list[dict[str, Any]]:
        """What the API sent to (emulated) Daily, oldest first."""
        return self.emulator.get("/_emulator/requests").json()["data"]

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        response = self.emulator.post("/_emulator/faults", json=spec)
        assert response.status_code == 200, response.text
        return response.json()

    def set_clock(self, **change: float) -> float:
        """`offset_s=` or `advance_s=`; returns the emulator's now (Unix seconds)."""
        response = self.emulator.post("/_emulator/clock", json=change)
        assert response.status_code == 200, response.text
        return response.json()["now"]

    def room_exists(self, room_name: str) -> bool:
        """Asked through the room page, so the request log stays the API's: a private room
        refuses a visitor without a token (403), a missing one is 404."""
        status = self.emulator.get(f"/{room_name}").status_code
        assert status in (403, 404), status
        return status == 403

    def clean_up(self) -> None:
        self.flush_webhooks()
        assert self.emulator.post("/_emulator/reset").status_code == 200

    def close(self) -> None:
        for client in (self.api, self.emulator):
            client.close()
        self.api_server.stop()
        self.emulator_server.stop()


def start_stack(
    token_mode: str, database_url: str, workdir: Path, *, secret_key: str | None = None
) -> Stack:
    """`secret_key` for a caller that must sign tokens itself (the TS client's expiry test)."""
    api_port = emulator_port = free_port()
    while emulator_port == api_port:
        emulator_port = free_port()
    api_url, emulator_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{emulator_port}"
    api_key = secrets.token_hex(24)
    webhook_secret = base64.b64encode(secrets.token_bytes(32)).decode()
    inherited = _inherited_environment()
    emulator_env = {
        **inherited,
        "DAILY_EMULATOR_API_KEY": api_key,  # secrets via the environment, not argv
        "DAILY_EMULATOR_WEBHOOK_SECRET": webhook_secret,
    }
    api_env = {
        **inherited,
        **api_environment(
            environment="test",
            database_url=database_url,
            secret_key=secret_key or secrets.token_urlsafe(48),
            daily_api_key=api_key,
            daily_api_url=f"{emulator_url}/v1",
            daily_webhook_secret=webhook_secret,
            public_base_url=api_url,
            daily_token_mode=token_mode,
            daily_max_attempts=MAX_ATTEMPTS,
            daily_retry_budget_seconds=RETRY_BUDGET_S,
            daily_connect_timeout_seconds=CONNECT_TIMEOUT_S,
            daily_read_timeout_seconds=READ_TIMEOUT_S,
            rate_limit_enabled=False,
            database_pool_size=5,
            database_max_overflow=5,
            log_level="INFO",
        ),
    }
    emulator_server = Server(
        f"Daily emulator ({token_mode})",
        [*emulator_command(emulator_port), "--webhook-url", f"{api_url}/api/v1/webhooks/daily"],
        emulator_env,
        workdir / f"emulator-{token_mode}.log",
    )
    api_server: Server | None = None
    try:
        api_server = Server(
            f"API ({token_mode})",
            api_command(api_port),
            api_env,
            workdir / f"api-{token_mode}.log",
        )
        emulator_server.wait_until_ready(f"{emulator_url}/_emulator")
        api_server.wait_until_ready(f"{api_url}/health/ready")
    except BaseException:
        if api_server is not None:
            api_server.stop()
        emulator_server.stop()
        raise
    return Stack(
        token_mode=token_mode,
        api_url=api_url,
        emulator_url=emulator_url,
        api_key=api_key,
        webhook_secret=webhook_secret,
        api_server=api_server,
        emulator_server=emulator_server,
        api_env=api_env,
    )


def start_api(env: dict[str, str], log: Path, **overrides: str) -> tuple[Server, str]:
    """Another API process beside a stack's (same database, emulator and secret key): a
    second worker, or a second machine. Returns it, ready, and its base URL."""
    port = free_port()
    server = Server(
        f"API on port {port}",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        {**env, **overrides},
        log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        server.wait_until_ready(f"{url}/health/ready")
    except BaseException:
        server.stop()
        raise
    return server, url


class StackPool:
    """Starts a stack per token mode when first asked for it; closes them all at the end."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.database_url, self.workdir = database_url, workdir
        self._stacks: dict[str, Stack] = {}

    def get(self, token_mode: str) -> Stack:
        if token_mode not in self._stacks:
            self._stacks[token_mode] = start_stack(token_mode, self.database_url, self.workdir)
        return self._stacks[token_mode]

    def close(self) -> None:
        for stack in self._stacks.values():
            stack.close()
