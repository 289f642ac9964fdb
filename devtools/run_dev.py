"""`make run`: migrate, then serve the API — with the local Daily emulator when no key is set.

With no DAILY_API_KEY (environment or `.env`) a newcomer still gets a working
product: the emulator starts beside the API and the API points at it. The dev
key and webhook secret are generated once and kept in `var/` (git-ignored), and
the emulator keeps its state in `var/` too, so a second `make run` still opens the
rooms of the first. The database is the local PostgreSQL's `tutorium` (DATABASE_URL to
change it), created when missing and kept between runs. One Ctrl-C stops both processes.
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

from sqlalchemy.engine import make_url

from app.core.config import REPO_ROOT, get_settings
from devtools.testdb import ensure_database

VAR_DIR = REPO_ROOT / "var"
DEV_SECRETS_FILE = VAR_DIR / "dev-daily-secrets.json"


def _dev_secrets() -> dict[str, str]:
    if DEV_SECRETS_FILE.exists():
        return json.loads(DEV_SECRETS_FILE.read_text())
    values = {
        "api_key": secrets.token_hex(32),
        "webhook_secret": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    DEV_SECRETS_FILE.write_text(json.dumps(values))
    DEV_SECRETS_FILE.chmod(0o600)
    return values


EMULATOR_STATE_FILE = VAR_DIR / "daily-emulator-state.json"


def _wait_for_port(host: str, port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(100):
        if process.poll() is not None:
            sys.exit(f"run_dev: the process on port {port} exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    sys.exit(f"run_dev: nothing answered on {host}:{port}")


def _start_emulator(env: dict[str, str], host: str, api_port: int) -> subprocess.Popen[bytes]:
    emulator_port = int(env.get("EMULATOR_PORT", "8787"))
    dev = _dev_secrets()
    env["DAILY_API_KEY"] = dev["api_key"]
    env["DAILY_WEBHOOK_SECRET"] = dev["webhook_secret"]
    env["DAILY_API_URL"] = f"http://127.0.0.1:{emulator_port}/v1"
    command = [
        sys.executable,
        "-m",
        "devtools.daily_emulator",
        "--host",
        "127.0.0.1",
        "--port",
        str(emulator_port),
        "--webhook-url",
        f"http://{host}:{api_port}/api/v1/webhooks/daily",
        "--state-file",
        str(EMULATOR_STATE_FILE),
    ]
    # Secrets go through the environment, not argv, so `ps` does not show them.
    emulator_env = {
        **env,
        "DAILY_EMULATOR_API_KEY": dev["api_key"],
        "DAILY_EMULATOR_WEBHOOK_SECRET": dev["webhook_secret"],
    }
    process = subprocess.Popen(command, env=emulator_env)
    _wait_for_port("127.0.0.1", emulator_port, process)
    return process


def main() -> None:
    VAR_DIR.mkdir(exist_ok=True)
    env = dict(os.environ)
    host = env.get("API_HOST", "127.0.0.1")
    port = int(env.get("API_PORT", "8000"))
    processes: list[subprocess.Popen[bytes]] = []
    if get_settings().daily_api_key is None:
        processes.append(_start_emulator(env, host, port))
    else:
        print("run_dev: DAILY_API_KEY is set; using the real Daily API (no emulator).")
    try:
        ensure_database(make_url(get_settings().database_url))
        subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], check=True, env=env)
        # An open feed (`curl -N …/feed`) would otherwise hold Ctrl-C until it hung up.
        api = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "app.main:app", "--host", host,
                "--port", str(port), "--timeout-graceful-shutdown", "3",
            ],
            env=env,
        )  # fmt: skip
        processes.append(api)
        print(f"run_dev: API on http://{host}:{port} — Swagger UI at http://{host}:{port}/docs")
        api.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
