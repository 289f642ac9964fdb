from fastapi import APIRouter, Request, Response

from app.core.metrics import CONTENT_TYPE, render_metrics

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus scrape endpoint. Expose it to the monitoring network only."""
    return Response(render_metrics(request.app.state.session_metrics), media_type=CONTENT_TYPE)
