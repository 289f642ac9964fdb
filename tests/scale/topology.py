"""A school district's deployment on one machine: two API hosts behind HAProxy and PgBouncer.

Three network namespaces of the test's own, removed at the end: `infra` holds a bridge with
the balancer's address (10.199.18.1) and runs HAProxy, PgBouncer, a PostgreSQL cluster and a
Redis of the test's own (never the shared servers) and the Daily emulator; `a` and `b` are
the API hosts (10.199.18.11, .12), each `uvicorn --workers 2` with `deploy/uvicorn.env`,
joined to the bridge by a veth pair. The test's own thread enters `infra` (setns), so its
clients reach the balancer as a browser would reach it; clients may also take the extra
addresses .50 and .51, to be told apart by the rate limits. No address outside these
namespaces is used.

The balancer and PgBouncer run with `deploy/haproxy.cfg` and `deploy/pgbouncer.ini`: the
first as it is (its addresses are environment variables), the second with only its SITE
lines (addresses, paths, the database) replaced.
"""

from __future__ import annotations

import configparser
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from app.core.config import REPO_ROOT
from tests.e2e.stack import Server, _inherited_environment, api_command, api_environment

NET = "10.199.18"
BALANCER_IP = f"{NET}.1"
HOST_IPS = {"a": f"{NET}.11", "b": f"{NET}.12"}
CLIENT_IPS = (f"{NET}.50", f"{NET}.51")
API_PORT = 8000
LB_PORT = 8080
PGBOUNCER_PORT = 6432
DEPLOY = REPO_ROOT / "deploy"
CLONE_NEWNET = 0x40000000
READY_TIMEOUT_S = 30.0


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)  # noqa: S603, S607


def _setns(path: str) -> None:
    """Move the calling thread (and what it starts later) into the network namespace at path."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {path}")
    finally:
        os.close(fd)


@dataclass
class Namespaces:
    tag: str = field(default_factory=lambda: str(os.getpid()))

    def name(self, role: str) -> str:
        return f"tutorium-{self.tag}-{role}"

    def create(self) -> None:
        infra = self.name("infra")
        _ip("netns", "add", infra)
        _ip("-n", infra, "link", "set", "lo", "up")
        _ip("-n", infra, "link", "add", "br0", "type", "bridge")
        for address in (BALANCER_IP, *CLIENT_IPS):
            _ip("-n", infra, "addr", "add", f"{address}/24", "dev", "br0")
        _ip("-n", infra, "link", "set", "br0", "up")
        for host, address in HOST_IPS.items():
            ns = self.name(host)
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", infra, "link", "add", f"v{host}", "type", "veth", "peer", "eth0", "netns", ns)
            _ip("-n", infra, "link", "set", f"v{host}", "master", "br0", "up")
            _ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")

    def remove(self) -> None:
        for role in ("a", "b", "infra"):
            subprocess.run(  # noqa: S603
                ["ip", "netns", "del", self.name(role)],  # noqa: S607
                capture_output=True,
                timeout=30,
            )

    @contextmanager
    def inside_infra(self) -> Iterator[None]:
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            _setns(f"/run/netns/{self.name('infra')}")
            try:
                yield
            finally:
                if ctypes.CDLL(None, use_errno=True).setns(own, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(own)


def postgres_owned_dir(prefix: str) -> Path:
    """A temporary folder the `postgres` account owns: PgBouncer drops root to it."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    account = pwd.getpwnam("postgres")
    os.chown(path, account.pw_uid, account.pw_gid)
    return path


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as systemd's EnvironmentFile= reads them (comments and blanks skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def start_pgbouncer(workdir: Path, postgres_port: int) -> subprocess.Popen[bytes]:
    """PgBouncer with deploy/pgbouncer.ini, its SITE lines pointed at this test's servers."""
    config = configparser.ConfigParser(interpolation=None, comment_prefixes=(";", "#"))
    config.read(DEPLOY / "pgbouncer.ini")
    config["databases"] = {
        "tutorium": f"host=127.0.0.1 port={postgres_port} dbname=postgres user=postgres"
    }
    config["pgbouncer"].update(
        listen_addr=BALANCER_IP,
        listen_port=str(PGBOUNCER_PORT),
        auth_file=str(workdir / "userlist.txt"),
        logfile=str(workdir / "pgbouncer.log"),
        pidfile=str(workdir / "pgbouncer.pid"),
        unix_socket_dir=str(workdir),
        admin_users="postgres",
    )
    (workdir / "userlist.txt").write_text('"postgres" ""\n')
    with (workdir / "pgbouncer.ini").open("w") as out:
        config.write(out)
    for name in ("userlist.txt", "pgbouncer.ini"):
        shutil.chown(workdir / name, "postgres", "postgres")
    process = subprocess.Popen(  # noqa: S603
        [_binary("pgbouncer"), "-u", "postgres", str(workdir / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    _wait_for_port(BALANCER_IP, PGBOUNCER_PORT, process, workdir / "pgbouncer.log")
    return process


def haproxy_env(workdir: Path) -> dict[str, str]:
    return {
        **_inherited_environment(),
        "LB_BIND": f"{BALANCER_IP}:{LB_PORT}",
        "API_HOST_A": f"{HOST_IPS['a']}:{API_PORT}",
        "API_HOST_B": f"{HOST_IPS['b']}:{API_PORT}",
        "LB_STATS_SOCKET": str(workdir / "haproxy.sock"),
    }


def start_haproxy(workdir: Path) -> Server:
    config = DEPLOY / "haproxy.cfg"
    env = haproxy_env(workdir)
    subprocess.run(  # noqa: S603
        [_binary("haproxy"), "-c", "-q", "-f", str(config)], env=env, check=True, timeout=30
    )
    command = [_binary("haproxy"), "-db", "-f", str(config)]
    balancer = Server("HAProxy", command, env, workdir / "lb.log")
    _wait_for_port(BALANCER_IP, LB_PORT, balancer.process, balancer.log)
    while not (workdir / "haproxy.sock").exists():
        time.sleep(0.05)
    return balancer


def haproxy_command(workdir: Path, command: str) -> str:
    """One command on HAProxy's runtime socket (`set server api_hosts/api-a state drain`)."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(workdir / "haproxy.sock"))
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


class ApiHost:
    """One API host: `uvicorn --workers 2` (deploy/uvicorn.env) in its own namespace."""

    def __init__(
        self, name: str, namespace: str, env: dict[str, str], workdir: Path, port: int = API_PORT
    ) -> None:
        self.name, self.namespace, self.workdir, self.port = name, namespace, workdir, port
        self.address = HOST_IPS[name]
        self.url = f"http://{self.address}:{port}"
        self.env = {**env, **read_env_file(DEPLOY / "uvicorn.env")}
        self.env["FORWARDED_ALLOW_IPS"] = BALANCER_IP
        self.server: Server | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        label = f"{self.name}-{self.port}-{self.starts}"
        metrics = self.workdir / f"metrics-{label}"
        metrics.mkdir()
        self.server = Server(
            f"API host {self.name}",
            ["ip", "netns", "exec", self.namespace, *api_command(self.port, self.address)],
            {**self.env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)},
            self.workdir / f"api-{label}.log",
        )
        self.server.wait_until_ready(f"{self.url}/health/ready")

    def pids(self) -> list[int]:
        """The uvicorn master (`ip netns exec` became it) and every process under it."""
        assert self.server is not None
        found, queue = [], [self.server.process.pid]
        while queue:
            pid = queue.pop()
            found.append(pid)
            with suppress(FileNotFoundError):
                queue += [
                    int(child)
                    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
                ]
        return found

    def kill(self) -> None:
        """SIGKILL of every process of the host at once, as a machine dying would do."""
        for pid in self.pids():
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        assert self.server is not None
        self.server.process.wait(10)

    def stop(self) -> None:
        """SIGTERM: uvicorn's graceful shutdown (deploy/uvicorn.env's timeout)."""
        if self.server is not None:
            self.server.stop()


def api_host_environment(
    *,
    database_url: str,
    listen_url: str,
    redis_url: str,
    emulator_url: str,
    api_key: str,
    webhook_secret: str,
    secret_key: str,
) -> dict[str, str]:
    return {
        **_inherited_environment(),
        **api_environment(
            environment="test",
            database_url=database_url,
            database_listen_url=listen_url,
            database_pool_size=4,
            database_max_overflow=0,
            database_pool_timeout_seconds=5.0,
            secret_key=secret_key,
            daily_api_key=api_key,
            daily_api_url=f"{emulator_url}/v1",
            daily_webhook_secret=webhook_secret,
            public_base_url=f"http://{BALANCER_IP}:{LB_PORT}",  # where Daily's webhooks go
            rate_limit_enabled=True,
            rate_limit_storage_url=redis_url,
            feed_heartbeat_seconds=2.0,
            log_level="WARNING",
        ),
    }


def _binary(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def _wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text()[-3000:] if log.exists() else ""
            raise RuntimeError(f"exited with {process.returncode}: {tail}")
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port} after {READY_TIMEOUT_S} s")


def _server_rows(workdir: Path) -> dict[str, dict[str, str]]:
    """HAProxy's `show stat` CSV: the API hosts' rows, by server name."""
    lines = haproxy_command(workdir, "show stat").lstrip("# ").splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
    return {
        row["svname"]: row
        for row in rows
        if row.get("pxname") == "api_hosts" and row["svname"] not in ("FRONTEND", "BACKEND")
    }


def servers_up(workdir: Path) -> set[str]:
    """The API hosts HAProxy counts as up now."""
    return {name for name, row in _server_rows(workdir).items() if row["status"].startswith("UP")}


def drain(workdir: Path, server: str, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Send the host no new request, and wait until it has none in flight."""
    haproxy_command(workdir, f"set server api_hosts/{server} state drain")
    deadline = time.monotonic() + timeout_s
    while int(_server_rows(workdir)[server]["scur"] or 0) > 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server} still busy after {timeout_s} s")
        time.sleep(0.05)


def make_ready(workdir: Path, server: str) -> None:
    haproxy_command(workdir, f"set server api_hosts/{server} state ready")


def wait_for_servers(
    workdir: Path, expected: set[str], timeout_s: float = READY_TIMEOUT_S
) -> float:
    """Seconds until exactly `expected` are up in HAProxy's view."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if servers_up(workdir) == expected:
            return time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError(f"HAProxy has {servers_up(workdir)} up, not {expected}, after {timeout_s} s")
