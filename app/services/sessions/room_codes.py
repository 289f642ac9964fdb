"""Room codes: what a teacher reads out and a student types.

Eight symbols from a 31-symbol alphabet without look-alikes (no I, L, O, 0, 1):
31**8 ≈ 8.5e11, about 40 bits — hopeless to guess once failed lookups are
rate-limited. Shown as `ABCD-EFGH`; typed any way (case, spaces, hyphens).
"""

import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_VALID = frozenset(ALPHABET)


def generate_room_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_room_code(raw: str) -> str | None:
    """The canonical code for what a person typed, or None when it cannot be one."""
    code = raw.replace(" ", "").replace("-", "").upper()
    if len(code) != CODE_LENGTH or not set(code) <= _VALID:
        return None
    return code


def format_room_code(code: str) -> str:
    half = CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"
