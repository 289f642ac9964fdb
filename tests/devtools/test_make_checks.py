"""The checks `make run` / `make` do before anything starts: Python version, stale .venv,
ports in use, and variables read from `.env`."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.config import REPO_ROOT, Settings
from devtools import venv_guard
from devtools.devsettings import DevSettings
from devtools.embedded import free_port

GUARD = REPO_ROOT / "devtools" / "venv_guard.py"


def test_a_python_older_than_3_11_is_refused_with_the_version_found(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(venv_guard.sys, "version_info", (3, 10, 14, "final", 0))
    venv_guard.main(str(tmp_path / ".venv"))
    assert capsys.readouterr().out.startswith("Tutorium needs Python >= 3.11, found 3.10 (")


def test_a_venv_made_by_another_python_is_removed_to_be_rebuilt(tmp_path: Path) -> None:
    venv = tmp_path / ".venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.10.12\n")
    guard = subprocess.run(  # noqa: S603 (our own fixed command)
        [sys.executable, str(GUARD), str(venv)], capture_output=True, text=True, check=True
    )
    assert guard.stdout.strip() == "ok"
    assert "was made by Python 3.10.12" in guard.stderr
    assert not venv.exists()


def test_the_venv_of_this_python_is_kept(tmp_path: Path) -> None:
    venv = tmp_path / ".venv"
    venv.mkdir()
    version = ".".join(str(part) for part in sys.version_info[:3])
    (venv / "pyvenv.cfg").write_text(f"version = {version}\n")
    guard = subprocess.run(  # noqa: S603 (our own fixed command)
        [sys.executable, str(GUARD), str(venv)], capture_output=True, text=True, check=True
    )
    assert guard.stdout.strip() == "ok"
    assert venv.exists()


def test_make_run_on_a_taken_port_exits_non_zero_naming_the_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            "API_PORT": str(port),
            "EMULATOR_PORT": str(free_port()),
            "DAILY_API_KEY": "",
        }
        run = subprocess.run(
            [sys.executable, "-m", "devtools.run_dev"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in run.stderr
    assert "API_PORT" in run.stderr
    assert "Daily API emulator" not in run.stderr  # no banner when the API did not start


def test_dev_variables_are_read_from_dot_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "API_PORT=9123\nEMULATOR_PORT=9124\nTEST_DATABASE_URL=\n"
        "TEST_REDIS_URL=redis://127.0.0.1:6390/3\n"
    )
    for name in ("API_PORT", "EMULATOR_PORT", "TEST_DATABASE_URL", "TEST_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)  # the environment would win over .env
    settings = DevSettings(_env_file=env_file)  # type: ignore[call-arg]
    assert (settings.api_port, settings.emulator_port) == (9123, 9124)
    assert settings.test_database_url is None  # empty means unset
    assert settings.test_redis_url == "redis://127.0.0.1:6390/3"


def test_an_empty_daily_api_key_means_no_key() -> None:
    settings = Settings(  # type: ignore[call-arg]  # pydantic-settings' init-only _env_file
        _env_file=None, daily_api_key="", daily_webhook_secret=" "
    )
    assert settings.daily_api_key is None
    assert settings.daily_webhook_secret is None


def test_make_without_a_working_python_stops_before_pip() -> None:
    make = subprocess.run(
        ["make", "-n", "run", "PYTHON=/nonexistent/python3"],  # noqa: S607 (make on PATH)
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert make.returncode != 0
    assert "Tutorium needs Python >= 3.11" in make.stderr
    assert "pip install" not in make.stdout
