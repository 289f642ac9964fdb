from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.core.errors import DatabaseUnavailable
from app.db.outage import is_database_unavailable
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
    so a Daily outage does not take every instance out of the load balancer. The rate limit
    storage is asked, but its outage keeps the answer 200: the limiter counts in memory
    meanwhile ("degraded"), and the API works."""
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:
        if not is_database_unavailable(exc):
            raise
        request.app.state.database_outage.report(exc)
        database = "unavailable"
    settings = request.app.state.settings
    daily = {
        "configured": settings.daily_api_key is not None,
        "emulated": REAL_DAILY_HOST not in settings.daily_api_url,
        "token_mode": settings.daily_token_mode,
        "webhook_secret_configured": settings.daily_webhook_secret is not None,
    }
    ok = database == "ok"
    guard = request.app.state.abuse_guard
    body = {
        "status": "ok" if ok else "unavailable",
        "database": database,
        "rate_limit_storage": guard.limiter.check() if guard.enabled else "disabled",
        "daily": daily,
    }
    if ok:
        return JSONResponse(body)
    return JSONResponse(body, status_code=503, headers=DatabaseUnavailable().headers)
