"""Fixtures for Daily tests: no database, no network, no real sleeping.

Every Daily call must be declared on `daily_mock`; an undeclared one fails the test
(`assert_all_mocked=True`). Time is a `FakeClock` shared by the client's clock and its sleep.
"""

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from app.core.config import Settings
from app.services.daily.client import DailyClient, build_http_client

DAILY_URL = "https://api.daily.co/v1"
API_KEY = "test-key-5ecr3t-7f3c9a"


class FakeClock:
    """Monotonic seconds that move only when the code sleeps or a test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"daily_api_key": API_KEY, "daily_api_url": DAILY_URL}
    values.update(overrides)
    return Settings(_env_file=None, **values)


def room_body(name: str, **config: Any) -> dict[str, Any]:
    """A room object shaped like Daily's."""
    return {
        "id": f"id-{name}",
        "name": name,
        "api_created": True,
        "privacy": "private",
        "url": f"https://tutorium.daily.co/{name}",
        "created_at": "2030-01-01T10:00:00.000Z",
        "config": config,
    }


@pytest.fixture
def daily_mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=DAILY_URL, assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_daily(
    daily_mock: respx.MockRouter, clock: FakeClock
) -> Iterator[Callable[..., DailyClient]]:
    """Build a DailyClient on the fake clock; keyword arguments override Settings."""
    clients: list[httpx.Client] = []

    def factory(*, on_call: Any = None, **overrides: Any) -> DailyClient:
        settings = make_settings(**overrides)
        http = build_http_client(settings)
        clients.append(http)
        return DailyClient(http, settings, on_call=on_call, sleep=clock.sleep, clock=clock)

    yield factory
    for http in clients:
        http.close()


@pytest.fixture
def daily(make_daily: Callable[..., DailyClient]) -> DailyClient:
    return make_daily()
