"""Switches for behaviours Daily does not promise, so tests can show what the service does
with and without them. Set with `POST /_emulator/behaviour`; `reset` restores the defaults."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .errors import invalid_request, reject_unknown_keys


@dataclass
class Behaviour:
    # Daily does not document that `DELETE /rooms/:name` ejects the people in the call.
    delete_room_ejects: bool = False

    def to_api(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, body: dict[str, Any]) -> None:
        reject_unknown_keys(body, tuple(f.name for f in fields(self)))
        for name, value in body.items():
            if not isinstance(value, bool):
                raise invalid_request(f"{name} must be a boolean")
            setattr(self, name, value)

    def restore_defaults(self) -> None:
        for name, value in asdict(Behaviour()).items():
            setattr(self, name, value)
