"""The emulator's parts wired together, and the FastAPI dependencies that hand them to routes."""

from __future__ import annotations

import hmac
import threading
from typing import Annotated

from fastapi import Depends, Request

from .behaviour import Behaviour
from .calls import CallSimulator
from .config import EmulatorConfig
from .errors import DailyError
from .faults import FaultBook
from .recordings import RecordingBook
from .request_log import RequestLog
from .rooms import RoomBook
from .state import Clock, Store
from .webhooks import WebhookOutbox


class Emulator:
    """One emulated Daily domain: state, calls, webhooks, faults and the request log."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock = Clock()
        self.store = Store(config.state_file, config.initial_domain_id())
        self.behaviour = Behaviour()
        self.outbox = WebhookOutbox(
            url=config.webhook_url,
            secret=config.webhook_secret,
            clock=self.clock,
            retries=config.webhook_retries,
            backoff_s=config.webhook_backoff_s,
            timeout_s=config.webhook_timeout_s,
            domain_id=self.store.domain_id,
            should_drop=lambda: self.behaviour.drops_webhook(),
        )
        self.calls = CallSimulator(self.store, self.outbox, self.clock, config.api_key)
        self.rooms = RoomBook(self.store, self.calls, self.clock, config.base_url, self.behaviour)
        self.recordings = RecordingBook(
            self.store, self.outbox, self.clock, config.api_key, config.base_url
        )
        self.calls.listeners.append(self.recordings)
        self.faults = FaultBook()
        self.requests = RequestLog()
        self._ticker_stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def reset(self) -> None:
        """Back to an empty domain; configuration and domain id survive."""
        self.store.clear()
        self.recordings.clear()
        self.outbox.clear()
        self.outbox.reset_subscription()
        self.faults.clear()
        self.requests.clear()
        self.behaviour.restore_defaults()
        self.clock.offset_s = 0.0

    def start_ticker(self) -> None:
        """Eject participants when their `will_eject_at` passes, even if no request arrives."""
        if self._ticker is not None:
            return
        self._ticker_stop.clear()

        def tick() -> None:
            while not self._ticker_stop.wait(self.config.eject_sweep_interval_s):
                self.calls.sweep()

        self._ticker = threading.Thread(target=tick, name="daily-emulator-ejector", daemon=True)
        self._ticker.start()

    def shutdown(self) -> None:
        self._ticker_stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
            self._ticker = None
        self.outbox.close()


def get_emulator(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


EmulatorDep = Annotated[Emulator, Depends(get_emulator)]


def require_api_key(request: Request, emulator: EmulatorDep) -> None:
    """Daily's auth: 400 `authorization-header-error` when the header is absent or not
    `Bearer <key>`, 401 `authentication-error` (no `info`) when the key is wrong."""
    header = request.headers.get("authorization")
    scheme, _, key = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise DailyError(400, "authorization-header-error", "bad Authorization header format")
    if not hmac.compare_digest(key.strip().encode(), emulator.config.api_key.encode()):
        raise DailyError(401, "authentication-error")
