"""`create_app(config)`: the emulator as a FastAPI app, for uvicorn or an in-process TestClient.

Route order matters: `/v1...` and `/_emulator...` are registered before the catch-all room page
`/{room_name}`, and FastAPI's own docs move under `/_emulator/` so that rooms named `docs` or
`openapi.json`-like paths never collide with them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from . import (
    api_meetings,
    api_recordings,
    api_rooms,
    api_tokens,
    api_webhooks,
    controls,
    room_page,
    standin_routes,
)
from .config import EmulatorConfig
from .errors import install_error_handlers
from .middleware import ApiMiddleware, DevToolsCors
from .runtime import Emulator


def create_app(config: EmulatorConfig) -> FastAPI:
    emulator = Emulator(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        emulator.start_ticker()
        try:
            yield
        finally:
            emulator.shutdown()

    # Docs assets come from the pinned fastapi-offline package, not a CDN: they work offline.
    app = FastAPIOffline(
        title="Daily API emulator",
        description="Local stand-in for Daily's REST API and webhooks. Development only.",
        docs_url="/_emulator/docs",
        redoc_url=None,
        openapi_url="/_emulator/openapi.json",
        static_url="/_emulator/docs-assets",
        swagger_ui_oauth2_redirect_url="/_emulator/docs/oauth2-redirect",
        swagger_ui_parameters={"persistAuthorization": True},
        lifespan=lifespan,
    )
    app.state.emulator = emulator
    install_error_handlers(app)
    app.add_middleware(ApiMiddleware, emulator=emulator)
    app.add_middleware(DevToolsCors)
    app.include_router(api_tokens.router)
    app.include_router(api_rooms.router)
    app.include_router(api_webhooks.router)
    app.include_router(api_meetings.router)
    app.include_router(controls.router)
    app.include_router(api_recordings.router)
    app.include_router(api_recordings.controls)
    app.include_router(standin_routes.router)
    app.include_router(room_page.router)
    return app
