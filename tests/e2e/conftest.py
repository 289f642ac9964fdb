"""End-to-end fixtures: one emulator + API pair per token mode, started on first use and
stopped when the package's last test is done (package scope: the rest of the suite never sees
the processes). The API writes real rows, so every test ends with the webhook queue drained,
the emulator reset and the tables truncated.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from app.core.config import Settings
from tests.conftest import truncate_all
from tests.e2e.stack import Stack, StackPool


@pytest.fixture(scope="package")
def stacks(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackPool]:
    pool = StackPool(settings.database_url, tmp_path_factory.mktemp("e2e"))
    try:
        yield pool
    finally:
        pool.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.e2e_call_failed = report.failed  # type: ignore[attr-defined]
    return report


@pytest.fixture
def stack(request: pytest.FixtureRequest, stacks: StackPool, engine: Engine) -> Iterator[Stack]:
    """A clean stack (self-signed tokens unless parametrized with `indirect=True`)."""
    live = stacks.get(getattr(request, "param", "self_signed"))
    api_log_start = live.api_server.log_size()
    emulator_log_start = live.emulator_server.log_size()
    try:
        yield live
    finally:
        if getattr(request.node, "e2e_call_failed", False):
            print(f"--- API log ---\n{live.api_server.tail(api_log_start)}")
            print(f"--- emulator log ---\n{live.emulator_server.tail(emulator_log_start)}")
        try:
            live.clean_up()
        finally:
            truncate_all(engine)
