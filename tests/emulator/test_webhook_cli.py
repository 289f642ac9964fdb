"""`python -m app.cli webhook ensure|status` against the emulator over real HTTP: a webhook
FAILED by an outage is re-activated, switched to exponential retries, and reported."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app import cli
from app.core.config import Settings
from app.services.daily.client import DailyClient, build_http_client
from app.services.reconcile import reconcile
from devtools.daily_emulator import EmulatorConfig, create_app
from tests.conftest import TEST_WEBHOOK_SECRET, make_settings
from tests.emulator.conftest import API_KEY, WebhookReceiver, live_server


@pytest.fixture
def daily_url() -> Iterator[str]:
    app = create_app(EmulatorConfig(api_key=API_KEY, webhook_retries=0, webhook_backoff_s=0.01))
    with live_server(app) as base:
        yield f"{base}/v1"
    app.state.emulator.shutdown()


def settings_for(daily_url: str, receiver: WebhookReceiver, **overrides: Any) -> Settings:
    public = receiver.url.removesuffix("/webhooks/daily")
    values = {"daily_api_url": daily_url, "daily_api_key": API_KEY, "public_base_url": public}
    return make_settings(**(values | overrides))


def run(capsys: pytest.CaptureFixture[str], settings: Settings, *args: str) -> tuple[int, str]:
    code = cli.main(["webhook", *args], settings=settings)
    return code, capsys.readouterr().out


def test_ensure_creates_then_reactivates_a_failed_webhook(
    daily_url: str,
    receiver: WebhookReceiver,
    capsys: pytest.CaptureFixture[str],
    session_factory: Any,
) -> None:
    settings = settings_for(daily_url, receiver)
    api = httpx.Client(base_url=daily_url, headers={"Authorization": f"Bearer {API_KEY}"})
    code, out = run(capsys, settings, "status")
    assert (code, "missing" in out) == (1, True)

    # Made by hand the old way: Daily's default circuit-breaker mode.
    url = settings.public_base_url + "/api/v1/webhooks/daily"
    hook = api.post("/webhooks", json={"url": url, "hmac": TEST_WEBHOOK_SECRET}).json()
    # An outage: three failed deliveries switch it off.
    receiver.respond_with = [503, 503, 503]
    api.post("/rooms", json={"name": "tutorium-outage"})
    emulator = httpx.Client(base_url=daily_url.removesuffix("/v1"))
    for user in ("a", "b"):
        emulator.post("/_emulator/rooms/tutorium-outage/join", json={"user_id": user})
    emulator.post("/_emulator/webhooks/flush")
    assert api.get(f"/webhooks/{hook['uuid']}").json()["state"] == "FAILED"

    code, out = run(capsys, settings, "status")
    assert code == 1
    assert "state FAILED, failedCount 3, retryType circuit-breaker" in out
    client = DailyClient(build_http_client(settings), settings)
    summary = reconcile(session_factory, client, prefix="tutorium", settings=settings)
    assert not summary.ok
    assert any("state FAILED" in line for line in summary.lines())

    code, out = run(capsys, settings, "ensure")
    assert code == 0, out
    assert f"Daily webhook {hook['uuid']}: updated, state ACTIVE, failedCount 0" in out
    now = api.get(f"/webhooks/{hook['uuid']}").json()
    assert now["retryType"] == "exponential"
    assert now["eventTypes"] == [
        "meeting.started",
        "meeting.ended",
        "participant.joined",
        "participant.left",
        "recording.started",
        "recording.ready-to-download",
        "recording.error",
    ]
    assert now["hmac"] == TEST_WEBHOOK_SECRET
    assert run(capsys, settings, "status")[0] == 0
    assert run(capsys, settings, "ensure")[0] == 0  # twice changes nothing more
    assert len(api.get("/webhooks").json()) == 1


def test_ensure_creates_one_when_none_exists(
    daily_url: str, receiver: WebhookReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, settings_for(daily_url, receiver), "ensure")
    assert code == 0, out
    assert ": created, state ACTIVE" in out
    assert receiver.events() == [{"test": "test"}]


def test_without_public_base_url_it_says_so(
    daily_url: str, receiver: WebhookReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(daily_url, receiver, public_base_url=None)
    code, out = run(capsys, settings, "status")
    assert code == 1
    assert "PUBLIC_BASE_URL is not set" in out
