"""Daily's times: Unix seconds, as ints or floats, in its JSON and its webhook headers."""

import math
from datetime import UTC, datetime

_MILLISECONDS_ABOVE = 10**11  # a seconds value this large would be the year 5138


def unix_time(value: object) -> datetime | None:
    """A Unix time from Daily as an aware UTC datetime; milliseconds if huge.

    Nothing from Daily's side is trusted to have the right kind: a bool, a string, a
    non-positive or non-finite number, or one past datetime's range reads as absent (None).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value <= 0:
        return None
    seconds = value / 1000 if value > _MILLISECONDS_ABOVE else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def unix_seconds(moment: datetime) -> int:
    """What Daily's `exp` and `iat` take; a naive datetime would be guessed, so it is refused."""
    if moment.tzinfo is None:
        raise ValueError("Daily timestamps need a timezone-aware datetime")
    return int(moment.timestamp())
