import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.models.participant import ParticipantRole


class AttendanceRow(BaseModel):
    user_id: uuid.UUID
    full_name: str
    role: ParticipantRole
    first_joined_at: datetime | None = Field(description="First moment in the call (per Daily).")
    last_left_at: datetime | None = Field(description="Latest moment they left the call.")
    total_seconds: int = Field(description="Time in the call; reconnect overlaps counted once.")
    join_count: int = Field(description="Presence intervals: one per join, reconnects included.")
    present_now: bool
    attendance_ratio: float | None = Field(
        description="total_seconds ÷ the session's running time, at most 1.0; "
        "null if the session never started."
    )


class AttendanceReport(BaseModel):
    items: list[AttendanceRow]
