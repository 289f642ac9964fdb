"""PostgreSQL and Redis servers of a test's own, for tests that stop and start them.

The shared servers on the usual ports serve every other test (and other people's work on the
same machine): an outage test never touches them. Each server here lives in a temporary
folder, on a free port, and is stopped when the test is done.

`start_postgres` takes the directory of the PostgreSQL binaries (`initdb`, `pg_ctl`), so the
same tests run on the system's PostgreSQL or on an embedded copy of it. PostgreSQL refuses to
run as root: as root, the cluster is made and run by the `postgres` account, in a folder of
its own under the system's temporary directory (pytest's folders are root's alone).
"""

from __future__ import annotations

import ipaddress
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis

SYSTEM_POSTGRES_BIN = Path(os.environ.get("POSTGRES_BIN_DIR", "/usr/lib/postgresql/15/bin"))
START_TIMEOUT_S = 30


def _as_postgres_user() -> list[str]:
    """The prefix that runs a command as `postgres` when we are root; none otherwise."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


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
                *_as_postgres_user(),
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
            [
                *_as_postgres_user(),
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            timeout=START_TIMEOUT_S,
        )
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_postgres(bin_dir: Path, port: int, host: str = "127.0.0.1") -> OwnPostgres:
    """A fresh cluster (trust auth, user postgres), started; small, fsync off: it is thrown
    away (`close()` removes it). It listens on the loopback and, if given, `host` too (trusted
    from that address's /24: the scale test's API hosts reach it there)."""
    workdir = Path(tempfile.mkdtemp(prefix="tutorium-own-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(workdir, account.pw_uid, account.pw_gid)
    data_dir = workdir / "pgdata"
    subprocess.run(  # noqa: S603
        [
            *_as_postgres_user(),
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
    )
    with (data_dir / "postgresql.conf").open("a") as conf:  # root may write it: no chown needed
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
                    shutil.which("redis-server") or "redis-server",
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
