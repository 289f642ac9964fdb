"""The ASGI application: `uvicorn app.main:app`."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.api.errors import install_error_handlers
from app.api.health import router as health_router
from app.api.v1.router import api_router
from app.core.config import Settings, get_settings
from app.db.session import build_engine, build_session_factory
from app.services.daily_client import DailyClient, build_http_client
from app.services.meeting_tokens import MeetingTokenMinter

logger = logging.getLogger("app")

DESCRIPTION = """
Tutorium runs live tutoring sessions on Daily.co video rooms.

Sign in with **Authorize** (email + password), then create a session as a teacher
and share its room code; students join with the code and get a meeting token.
Every error is `{"detail": ..., "code": ...}`: program against `code`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level.upper())
    engine = build_engine(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One HTTP client per process: its connection pool is what makes Daily calls cheap.
        http = build_http_client(settings)
        app.state.daily = DailyClient(http, settings)
        app.state.token_minter = MeetingTokenMinter(app.state.daily, settings)
        try:
            yield
        finally:
            http.close()
            engine.dispose()

    app = FastAPI(title="Tutorium API", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = build_session_factory(engine)

    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=False,
        allow_methods=["*"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
    )
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(api_router)
    return app


app = create_app()
