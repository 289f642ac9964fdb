"""Subprocesses for the benchmarks: the Daily emulator and uvicorn, on free loopback ports,
and the environment the API runs with.

Each one runs in its own process group, so stopping it also stops the workers uvicorn forked,
and `ProcessGroup` stops everything it started when the bench ends, fails or is interrupted.
"""

import argparse
import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from devtools.stop_signals import unwind_on

HOST = "127.0.0.1"
DEFAULT_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/tutorium_bench"


def add_run_arguments(
    parser: argparse.ArgumentParser, *, pool_size: int | None, max_overflow: int | None
) -> None:
    """The options every bench shares: the servers, their pool, wrk, where things go."""
    app_default = "default: %(default)s, None: the app's default"
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument(
        "--pool-size", type=int, default=pool_size, help=f"DATABASE_POOL_SIZE ({app_default})"
    )
    parser.add_argument(
        "--max-overflow",
        type=int,
        default=max_overflow,
        help=f"DATABASE_MAX_OVERFLOW ({app_default})",
    )
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL,
        help="recreated by the bench (BENCH_DATABASE_URL)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--no-check", action="store_true", help="exit 0 even if targets miss")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Service:
    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.command, self.env, self.log = name, command, env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "Service":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def wait_http(self, url: str, *, timeout: float = 60.0, hits: int = 1) -> None:
        """Until `url` has answered 200 `hits` times in a row (one per worker is a fair guess
        that every worker is up: uvicorn's workers share the listening socket)."""
        deadline = time.monotonic() + timeout
        ok = 0
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                code = self.process.returncode
                sys.exit(f"bench: {self.name} exited with {code}; see {self.log}")
            try:
                ok = ok + 1 if httpx.get(url, timeout=2.0).status_code == 200 else 0
            except httpx.TransportError:
                ok = 0
            if ok >= hits:
                return
            time.sleep(0.1)
        sys.exit(f"bench: {self.name} did not answer {url} within {timeout:.0f} s; see {self.log}")

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """utime + stime; with `reaped_children`, plus cutime + cstime: the CPU of children that
    exited and were waited for."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(field) for field in fields[11 : 15 if reaped_children else 13])
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and its descendants (uvicorn's workers)."""
    return _cpu_seconds(pid) + sum(tree_cpu_seconds(child) for child in _children(pid))


def cluster_cpu_seconds(postmaster_pid: int) -> float:
    """CPU time of one PostgreSQL cluster so far: its postmaster with the backends it reaped,
    and every live process under it."""
    return _cpu_seconds(postmaster_pid, reaped_children=True) + sum(
        tree_cpu_seconds(child) for child in _children(postmaster_pid)
    )


def postgres_cpu_snapshot() -> dict[int, float]:
    """CPU time of each PostgreSQL process by pid (other users' backends too), with the CPU of
    the children it reaped: a backend that exits has its time added to the postmaster's."""
    snapshot = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    snapshot[int(entry.name)] = _cpu_seconds(int(entry.name), reaped_children=True)
            except OSError:
                continue
    return snapshot


def postgres_cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU PostgreSQL spent between two snapshots, backends that came and went included: what
    one that exited had used is gone from its own entry and found in the postmaster's reaped
    children's time. On a shared server other databases' work counts too."""
    return sum(after.values()) - sum(before.values())


@dataclass(frozen=True)
class ApiSecrets:
    """Fresh for every bench run: the API's signing key and the Daily credentials it shares
    with the emulator."""

    secret_key: str
    daily_api_key: str
    daily_webhook_secret: str

    @classmethod
    def generate(cls) -> "ApiSecrets":
        return cls(
            secret_key=secrets.token_urlsafe(48),
            daily_api_key=secrets.token_hex(32),
            daily_webhook_secret=base64.b64encode(secrets.token_bytes(32)).decode(),
        )


def api_env(
    database_url: str,
    daily_api_url: str,
    api_secrets: ApiSecrets,
    *,
    pool_size: int | None,
    max_overflow: int | None,
) -> dict[str, str]:
    """The API's environment: production settings, rate limits off (every request comes from
    one address), the app's pool defaults unless given."""
    env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": api_secrets.secret_key,
        "DAILY_API_URL": daily_api_url,
        "DAILY_API_KEY": api_secrets.daily_api_key,
        "DAILY_WEBHOOK_SECRET": api_secrets.daily_webhook_secret,
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
    }
    if pool_size is not None:
        env["DATABASE_POOL_SIZE"] = str(pool_size)
    if max_overflow is not None:
        env["DATABASE_MAX_OVERFLOW"] = str(max_overflow)
    return env


class ProcessGroup:
    """Stops, newest first, every service started through it."""

    def __init__(self) -> None:
        self.services: list[Service] = []

    def start(self, service: Service) -> Service:
        self.services.append(service)
        return service.start()

    def stop(self, service: Service) -> None:
        service.stop()
        self.services.remove(service)

    def __enter__(self) -> "ProcessGroup":
        # SIGTERM (make killed, CI cancelled) unwinds like Ctrl-C, so `finally` still runs.
        unwind_on(signal.SIGTERM)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for service in reversed(self.services):
            service.stop()
        self.services.clear()


def start_uvicorn(
    group: ProcessGroup, name: str, app: str, env: dict[str, str], *, workers: int, log_dir: Path
) -> tuple[Service, str]:
    """`app` under uvicorn on a free port, once every worker answers; the service and its URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port),
        "--workers", str(workers),
    ]  # fmt: skip
    service = group.start(Service(name, command, env, log_dir / f"{name}.log"))
    url = f"http://{HOST}:{port}"
    service.wait_http(f"{url}/health", hits=2 * workers)
    return service, url
