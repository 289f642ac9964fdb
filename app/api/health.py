from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(prefix="/health", tags=["health"])


@router.get("")
def health() -> dict[str, str]:
    """The process is up. Says nothing about its dependencies, on purpose (liveness)."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "The database is not reachable."}})
def ready(request: Request) -> Any:
    """Readiness: the database answers. Daily is reported from configuration, never called."""
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception:
        database = "unavailable"
    body = {"status": "ok" if database == "ok" else "unavailable", "database": database}
    return JSONResponse(body, status_code=200 if database == "ok" else 503)
