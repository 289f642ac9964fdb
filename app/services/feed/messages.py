"""The feed's wire format: one server-sent event per logged event, encoded once for everyone.

An event is encoded when the process first reads it, once for the teacher and once for
students, and those bytes go to every subscriber: a thousand viewers cost one encoding.
"""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.crud.feed import LoggedEvent
from app.models.participant import ParticipantRole

# What each participant event makes of the participant's roster status (issue 13's names).
PARTICIPANT_STATUS = {
    "participant.seated": "seated",
    "participant.joined": "in_call",  # entered the call: Daily's webhook, or backfill
    "participant.left": "left",
    "participant.removed": "removed",
}
SESSION_TYPES = frozenset({"session.started", "session.updated", "session.ended"})


def frame(event: str, data: Any, *, position: int | None = None) -> bytes:
    """One server-sent event. JSON never holds a raw newline, so `data` is one line."""
    head = f"id: {position}\n" if position is not None else ""
    body = json.dumps(data, separators=(",", ":"), default=str)
    return f"{head}event: {event}\ndata: {body}\n\n".encode()


def retry_hint(milliseconds: int) -> bytes:
    return f"retry: {milliseconds}\n\n".encode()


HEARTBEAT = b": heartbeat\n\n"
RESYNC = frame("resync", {"reason": "too far behind; reconnect with Last-Event-ID"})


@dataclass(frozen=True, slots=True)
class FeedMessage:
    """A logged event as the feed sends it. Events the feed does not show still pass
    through (no frames), so a subscriber sees every position and can tell a gap."""

    position: int
    type: str
    subject: uuid.UUID | None
    teacher_frame: bytes | None
    student_frame: bytes | None

    @property
    def ends_every_stream(self) -> bool:
        return self.type == "session.ended"

    def ends_stream_of(self, user_id: uuid.UUID) -> bool:
        """A removed student's feed ends with their own removal."""
        return self.type == "participant.removed" and self.subject == user_id


def to_message(event: LoggedEvent) -> FeedMessage:
    status = PARTICIPANT_STATUS.get(event.type)
    if status is not None:
        if event.user_id is None or event.role is None:  # not one of the session's people
            return FeedMessage(event.position, event.type, None, None, None)
        for_student = {"user_id": event.user_id, "status": status}
        for_teacher = {
            **for_student,
            "name": event.name,
            "role": ParticipantRole(event.role).value,
        }
        return FeedMessage(
            event.position,
            event.type,
            event.user_id,
            frame(event.type, for_teacher, position=event.position),
            frame(event.type, for_student, position=event.position),
        )
    if event.type in SESSION_TYPES:
        shown = frame(event.type, event.payload, position=event.position)
        return FeedMessage(event.position, event.type, None, shown, shown)
    return FeedMessage(event.position, event.type, None, None, None)


@dataclass(frozen=True, slots=True)
class FeedBatch:
    """Consecutive messages of one session as the listener read them, with each view's frames
    joined once: a subscriber whose cursor is just before `first` sends one prepared string,
    so the fan-out costs the same per subscriber however many events a batch holds."""

    messages: tuple[FeedMessage, ...]
    first: int
    last: int
    teacher_bytes: bytes
    student_bytes: bytes
    teacher_last_shown: int | None
    student_last_shown: int | None
    removed: frozenset[uuid.UUID]  # students whose stream ends in this batch
    ends_every_stream: bool

    @classmethod
    def of(cls, messages: Sequence[FeedMessage]) -> "FeedBatch":
        teacher = [m for m in messages if m.teacher_frame is not None]
        student = [m for m in messages if m.student_frame is not None]
        return cls(
            messages=tuple(messages),
            first=messages[0].position,
            last=messages[-1].position,
            teacher_bytes=b"".join(m.teacher_frame or b"" for m in teacher),
            student_bytes=b"".join(m.student_frame or b"" for m in student),
            teacher_last_shown=teacher[-1].position if teacher else None,
            student_last_shown=student[-1].position if student else None,
            removed=frozenset(
                m.subject for m in messages if m.type == "participant.removed" and m.subject
            ),
            ends_every_stream=any(m.ends_every_stream for m in messages),
        )
