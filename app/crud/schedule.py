"""The schedule rule in SQL, for every query that filters or locks by it."""

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_

from app.models.session import SessionStatus, TutoringSession


def effective_status_is(
    status: SessionStatus, now: datetime | ColumnElement[datetime]
) -> ColumnElement[bool]:
    """SQL twin of `lifecycle.effective_status`: past `expires_at` reads as ended."""
    if status is SessionStatus.ENDED:
        return or_(TutoringSession.status == SessionStatus.ENDED, TutoringSession.expires_at <= now)
    return and_(TutoringSession.status == status, TutoringSession.expires_at > now)
