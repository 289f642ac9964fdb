from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.services.daily.client import REAL_DAILY_HOST

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", summary="Liveness", description="Anyone; no token.")
def get_health() -> dict[str, str]:
    """The process is up. Says nothing about its dependencies, on purpose (liveness)."""
    return {"status": "ok"}


@router.get(
    "/ready",
    responses={503: {"description": "The database is not reachable."}},
    summary="Readiness",
    description="Anyone; no token.",
)
def get_readiness(request: Request) -> Any:
    """Readiness: the database answers. Daily is reported from configuration, never called,
    so a Daily outage does not take every instance out of the load balancer."""
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception:
        database = "unavailable"
    settings = request.app.state.settings
    daily = {
        "configured": settings.daily_api_key is not None,
        "emulated": REAL_DAILY_HOST not in settings.daily_api_url,
        "token_mode": settings.daily_token_mode,
        "webhook_secret_configured": settings.daily_webhook_secret is not None,
    }
    ok = database == "ok"
    body = {"status": "ok" if ok else "unavailable", "database": database, "daily": daily}
    return JSONResponse(body, status_code=200 if ok else 503)
