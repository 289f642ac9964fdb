"""How we talk to Daily: authentication, timeouts, bounded retries, errors, call logs.

Kept apart from `client.py` (which knows Daily's endpoints and their JSON) so
the retry budget and the error mapping can be read, and tested, in one place. The
API key lives only in the shared client's `Authorization` header; it is never
logged and never part of an exception message.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    wait_exponential,
    wait_random,
)

from app.core.config import Settings
from app.core.errors import ProviderRejected, ProviderUnavailable

logger = logging.getLogger("app.services.daily.client")

OnCall = Callable[[str, str, int | None, float], None]
"""Metrics hook, called per attempt: (method, endpoint template, HTTP status or None, seconds)."""

REAL_DAILY_HOST = "api.daily.co"  # anything else is the emulator or a stand-in
_ERROR_TYPE_RE = re.compile(r"^[a-z0-9-]{1,64}$")
_MIN_ATTEMPT_SECONDS = 0.2  # with less budget left than this, do not start another attempt
_DEFAULT_RETRY_AFTER = 5
_BACKOFF = wait_exponential(multiplier=0.2, max=2.0) + wait_random(0, 0.2)  # 0.2 s, 0.4 s, …
# Transient by nature; other TransportErrors (bad URL, illegal header) will not heal on retry.
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def api_key_value(settings: Settings) -> str:
    """The key as sent to Daily; stripped because a stray newline from `.env` breaks the header."""
    return settings.daily_api_key.get_secret_value().strip() if settings.daily_api_key else ""


def build_http_client(settings: Settings) -> httpx.Client:
    """One client per process (the lifespan opens and closes it) so connections are pooled.

    Without a key we still send a bare "Bearer", and Daily answers 400 `authorization-header-
    error` as it would in production; "Bearer " (trailing space) is refused locally by h11.
    httpx adds `Content-Type: application/json` to every `json=` body.
    """
    return httpx.Client(
        base_url=settings.daily_api_url,
        headers={"Authorization": f"Bearer {api_key_value(settings)}".strip()},
        timeout=httpx.Timeout(
            connect=settings.daily_connect_timeout_seconds,
            read=settings.daily_read_timeout_seconds,
            write=settings.daily_read_timeout_seconds,
            pool=settings.daily_connect_timeout_seconds,
        ),
    )


class DailyAPIError(ProviderRejected):
    """Daily refused the request (a 4xx other than 429): the same call would fail again.
    Only Daily's stable kebab-case `error` type reaches the client; `info` is for logs."""

    def __init__(
        self, status: int | None, error: str | None = None, info: str | None = None
    ) -> None:
        self.status_code_from_daily, self.error, self.info = status, error, info
        public = error if error and _ERROR_TYPE_RE.match(error) else None
        super().__init__(f"The video provider rejected the request ({public})." if public else None)


class DailyUnavailableError(ProviderUnavailable):
    """Daily was unreachable, timed out, or kept answering 429/5xx until retries ran out."""

    def __init__(
        self,
        status: int | None = None,
        error: str | None = None,
        info: str | None = None,
        *,
        retry_after_seconds: int = _DEFAULT_RETRY_AFTER,
    ) -> None:
        self.status_code_from_daily, self.error, self.info = status, error, info
        super().__init__(retry_after_seconds=retry_after_seconds)


@dataclass(frozen=True)
class DailyCall:
    method: str
    template: str  # endpoint path template, the only form that reaches logs and metrics
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, str | int] | None = None


class _RetryableStatusError(Exception):
    """A 429/5xx answer, raised inside the retry loop so tenacity sees it."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response
        try:  # seconds only; whether Daily sends Retry-After at all is unconfirmed
            retry_after = float(response.headers.get("Retry-After", "nan"))
        except ValueError:
            retry_after = math.nan
        self.retry_after = retry_after if 0 <= retry_after < 3600 else None


class DailyTransport:
    """One shared httpx client plus the retry policy. Safe to share between threads."""

    def __init__(
        self,
        http: httpx.Client,
        settings: Settings,
        *,
        on_call: OnCall | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http, self._settings, self._on_call = http, settings, on_call
        self._sleep, self._clock = sleep, clock
        self._key = api_key_value(settings)

    def deadline(self) -> float:
        """When a call that starts now must be done, retries included."""
        return self._clock() + self._settings.daily_retry_budget_seconds

    def request(
        self, call: DailyCall, *, allow: tuple[int, ...] = (), deadline: float | None = None
    ) -> httpx.Response:
        """Retry network errors, timeouts, 429 and 5xx within attempts and budget; return 2xx
        and `allow`ed statuses; raise DailyAPIError on other 4xx (never retried)."""
        if deadline is None:
            deadline = self.deadline()
        retrying = Retrying(
            stop=lambda state: self._should_stop(state, deadline),
            wait=lambda state: self._wait_seconds(state, deadline),
            retry=retry_if_exception(lambda e: isinstance(e, (_RetryableStatusError, *_TRANSIENT))),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = self._send(call, attempt.retry_state.attempt_number, deadline)
        except _RetryableStatusError as last:
            seconds = last.retry_after
            raise DailyUnavailableError(
                last.response.status_code,
                *self._error_fields(last.response),
                retry_after_seconds=_DEFAULT_RETRY_AFTER
                if seconds is None
                else max(1, math.ceil(seconds)),
            ) from None
        except _TRANSIENT as exc:
            raise DailyUnavailableError() from exc
        except httpx.TransportError:  # e.g. h11 refusing a malformed key: its text quotes it
            raise DailyUnavailableError() from None
        if response.status_code >= 400 and response.status_code not in allow:
            raise DailyAPIError(response.status_code, *self._error_fields(response))
        return response

    def _send(self, call: DailyCall, attempt: int, deadline: float) -> httpx.Response:
        """One attempt, with connect+read timeouts shrunk to fit the budget left. (httpx's read
        timeout is per socket read, so only a byte-by-byte trickle could still overrun it.)"""
        started = self._clock()
        remaining = deadline - started
        if remaining < _MIN_ATTEMPT_SECONDS:
            raise DailyUnavailableError()
        connect = self._settings.daily_connect_timeout_seconds
        read = self._settings.daily_read_timeout_seconds
        scale = min(1.0, remaining / (connect + read))
        timeout = httpx.Timeout(
            connect=connect * scale, read=read * scale, write=read * scale, pool=connect * scale
        )
        try:
            response = self._http.request(
                call.method, call.path, json=call.json, params=call.params, timeout=timeout
            )
        except httpx.TransportError as exc:
            self._record(call, None, self._clock() - started, attempt, type(exc).__name__)
            raise
        status = response.status_code
        self._record(call, status, self._clock() - started, attempt, str(status))
        if status == 429 or status >= 500:
            raise _RetryableStatusError(response)
        return response

    def _wait_seconds(self, state: RetryCallState, deadline: float) -> float:
        """Daily's Retry-After when sent (the stop rule gives up if it overruns the budget);
        otherwise exponential backoff with jitter, clipped to the time left."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryableStatusError) and exc.retry_after is not None:
            return exc.retry_after
        backoff = _BACKOFF(state)
        return max(0.0, min(backoff, deadline - self._clock() - _MIN_ATTEMPT_SECONDS))

    def _should_stop(self, state: RetryCallState, deadline: float) -> bool:
        if state.attempt_number >= self._settings.daily_max_attempts:
            return True
        return self._clock() + state.upcoming_sleep + _MIN_ATTEMPT_SECONDS > deadline

    def _error_fields(self, response: httpx.Response) -> tuple[str | None, str | None]:
        """Daily errors are `{"error": stable type, "info": changing text}`; proxies send HTML."""
        try:
            body = response.json()
        except ValueError:
            return None, None
        if not isinstance(body, dict):
            return None, None
        error, info = body.get("error"), body.get("info")
        info = info if isinstance(info, str) else None
        if info and self._key:
            info = info.replace(self._key, "[redacted]")
        return (error if isinstance(error, str) else None), info

    def _record(
        self, call: DailyCall, status: int | None, seconds: float, attempt: int, outcome: str
    ) -> None:
        """Log and report one attempt: template, status or exception type name only; never
        headers, never an exception's text."""
        ok = status is not None and (status < 400 or status == 404)
        logger.log(
            logging.INFO if ok else logging.WARNING,
            "Daily %s %s -> %s in %.0f ms (attempt %d)",
            call.method,
            call.template,
            outcome,
            seconds * 1000,
            attempt,
            extra={
                "daily_method": call.method,
                "daily_endpoint": call.template,
                "daily_status": status,
                "duration_ms": round(seconds * 1000, 1),
                "attempt": attempt,
            },
        )
        if self._on_call is not None:
            try:
                self._on_call(call.method, call.template, status, seconds)
            except Exception:
                logger.exception("Daily on_call hook failed")
