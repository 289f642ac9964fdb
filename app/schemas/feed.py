"""What the live feed sends: its ticket, and the data of its snapshot message."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.models.participant import ParticipantRole
from app.schemas.session import SessionRead

RosterStatus = Literal["seated", "in_call", "left", "removed"]


class FeedTicketRead(BaseModel):
    ticket: str = Field(description="Single use, for `GET …/feed?ticket=`; never log it.")
    expires_at: datetime


class RosterEntry(BaseModel):
    user_id: uuid.UUID
    name: str
    role: ParticipantRole
    status: RosterStatus


class FeedCounts(BaseModel):
    seated: int = Field(description="Students holding a seat, not in the call.")
    in_call: int = Field(description="Students in the call now.")


class TeacherSnapshot(BaseModel):
    """The first message of the teacher's feed."""

    session: SessionRead
    roster: list[RosterEntry]


class StudentSnapshot(BaseModel):
    """The first message of a student's feed: no other student's identity."""

    session: SessionRead
    counts: FeedCounts
