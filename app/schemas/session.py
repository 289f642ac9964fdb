import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.models.participant import ParticipantRole, RosterStatus
from app.models.session import RecordingMode, SessionStatus
from app.schemas.common import NOT_BLANK, STRIPPED, Page, RequestModel, text_bounds

Title = Annotated[str, text_bounds(200, blank=False), STRIPPED, NOT_BLANK]
Description = Annotated[str, text_bounds(5000, blank=True), STRIPPED]
MaxParticipants = Annotated[
    int, Field(ge=1, le=199, description="Students allowed (the teacher is extra).")
]
DurationMinutes = Annotated[int, Field(ge=5, le=720)]


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("must include a timezone offset, e.g. 2030-01-01T09:00:00Z")
    return value


ScheduledStart = Annotated[datetime | None, AfterValidator(_aware)]


class SessionCreate(RequestModel):
    title: Title
    description: Description | None = None
    max_participants: MaxParticipants = 30
    scheduled_start_at: ScheduledStart = None
    duration_minutes: DurationMinutes = 120
    recording: RecordingMode = Field(
        RecordingMode.OFF,
        description="off, manual (the teacher starts/stops it) or automatic (from the teacher's "
        "join). Daily bills recorded minutes.",
    )

    model_config = RequestModel.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "title": "Algebra II — quadratic equations",
                    "description": "Bring last week's worksheet.",
                    "max_participants": 12,
                    "scheduled_start_at": "2030-09-01T15:00:00Z",
                    "duration_minutes": 90,
                }
            ]
        }
    }


class SessionUpdate(RequestModel):
    """Only the fields sent are changed. `status` only moves forward; `ended` ends the session.

    Null is accepted only where it means something (no description, no planned start);
    the other fields may be left out but not nulled. Their `None` default is the Python
    side's "not sent" (pydantic does not validate defaults), so the schema says not null.
    """

    title: Title = Field(default=None)  # type: ignore[assignment]  # None: not sent
    description: Description | None = None
    max_participants: MaxParticipants = Field(default=None)  # type: ignore[assignment]  # None: not sent
    scheduled_start_at: ScheduledStart = None
    duration_minutes: DurationMinutes = Field(default=None)  # type: ignore[assignment]  # None: not sent
    status: SessionStatus = Field(default=None)  # type: ignore[assignment]  # None: not sent
    recording: RecordingMode = Field(  # type: ignore[assignment]  # None: not sent
        default=None, description="Only before the session starts."
    )

    model_config = RequestModel.model_config | {
        "json_schema_extra": {"examples": [{"title": "Algebra II (moved)", "max_participants": 20}]}
    }


class SessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    description: str | None
    teacher_id: uuid.UUID
    status: SessionStatus = Field(description="Effective status: past expires_at reads as ended.")
    max_participants: int
    room_name: str
    room_url: str
    room_code: str = Field(examples=["ABCD-EFGH"], description="Share this with students.")
    scheduled_start_at: datetime | None
    duration_minutes: int
    recording: RecordingMode
    screen_sharer_id: uuid.UUID | None = Field(
        description="The student the teacher lets share their screen now, if any."
    )
    expires_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    created_at: datetime
    updated_at: datetime
    seated_count: int = Field(description="Students holding a seat, in the call or not.")
    participant_count: int = Field(
        description="Students holding a seat: the same number as `seated_count`.",
        deprecated=True,
    )
    present_count: int = Field(
        description=(
            "Participants (teacher included) in the Daily call now, as Daily's webhooks report "
            "it; a removed student never counts. Not the seats handed out: see `seated_count`."
        )
    )


class SessionCreated(SessionRead):
    teacher_join_url: str = Field(
        description="Room URL with a short-lived owner token; call /join again at class time."
    )


class SessionPage(Page[SessionRead]):
    pass


class JoinByCode(RequestModel):
    room_code: Annotated[str, Field(min_length=1, max_length=32, examples=["ABCD-EFGH"])]


class JoinInfo(BaseModel):
    """What a client needs to enter the Daily room: pass `room_url` and `token` to `join()`."""

    session_id: uuid.UUID
    role: ParticipantRole
    room_name: str
    room_url: str
    token: str
    join_url: str
    expires_at: datetime = Field(description="When the token stops admitting its holder.")


class ParticipantRead(BaseModel):
    user_id: uuid.UUID
    full_name: str
    role: ParticipantRole
    status: RosterStatus = Field(
        description=(
            "`seated`: holds a place, not in the call; `in_call`: in the Daily call now; "
            "`left`: was in the call and left, left with `POST …/leave`, or the session ended; "
            "`removed`: removed by the teacher."
        )
    )
    first_joined_at: datetime
    last_joined_at: datetime
    left_at: datetime | None
    removed: bool


class ParticipantList(BaseModel):
    items: list[ParticipantRead]
