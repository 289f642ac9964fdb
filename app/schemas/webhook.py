from typing import Literal

from pydantic import BaseModel, Field


class WebhookAck(BaseModel):
    """Daily only looks at the status code; `status` is for people reading logs and tests."""

    status: Literal["test", "processed", "duplicate", "ignored"] = Field(
        description="test: Daily's creation probe; processed: applied and stored; duplicate: "
        "seen before, nothing changed; ignored: not for one of our sessions."
    )
