"""`make test-scale` runs this package (root, HAProxy and PgBouncer installed by the target);
plain `make test` skips it: a laptop has neither root nor the balancer."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scale.district import District, build_district


def _skip_unless_possible() -> None:
    if os.environ.get("TUTORIUM_SCALE_TESTS") != "1":
        pytest.skip("the scale tests run with `make test-scale` (root, HAProxy, PgBouncer)")
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    for binary in ("haproxy", "pgbouncer"):
        if shutil.which(binary) is None and not Path(f"/usr/sbin/{binary}").exists():
            pytest.fail(f"{binary} is not installed (make test-scale installs it)")


@pytest.fixture(scope="package")
def district() -> Iterator[District]:
    """One district for the package: starting it takes most of a minute."""
    _skip_unless_possible()
    with build_district() as built:
        yield built
