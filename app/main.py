"""The ASGI application: `uvicorn app.main:app`."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from weakref import WeakKeyDictionary

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.api.errors import ErrorBoundaryMiddleware, install_error_handlers
from app.api.health import router as health_router
from app.api.metrics import router as metrics_router
from app.api.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from app.api.v1.router import api_router
from app.core.config import Settings, get_settings
from app.core.logging import configure_logging
from app.core.metrics import FeedCollector, SessionStatusCollector, observe_daily_call
from app.crud.session import count_by_effective_status
from app.db.outage import DatabaseOutage, is_database_unavailable
from app.db.session import build_engine, build_session_factory
from app.db.types import utcnow
from app.services.accounts.rate_limits import AbuseGuard
from app.services.daily.client import REAL_DAILY_HOST, DailyClient, build_http_client
from app.services.daily.meeting_tokens import MeetingTokenMinter
from app.services.feed.hub import FeedHub

logger = logging.getLogger("app")

MAX_BODY_BYTES = 1024 * 1024

DESCRIPTION = """
Tutorium runs live tutoring sessions on Daily.co video rooms.

Sign in with **Authorize** (email + password), then create a session as a teacher
and share its room code; students join with the code and get a meeting token.
Every error is `{"detail": ..., "code": ...}`: program against `code`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    engine = build_engine(settings)
    session_factory = build_session_factory(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if REAL_DAILY_HOST not in settings.daily_api_url:
            logger.warning("DAILY_API_URL does not point at Daily: rooms are emulated, no video")
        if app.state.daily_http.is_closed:  # started again after a shutdown (tests do this)
            _connect_daily(app, settings)
        app.state.feed_hub.start(asyncio.get_running_loop())
        app.state.feed_metrics.loop = asyncio.get_running_loop()
        try:
            yield
        finally:
            app.state.feed_hub.stop()
            app.state.daily_http.close()
            engine.dispose()

    app = FastAPI(
        title="Tutorium API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.database_slots = WeakKeyDictionary()
    app.state.database_outage = DatabaseOutage()
    app.state.database_outage.watch(engine)
    app.state.abuse_guard = AbuseGuard(settings)
    app.state.feed_hub = FeedHub(
        settings.listen_url,
        buffer_messages=settings.feed_buffer_messages,
        gather_seconds=settings.feed_gather_seconds,
    )
    app.state.feed_metrics = FeedCollector(
        lambda: app.state.feed_hub.subscriber_count,
        lambda: app.state.feed_hub.listener_connected,
    )
    _connect_daily(app, settings)
    app.state.session_metrics = SessionStatusCollector(
        lambda: _count_sessions(app.state.session_factory)
    )

    app.add_middleware(ErrorBoundaryMiddleware, outage=app.state.database_outage)
    if settings.cors_origins:  # no origins, no cross-origin browser calls: skip the layer
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(RequestContextMiddleware)  # outermost: it sees every response
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(metrics_router)
    app.include_router(api_router)
    return app


def _connect_daily(app: FastAPI, settings: Settings) -> None:
    """One HTTP client per process: its connection pool is what makes Daily calls cheap."""
    app.state.daily_http = build_http_client(settings)
    app.state.daily = DailyClient(app.state.daily_http, settings, on_call=observe_daily_call)
    app.state.token_minter = MeetingTokenMinter(app.state.daily, settings)


def _count_sessions(session_factory: object) -> dict[str, int]:
    """No counts while the database is down: `/metrics` still answers, with the outage."""
    try:
        with session_factory() as db:  # type: ignore[operator]
            return count_by_effective_status(db, utcnow())
    except Exception as exc:
        if is_database_unavailable(exc):
            return {}
        raise


app = create_app()
