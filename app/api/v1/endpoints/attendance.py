"""A session's record for its teacher: attendance (JSON or CSV) and the event log."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response

from app.api.deps import CurrentUser, DbSession
from app.api.responses import BEARER_ERRORS, PARAMETER_ERRORS, error_responses
from app.core.errors import NotSessionTeacher, SessionNotFound
from app.db.types import utcnow
from app.schemas.attendance import AttendanceReport
from app.schemas.event import SessionEventPage
from app.services.attendance import event_log
from app.services.attendance import report as attendance

router = APIRouter(prefix="/sessions", tags=["attendance"])

CSV_MEDIA_TYPE = "text/csv"


def _wants_csv(output_format: str | None, accept: str | None) -> bool:
    if output_format is not None:
        return output_format == "csv"
    return accept is not None and CSV_MEDIA_TYPE in accept.lower()


@router.get(
    "/{session_id}/attendance",
    response_model=AttendanceReport,
    responses={
        200: {
            "description": "One row per participant; `?format=csv` or `Accept: text/csv` "
            "returns the same rows and columns as a CSV download.",
            "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        **error_responses(BEARER_ERRORS, PARAMETER_ERRORS, NotSessionTeacher, SessionNotFound),
    },
    summary="Who attended and for how long",
    description="The session's teacher only.",
)
def get_attendance(
    session_id: uuid.UUID,
    db: DbSession,
    user: CurrentUser,
    output_format: Annotated[Literal["json", "csv"] | None, Query(alias="format")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> AttendanceReport | Response:
    report = attendance.attendance_report(db, user=user, session_id=session_id, now=utcnow())
    if not _wants_csv(output_format, accept):
        return report
    return Response(
        attendance.to_csv(report),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="attendance-{session_id}.csv"'},
    )


@router.get(
    "/{session_id}/events",
    response_model=SessionEventPage,
    responses=error_responses(BEARER_ERRORS, PARAMETER_ERRORS, NotSessionTeacher, SessionNotFound),
    summary="The session's event log, oldest first",
    description="The session's teacher only.",
)
def list_session_events(
    session_id: uuid.UUID,
    db: DbSession,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> SessionEventPage:
    return event_log.list_events(db, user=user, session_id=session_id, limit=limit, offset=offset)
