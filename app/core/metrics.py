"""Prometheus metrics: requests by route, Daily calls by endpoint, webhooks, sessions.

With several worker processes set PROMETHEUS_MULTIPROC_DIR (prometheus-client's
multiprocess mode) so `/metrics` adds up every worker's counts.
"""

import asyncio
import os
from collections.abc import Callable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

HTTP_REQUESTS = Counter(
    "tutorium_http_requests_total", "HTTP requests handled.", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "tutorium_http_request_duration_seconds",
    "HTTP request latency.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DAILY_CALLS = Counter(
    "tutorium_daily_requests_total",
    "Calls to Daily's REST API (one per attempt); status 'error' when no response came.",
    ["method", "endpoint", "status"],
)
DAILY_LATENCY = Histogram(
    "tutorium_daily_request_duration_seconds",
    "Latency of calls to Daily's REST API.",
    ["method", "endpoint"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WEBHOOK_EVENTS = Counter(
    "tutorium_webhook_events_total", "Daily webhook events received.", ["type", "outcome"]
)

DATABASE_UNAVAILABLE_ERRORS = Counter(
    "tutorium_database_unavailable_total",
    "Requests answered 503 database_unavailable (the database could not be reached).",
)
DATABASE_OUTAGES = Counter(
    "tutorium_database_outages_total",
    "Database outages seen by a process: the first unavailable answer after a reachable one.",
)
RATE_LIMIT_STORAGE_DEGRADED = Gauge(
    "tutorium_rate_limit_storage_degraded",
    "1 while the rate limit storage (Redis) is down and this process counts in memory.",
    multiprocess_mode="livemax",
)
RATE_LIMIT_STORAGE_OUTAGES = Counter(
    "tutorium_rate_limit_storage_outages_total",
    "Times the rate limit storage (Redis) failed and the limiter fell back to memory.",
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


def observe_daily_call(method: str, endpoint: str, status: int | None, seconds: float) -> None:
    DAILY_CALLS.labels(method, endpoint, str(status) if status is not None else "error").inc()
    DAILY_LATENCY.labels(method, endpoint).observe(seconds)


class SessionStatusCollector(Collector):
    """`tutorium_sessions{status=...}`, counted by effective status at scrape time."""

    def __init__(self, count_by_status: Callable[[], dict[str, int]]) -> None:
        self._count_by_status = count_by_status

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("tutorium_sessions", "Sessions by status.", labels=["status"])
        for status, count in sorted(self._count_by_status().items()):
            family.add_metric([status], count)
        yield family


class FeedCollector(Collector):
    """This process's live feed: subscribers, whether its listener is connected, and the
    event loop's tasks (a disconnect must leave none behind)."""

    def __init__(
        self, subscribers: Callable[[], int], listener_connected: Callable[[], bool]
    ) -> None:
        self._subscribers = subscribers
        self._listener_connected = listener_connected
        self.loop: asyncio.AbstractEventLoop | None = None  # set when the app starts

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "tutorium_feed_subscribers", "Open feed streams in this process.", self._subscribers()
        )
        yield GaugeMetricFamily(
            "tutorium_feed_listener_connected",
            "1 while this process's LISTEN connection is up.",
            int(self._listener_connected()),
        )
        if self.loop is not None and not self.loop.is_closed():
            yield GaugeMetricFamily(
                "tutorium_event_loop_tasks",
                "asyncio tasks alive in this process.",
                len(asyncio.all_tasks(self.loop)),
            )


def render_metrics(*extra: Collector) -> bytes:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry(auto_describe=True)
        registry.register(_Delegate(REGISTRY))
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


class _Delegate(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self._registry.collect()
