"""`/metrics` says whether Daily's webhook is ACTIVE: a FAILED one means no attendance at all."""

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.main import create_app
from tests.conftest import make_settings
from tests.daily_fake import FakeDaily

PUBLIC = "https://api.tutorium.test"


@pytest.fixture
def metrics_client(
    session_factory: sessionmaker[Session], daily: FakeDaily
) -> Iterator[TestClient]:
    app = create_app(make_settings(public_base_url=PUBLIC))
    app.state.session_factory = session_factory
    with TestClient(app) as client:
        yield client


def hook(state: str, failed: int) -> dict:
    return {
        "uuid": "0b6a1c6e-1111-4a53-9d55-3b7f2c8d9e10",
        "url": f"{PUBLIC}/api/v1/webhooks/daily",
        "state": state,
        "failedCount": failed,
        "retryType": "circuit-breaker",
        "eventTypes": [],
    }


def test_the_webhook_state_is_a_metric_checked_at_most_once_a_minute(
    metrics_client: TestClient, daily: FakeDaily
) -> None:
    route = daily.router.get(path__regex=r"/webhooks$").mock(
        side_effect=[httpx.Response(200, json=[hook("FAILED", 3)])]
    )
    text = metrics_client.get("/metrics").text
    assert "tutorium_daily_webhook_active 0.0" in text
    assert "tutorium_daily_webhook_failed_count 3.0" in text
    metrics_client.get("/metrics")
    assert route.call_count == 1  # cached: scrapes do not cost Daily a call each
