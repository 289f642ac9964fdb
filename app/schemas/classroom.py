"""Classroom controls: recordings of a session's call and screen share by invitation."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models.recording import RecordingStatus
from app.schemas.common import RequestModel


class RecordingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="Daily's recording id.")
    status: RecordingStatus
    started_at: datetime | None
    duration_seconds: int | None
    error: str | None


class RecordingList(BaseModel):
    items: list[RecordingRead]


class RecordingLink(BaseModel):
    """Fetched from Daily for this request only: never stored, expires at `expires_at`."""

    download_link: str
    expires_at: datetime


class RecordingCommand(BaseModel):
    """What was asked of Daily; the recordings list follows Daily's webhooks."""

    status: str = Field(examples=["starting", "stopping"])


class ScreenShareUpdate(RequestModel):
    allowed: bool


class ScreenShareState(BaseModel):
    user_id: uuid.UUID
    allowed: bool
