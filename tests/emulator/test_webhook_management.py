"""The emulator's webhook management REST, as Daily documents it (daily-api.md §5, §10)."""

from __future__ import annotations

from collections.abc import Callable

from tests.emulator.conftest import WEBHOOK_SECRET, Emulated, WebhookReceiver


def _subscribe(emu: Emulated, receiver: WebhookReceiver, **body: object) -> dict:
    response = emu.api.post("/v1/webhooks", json={"url": receiver.url, **body})
    assert response.status_code == 200, response.text
    return response.json()


def test_create_checks_the_url_and_answers_daily_fields(
    make_emulator: Callable[..., Emulated], receiver: WebhookReceiver
) -> None:
    emu = make_emulator(webhook_url=None)
    assert emu.api.get("/v1/webhooks").json() == []
    receiver.respond_with = [500]
    refused = emu.api.post("/v1/webhooks", json={"url": receiver.url})
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid-request-error"
    hook = _subscribe(emu, receiver, hmac=WEBHOOK_SECRET)
    assert receiver.events()[-1] == {"test": "test"}
    assert set(hook) >= {"uuid", "url", "hmac", "retryType", "eventTypes", "state", "failedCount"}
    assert (hook["state"], hook["failedCount"], hook["retryType"]) == (
        "ACTIVE",
        0,
        "circuit-breaker",
    )
    again = emu.api.post("/v1/webhooks", json={"url": receiver.url})
    assert again.status_code == 400  # one webhook per domain
    assert emu.api.get(f"/v1/webhooks/{hook['uuid']}").json()["uuid"] == hook["uuid"]
    assert emu.api.delete(f"/v1/webhooks/{hook['uuid']}").status_code == 200
    assert emu.api.get(f"/v1/webhooks/{hook['uuid']}").status_code == 404


def test_circuit_breaker_fails_after_three_and_stops_everything(
    make_emulator: Callable[..., Emulated], receiver: WebhookReceiver
) -> None:
    emu = make_emulator(webhook_url=None, webhook_retries=0)
    hook = _subscribe(emu, receiver, hmac=WEBHOOK_SECRET)
    emu.create_room(name="cb")
    receiver.respond_with = [500, 500, 500]
    emu.join("cb", user_id="a")  # meeting.started, participant.joined
    emu.join("cb", user_id="b")  # participant.joined: the third failure
    emu.join("cb", user_id="c")  # never sent
    outcomes = [d["outcome"] for d in emu.flush()]
    assert outcomes == ["failed", "failed", "failed", "not-sent"]
    state = emu.api.get(f"/v1/webhooks/{hook['uuid']}").json()
    assert (state["state"], state["failedCount"]) == ("FAILED", 3)

    reactivated = emu.api.post(f"/v1/webhooks/{hook['uuid']}", json={"retryType": "exponential"})
    assert reactivated.json()["state"] == "ACTIVE"
    assert reactivated.json()["failedCount"] == 0
    emu.join("cb", user_id="d")
    assert emu.flush()[-1]["outcome"] == "delivered"


def test_exponential_retries_a_message_and_never_fails_the_webhook(
    make_emulator: Callable[..., Emulated], receiver: WebhookReceiver
) -> None:
    emu = make_emulator(webhook_url=None, webhook_retries=1)
    hook = _subscribe(emu, receiver, retryType="exponential", hmac=WEBHOOK_SECRET)
    emu.create_room(name="ex")
    receiver.respond_with = [500] * 6
    emu.join("ex", user_id="a")
    emu.join("ex", user_id="b")
    emu.join("ex", user_id="c")
    deliveries = emu.flush()
    assert [d["outcome"] for d in deliveries] == ["failed"] * 3 + ["delivered"]
    state = emu.api.get(f"/v1/webhooks/{hook['uuid']}").json()
    assert (state["state"], state["failedCount"]) == ("ACTIVE", 0)


def test_a_share_of_webhooks_can_be_dropped(emu: Emulated) -> None:
    switched = emu.anon.post(
        "/_emulator/behaviour", json={"webhook_drop_share": 0.5, "webhook_drop_seed": 3}
    )
    assert switched.status_code == 200, switched.text
    assert emu.anon.post("/_emulator/behaviour", json={"webhook_drop_share": 2}).status_code == 400
    emu.create_room(name="lossy")
    for n in range(20):
        emu.join("lossy", user_id=f"u{n}")
    outcomes = [d["outcome"] for d in emu.flush()]
    assert set(outcomes) == {"delivered", "dropped"}
    assert 4 <= outcomes.count("dropped") <= 16
