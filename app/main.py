"""The ASGI application: `uvicorn app.main:app`."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from sqlalchemy.orm import Session, sessionmaker

from app.api.errors import ErrorBoundaryMiddleware, install_error_handlers
from app.api.health import router as health_router
from app.api.metrics import router as metrics_router
from app.api.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from app.api.openapi import TAGS, install_openapi, operation_id
from app.api.v1.router import api_router
from app.core.config import Environment, Settings, get_settings
from app.core.logging import configure_logging
from app.core.metrics import (
    DailyWebhookCollector,
    FeedCollector,
    SessionStatusCollector,
    observe_daily_call,
)
from app.crud.session import count_by_effective_status
from app.db.outage import DatabaseOutage, is_database_unavailable
from app.db.session import build_engine, build_session_factory
from app.db.types import utcnow
from app.services.accounts.rate_limits import AbuseGuard
from app.services.attendance import backfill
from app.services.attendance.backfill_retries import BackfillRetries
from app.services.daily.client import REAL_DAILY_HOST, DailyClient, build_http_client
from app.services.daily.meeting_tokens import MeetingTokenMinter
from app.services.feed.hub import FeedHub
from app.services.webhooks import subscription

logger = logging.getLogger("app")

DOCS_ASSETS_URL = "/docs-assets"

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
        """What belongs to one serving run: Daily's HTTP client (its connection pool) and the
        database slots (a semaphore of the event loop that serves) are made at startup and
        the client closed at shutdown, so an app started again gets fresh ones. Logging is
        set up again, after whatever the server did to it (`configure_logging`)."""
        configure_logging(settings.log_level)
        if REAL_DAILY_HOST not in settings.daily_api_url:
            logger.warning("DAILY_API_URL does not point at Daily: rooms are emulated, no video")
        _connect_daily(app, settings)
        app.state.database_slots = asyncio.Semaphore(
            settings.database_pool_size + settings.database_max_overflow
        )
        app.state.feed_hub.start(asyncio.get_running_loop())
        app.state.feed_metrics.loop = asyncio.get_running_loop()
        try:
            yield
        finally:
            app.state.feed_hub.stop()
            app.state.backfill_retries.stop()  # before Daily's client closes under a try
            app.state.daily_http.close()
            engine.dispose()

    # FastAPIOffline: FastAPI whose /docs and /redoc load Swagger UI and ReDoc from the pinned
    # fastapi-offline package instead of a CDN, so the docs work with no internet.
    app = FastAPIOffline(
        title="Tutorium API",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
        swagger_ui_parameters={"persistAuthorization": True},
        static_url=DOCS_ASSETS_URL,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.database_outage = DatabaseOutage()
    app.state.database_outage.watch(engine)
    app.state.abuse_guard = AbuseGuard(settings)
    # Read at each try, not now: Daily's client is made when the app starts serving.
    app.state.backfill_retries = BackfillRetries(
        lambda session_id: backfill.backfill_session(
            app.state.session_factory, app.state.daily, session_id
        )
    )
    app.state.feed_hub = FeedHub(
        settings.listen_url,
        buffer_messages=settings.feed_buffer_messages,
        gather_seconds=settings.feed_gather_seconds,
        writes_per_second=settings.feed_session_writes_per_second,
        heartbeat_seconds=settings.feed_heartbeat_seconds,
    )
    app.state.feed_metrics = FeedCollector(
        lambda: app.state.feed_hub.subscriber_count,
        lambda: app.state.feed_hub.listener_connected,
    )
    app.state.session_metrics = SessionStatusCollector(
        lambda: _count_sessions(app.state.session_factory)
    )
    app.state.webhook_metrics = DailyWebhookCollector(
        lambda: subscription.health(app.state.daily, app.state.settings)
    )

    app.add_middleware(ErrorBoundaryMiddleware, outage=app.state.database_outage)
    app.add_middleware(BodySizeLimitMiddleware)
    _allow_cross_origin(app, settings)  # outside the 413 and every error, so they carry CORS
    app.add_middleware(RequestContextMiddleware)  # outermost: it sees every response
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(health_router)
    app.include_router(metrics_router)
    app.include_router(api_router)
    return app


# `make run`'s web apps (Vite on :5173, any other dev server) with no configuration.
DEV_ORIGIN_PATTERN = r"^http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?$"


def _allow_cross_origin(app: FastAPI, settings: Settings) -> None:
    """CORS_ORIGINS when set; else, in development only, any port of localhost/127.0.0.1.

    Production with no CORS_ORIGINS allows no browser origin: the layer is skipped.
    """
    pattern = None
    if not settings.cors_origins and settings.environment is Environment.DEV:
        pattern = DEV_ORIGIN_PATTERN
    if not settings.cors_origins and pattern is None:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_origin_regex=pattern,
        allow_credentials=False,
        allow_methods=["GET", "POST", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After", "WWW-Authenticate", "Content-Disposition"],
        max_age=600,
    )


def _connect_daily(app: FastAPI, settings: Settings) -> None:
    """One HTTP client per process: its connection pool is what makes Daily calls cheap."""
    app.state.daily_http = build_http_client(settings)
    app.state.daily = DailyClient(app.state.daily_http, settings, on_call=observe_daily_call)
    app.state.token_minter = MeetingTokenMinter(app.state.daily, settings)


def _count_sessions(session_factory: sessionmaker[Session]) -> dict[str, int]:
    """No counts while the database is down: `/metrics` still answers, with the outage."""
    try:
        with session_factory() as db:
            return count_by_effective_status(db, utcnow())
    except Exception as exc:
        if is_database_unavailable(exc):
            return {}
        raise


app = create_app()
