"""Run by the Makefile with the chosen $(PYTHON), before any pip: is it new enough, and was
`.venv` made by it?

Prints "ok" when all is well; otherwise prints the one line `make` shows as its error. A `.venv`
made by another Python (an upgrade, or `make PYTHON=python3.12` after 3.11) is removed so the
Makefile rebuilds it rather than reusing a venv whose packages were built for another
interpreter. Keep this file runnable by old Pythons (3.6+ syntax only): its job is to tell a
3.10 user what is wrong, not to crash on them.
"""

import platform
import shutil
import sys
from typing import Optional

MINIMUM = (3, 11)
MINIMUM_TEXT = "3.11"


def venv_python_version(venv: str) -> Optional[str]:  # noqa: UP045 (runs on 3.6+)
    """The `version` line of `<venv>/pyvenv.cfg`, or None when there is no usable venv."""
    try:
        with open(venv + "/pyvenv.cfg") as config:
            for line in config:
                key, _, value = line.partition("=")
                if key.strip() in ("version", "version_info"):
                    return value.strip()
    except OSError:
        return None
    return None


def main(venv: str) -> None:
    found = "{}.{}".format(*sys.version_info[:2])
    if sys.version_info[:2] < MINIMUM:
        print(
            f"Tutorium needs Python >= {MINIMUM_TEXT}, found {found} ({sys.executable}). "
            "Install a newer Python and run e.g. `make run PYTHON=python3.12`."
        )
        return
    made_by = venv_python_version(venv)
    running = platform.python_version()
    if made_by is not None and made_by.split(".")[:3] != running.split(".")[:3]:
        sys.stderr.write(f"{venv} was made by Python {made_by}, this is {running}: rebuilding it\n")
        shutil.rmtree(venv)
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".venv")
