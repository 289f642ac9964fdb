"""Switches for behaviours Daily does not promise, so tests can show what the service does
with and without them. Set with `POST /_emulator/behaviour`; `reset` restores the defaults."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import invalid_request, reject_unknown_keys


@dataclass
class Behaviour:
    # Daily does not document that `DELETE /rooms/:name` ejects the people in the call.
    delete_room_ejects: bool = False
    # Share (0-1) of new webhook events never sent (outcome `dropped`): a lost delivery, as
    # after exponential retries run out. Picked by a seeded generator, so a run repeats.
    webhook_drop_share: float = 0.0
    webhook_drop_seed: int = 0
    _random: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._random.seed(self.webhook_drop_seed)

    def to_api(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}

    def update(self, body: dict[str, Any]) -> None:
        reject_unknown_keys(body, tuple(self.to_api()))
        for name, value in body.items():
            kind = type(getattr(self, name))
            if isinstance(value, bool) is not (kind is bool) or not isinstance(value, int | float):
                raise invalid_request(f"{name} must be a {kind.__name__}")
            if kind is int and not isinstance(value, int):
                raise invalid_request(f"{name} must be an int")
            if name == "webhook_drop_share" and not 0 <= value <= 1:
                raise invalid_request("webhook_drop_share must be between 0 and 1")
            setattr(self, name, kind(value))
        self._random.seed(self.webhook_drop_seed)

    def drops_webhook(self) -> bool:
        return self.webhook_drop_share > 0 and self._random.random() < self.webhook_drop_share

    def restore_defaults(self) -> None:
        for name, value in Behaviour().to_api().items():
            setattr(self, name, value)
        self._random.seed(self.webhook_drop_seed)
