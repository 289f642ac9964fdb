"""A session's record for its teacher: attendance (JSON, or CSV at its own path), event log."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

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
ATTENDANCE_ERRORS = error_responses(
    BEARER_ERRORS, PARAMETER_ERRORS, NotSessionTeacher, SessionNotFound
)


@router.get(
    "/{session_id}/attendance",
    response_model=AttendanceReport,
    responses=ATTENDANCE_ERRORS,
    summary="Who attended and for how long",
    description="The session's teacher only. The same rows as a CSV file: "
    "`GET /sessions/{session_id}/attendance.csv`.",
)
def get_attendance(session_id: uuid.UUID, db: DbSession, user: CurrentUser) -> AttendanceReport:
    return attendance.attendance_report(db, user=user, session_id=session_id, now=utcnow())


@router.get(
    "/{session_id}/attendance.csv",
    response_class=Response,
    responses={
        200: {
            "description": "The attendance rows and columns as a CSV download (UTF-8, a header "
            "row; empty cells for null).",
            "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        **ATTENDANCE_ERRORS,
    },
    summary="Attendance as a CSV file",
    description="The session's teacher only. Its own operation (not content negotiation), so "
    "generated clients download it as text.",
)
def get_attendance_csv(session_id: uuid.UUID, db: DbSession, user: CurrentUser) -> Response:
    report = attendance.attendance_report(db, user=user, session_id=session_id, now=utcnow())
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
