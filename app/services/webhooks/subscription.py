"""Keeping Daily's webhook for this deployment alive: create it, re-activate it, report it.

Daily's default `retryType` ("circuit-breaker") marks the webhook FAILED after three failed
deliveries and then sends nothing at all, for every room of the domain, until someone
re-activates it (daily-api.md §5, §10). So the webhook is kept on `"exponential"` (each message
retried for up to 15 minutes, then dropped; never switched off), and its state is checked by
`python -m app.cli webhook status`, by reconcile and on `/metrics`. Lost messages are made up
for by the attendance backfill.
"""

from dataclasses import dataclass
from typing import Any

from app.core.config import Settings
from app.services.daily.client import DailyClient, DailyWebhook

WEBHOOK_PATH = "/api/v1/webhooks/daily"
# What `handling` consumes; anything else would only be stored.
EVENT_TYPES = (
    "meeting.started",
    "meeting.ended",
    "participant.joined",
    "participant.left",
    "recording.started",
    "recording.ready-to-download",
    "recording.error",
)
RETRY_TYPE = "exponential"
ACTIVE = "ACTIVE"


class WebhookNotConfigured(Exception):
    """PUBLIC_BASE_URL or DAILY_WEBHOOK_SECRET is missing: there is nothing to point Daily at."""


@dataclass(frozen=True)
class WebhookReport:
    action: str  # created | updated | found | missing
    webhook: DailyWebhook | None

    @property
    def active(self) -> bool:
        return self.webhook is not None and self.webhook.state.upper() == ACTIVE

    def line(self) -> str:
        if self.webhook is None:
            return "Daily webhook: missing (run `python -m app.cli webhook ensure`)"
        hook = self.webhook
        return (
            f"Daily webhook {hook.uuid}: {self.action}, state {hook.state or 'unknown'}, "
            f"failedCount {hook.failed_count}, retryType {hook.retry_type}, url {hook.url}"
        )


def webhook_url(settings: Settings) -> str:
    if not settings.public_base_url:
        raise WebhookNotConfigured("PUBLIC_BASE_URL is not set")
    return settings.public_base_url.rstrip("/") + WEBHOOK_PATH


def find(daily: DailyClient, settings: Settings) -> DailyWebhook | None:
    url = webhook_url(settings)
    return next((hook for hook in daily.list_webhooks() if hook.url == url), None)


def status(daily: DailyClient, settings: Settings) -> WebhookReport:
    webhook = find(daily, settings)
    return WebhookReport("found" if webhook else "missing", webhook)


def ensure(daily: DailyClient, settings: Settings) -> WebhookReport:
    """Create ours, or update it (which also re-activates a FAILED one): same URL, exponential
    retries, the events we consume, and our `hmac`. Running it twice changes nothing more."""
    secret = settings.daily_webhook_secret
    if secret is None or not secret.get_secret_value().strip():
        raise WebhookNotConfigured("DAILY_WEBHOOK_SECRET is not set")
    body: dict[str, Any] = {
        "url": webhook_url(settings),
        "retryType": RETRY_TYPE,
        "eventTypes": list(EVENT_TYPES),
        "hmac": secret.get_secret_value().strip(),
    }
    existing = find(daily, settings)
    if existing is None:
        return WebhookReport("created", daily.create_webhook(body))
    return WebhookReport("updated", daily.update_webhook(existing.uuid, body))


def health(daily: DailyClient, settings: Settings) -> tuple[bool, int] | None:
    """(active, failedCount) for `/metrics`; None when there is nothing to check."""
    if settings.daily_api_key is None or not settings.public_base_url:
        return None
    report = status(daily, settings)
    return report.active, report.webhook.failed_count if report.webhook else 0
