from fastapi import APIRouter, Request, Response

from app.core.metrics import CONTENT_TYPE, render_metrics

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus scrape endpoint. Expose it to the monitoring network only."""
    state = request.app.state
    return Response(
        render_metrics(state.session_metrics, state.feed_metrics), media_type=CONTENT_TYPE
    )
