import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.models.event import EventSource
from app.schemas.common import Page


class SessionEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    type: str = Field(examples=["session.started", "participant.joined"])
    source: EventSource
    actor_id: uuid.UUID | None
    external_id: str | None = Field(description="Daily's event id, for webhook events.")
    payload: dict[str, Any]
    occurred_at: datetime


class SessionEventPage(Page[SessionEventRead]):
    pass
