"""`make run`: a database, migrations, the API — and the local Daily emulator when no key is set.

Which database, in this order: DATABASE_URL (environment or `.env`); else the local server on
127.0.0.1:5432 as user `postgres` (database `tutorium`, created when missing); else an embedded
PostgreSQL whose data lives in `var/postgres/` between runs (devtools/embedded.py). The URL in
use is printed at start, without its password.

With no DAILY_API_KEY (an empty one counts as none) a newcomer still gets a working product:
the emulator starts beside the API and the API points at it. The dev key and webhook secret are
generated once and kept in `var/` (git-ignored; DEV_VAR_DIR moves it), and the emulator keeps its
state there too, so a second `make run` still opens the rooms of the first.

The ports are checked before anything starts, so a second `make run` says which port is taken
and exits non-zero; the emulator starts only once the API listens. One Ctrl-C stops the API,
the emulator and the embedded database, and leaves no process behind.
"""

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from app.core.config import get_settings
from devtools.database import LOCAL_SERVER_URL, DatabaseUnavailable, check, ensure_database
from devtools.devsettings import DevSettings
from devtools.embedded import EmbeddedPostgres
from devtools.stop_signals import unwind_on

DEV_SECRETS_FILE = "dev-daily-secrets.json"
EMULATOR_STATE_FILE = "daily-emulator-state.json"
EMBEDDED_DATA_DIR = "postgres"
VARIABLE = "DATABASE_URL"


def say(message: str) -> None:
    print(f"run_dev: {message}", file=sys.stderr, flush=True)


def _dev_secrets(var_dir: Path) -> dict[str, str]:
    secrets_file = var_dir / DEV_SECRETS_FILE
    if secrets_file.exists():
        stored: dict[str, str] = json.loads(secrets_file.read_text())
        return stored
    values = {
        "api_key": secrets.token_hex(32),
        "webhook_secret": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    secrets_file.write_text(json.dumps(values))
    secrets_file.chmod(0o600)
    return values


def port_taken(host: str, port: int) -> bool:
    """Bind as uvicorn does (SO_REUSEADDR): fails only if something already listens there."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _wait_for_port(name: str, host: str, port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"run_dev: the {name} exited with code {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"run_dev: the {name} did not answer on {host}:{port} within 30 s")


def choose_database(processes: list[EmbeddedPostgres], var_dir: Path) -> URL:
    """The database `make run` uses (order in the module docstring); created when missing."""
    settings = get_settings()
    if "database_url" in settings.model_fields_set:
        url = make_url(settings.database_url)
        ensure_database(url, VARIABLE)
        return url
    try:
        check(make_url(LOCAL_SERVER_URL), VARIABLE)
    except DatabaseUnavailable as unavailable:
        say(f"not using 127.0.0.1:5432 ({unavailable.problem}): embedded PostgreSQL in {var_dir}")
    else:
        url = make_url(LOCAL_SERVER_URL).set(database="tutorium")
        ensure_database(url, VARIABLE)
        return url
    cluster = EmbeddedPostgres(var_dir / EMBEDDED_DATA_DIR, durable=True)
    processes.append(cluster)
    url = cluster.start("tutorium")
    ensure_database(url, VARIABLE)
    return url


def _emulator_command(emulator_port: int, webhook_url: str, var_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "devtools.daily_emulator",
        "--host",
        "127.0.0.1",
        "--port",
        str(emulator_port),
        "--webhook-url",
        webhook_url,
        "--state-file",
        str(var_dir / EMULATOR_STATE_FILE),
    ]


def _stop(processes: list[subprocess.Popen[bytes]], clusters: list[EmbeddedPostgres]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for cluster in clusters:
        cluster.stop()


def serve(dev: DevSettings) -> int:
    # Without this the API, the emulator and an embedded PostgreSQL outlived a `kill` of
    # this process alone, and held their ports.
    unwind_on(signal.SIGTERM, signal.SIGHUP)
    use_emulator = get_settings().daily_api_key is None
    ports = [("API_PORT", dev.api_host, dev.api_port)]
    if use_emulator:
        ports.append(("EMULATOR_PORT", "127.0.0.1", dev.emulator_port))
    for variable, host, port in ports:
        if port_taken(host, port):
            say(
                f"port {port} on {host} is in use (another `make run`?). Stop that, or pick "
                f"another port: {variable}=... in the environment or .env, or "
                f"`make run {variable}=...`."
            )
            return 1
    dev.dev_var_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    processes: list[subprocess.Popen[bytes]] = []
    clusters: list[EmbeddedPostgres] = []
    try:
        try:
            url = choose_database(clusters, dev.dev_var_dir)
        except DatabaseUnavailable as unavailable:
            say(str(unavailable))
            return 2
        say(f"database {url.render_as_string(hide_password=True)}")
        env["DATABASE_URL"] = url.render_as_string(hide_password=False)
        subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], check=True, env=env)
        if use_emulator:
            dev_secrets = _dev_secrets(dev.dev_var_dir)
            env["DAILY_API_KEY"] = dev_secrets["api_key"]
            env["DAILY_WEBHOOK_SECRET"] = dev_secrets["webhook_secret"]
            env["DAILY_API_URL"] = f"http://127.0.0.1:{dev.emulator_port}/v1"
        else:
            say("DAILY_API_KEY is set; using the real Daily API (no emulator).")
        api_command = [sys.executable, "-m", "uvicorn", "app.main:app"]
        api_command += ["--host", dev.api_host, "--port", str(dev.api_port)]
        # An open feed (`curl -N …/feed`) would otherwise hold Ctrl-C until it hung up.
        api_command += ["--timeout-graceful-shutdown", "3"]
        api = subprocess.Popen(api_command, env=env)
        processes.append(api)
        _wait_for_port("API", dev.api_host, dev.api_port, api)
        if use_emulator:
            webhook_url = f"http://{dev.api_host}:{dev.api_port}/api/v1/webhooks/daily"
            # Secrets go through the environment, not argv, so `ps` does not show them.
            emulator_env = {
                **env,
                "DAILY_EMULATOR_API_KEY": env["DAILY_API_KEY"],
                "DAILY_EMULATOR_WEBHOOK_SECRET": env["DAILY_WEBHOOK_SECRET"],
            }
            emulator = subprocess.Popen(
                _emulator_command(dev.emulator_port, webhook_url, dev.dev_var_dir),
                env=emulator_env,
            )
            processes.append(emulator)
            _wait_for_port("emulator", "127.0.0.1", dev.emulator_port, emulator)
        base = f"http://{dev.api_host}:{dev.api_port}"
        say(f"API on {base} — Swagger UI at {base}/docs. Ctrl-C stops everything.")
        return api.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(processes, clusters)


def main() -> None:
    sys.exit(serve(DevSettings()))


if __name__ == "__main__":
    main()
