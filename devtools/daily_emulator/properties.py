"""Room and meeting-token property schemas, validated as strictly as Daily validates them.

The names and types come from Daily's OpenAPI spec as mirrored by daily-co/daily-ruby
(`RoomProperties` and `Properties` attribute_map / openapi_types). The emulator's value is in
refusing what Daily refuses: a typo'd property that a mock silently accepts is a production 400.
Deliberate deviations: room and token `exp`/`nbf` accept floats (Daily accepts `time.time() + N`
from pipecat's production client), and token properties also accept the extra names that Daily's
self-signing table lists (`knocking`, `intercom_join_alert`, `meeting_join_hook`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import invalid_request

BOOL = "boolean"
INT = "integer"
NUMBER = "number"
STRING = "string"
OBJECT = "object"
ARRAY = "array"

LANGS = (
    "da", "de", "en", "es", "fi", "fr", "it", "jp", "ka", "nl", "no", "pt", "pt-BR", "pl", "ru",
    "sv", "tr", "user",
)  # fmt: skip
RECORDING_TYPES = ("cloud", "local", "raw-tracks")
MAX_PARTICIPANTS_LIMIT = 200
CAN_SEND = ("video", "audio", "screenVideo", "screenAudio", "customVideo", "customAudio")
CAN_ADMIN = ("participants", "streaming", "transcription")


@dataclass(frozen=True)
class Prop:
    kind: str
    choices: tuple[str, ...] | None = None
    max_len: int | None = None


_ROOM_BOOLS = (
    "enable_people_ui",
    "enable_pip_ui",
    "enable_emoji_reactions",
    "enable_hand_raising",
    "enable_prejoin_ui",
    "enable_live_captions_ui",
    "enable_network_ui",
    "enable_noise_cancellation_ui",
    "enable_breakout_rooms",
    "enable_knocking",
    "enable_screenshare",
    "enable_video_processing_ui",
    "enable_chat",
    "enable_shared_chat_history",
    "start_video_off",
    "start_audio_off",
    "owner_only_broadcast",
    "eject_at_room_exp",
    "enable_advanced_chat",
    "enable_hidden_participants",
    "enable_mesh_sfu",
    "enable_adaptive_simulcast",
    "enable_multiparty_adaptive_simulcast",
    "enforce_unique_user_ids",
    "experimental_optimize_large_calls",
    "disable_rtmp_geo_fallback",
    "enable_terse_logging",
    "enable_transcription_storage",
)

ROOM_PROPERTIES: dict[str, Prop] = {
    **{name: Prop(BOOL) for name in _ROOM_BOOLS},
    "nbf": Prop(NUMBER),
    "exp": Prop(NUMBER),
    "max_participants": Prop(INT),
    "enable_recording": Prop(STRING, RECORDING_TYPES),
    "eject_after_elapsed": Prop(INT),
    "sfu_switchover": Prop(NUMBER),
    "lang": Prop(STRING, LANGS),
    "meeting_join_hook": Prop(STRING, max_len=255),
    "geo": Prop(STRING),
    "rtmp_geo": Prop(STRING),
    "recordings_bucket": Prop(OBJECT),
    "auto_transcription_settings": Prop(OBJECT),
    "transcription_bucket": Prop(OBJECT),
    "recordings_template": Prop(STRING, max_len=1024),
    "streaming_endpoints": Prop(ARRAY),
    "permissions": Prop(OBJECT),
}

_TOKEN_BOOLS = (
    "eject_at_token_exp",
    "is_owner",
    "enable_screenshare",
    "start_video_off",
    "start_audio_off",
    "enable_prejoin_ui",
    "enable_recording_ui",
    "enable_live_captions_ui",
    "enable_terse_logging",
    "start_cloud_recording",
    "auto_start_transcription",
    "close_tab_on_exit",
    "knocking",
    "intercom_join_alert",
)

TOKEN_PROPERTIES: dict[str, Prop] = {
    **{name: Prop(BOOL) for name in _TOKEN_BOOLS},
    "room_name": Prop(STRING),
    "eject_after_elapsed": Prop(INT),
    "nbf": Prop(NUMBER),
    "exp": Prop(NUMBER),
    "user_name": Prop(STRING),
    "user_id": Prop(STRING, max_len=36),
    "enable_recording": Prop(STRING, RECORDING_TYPES),
    "start_cloud_recording_opts": Prop(OBJECT),
    "redirect_on_meeting_exit": Prop(STRING),
    "lang": Prop(STRING, LANGS),
    "meeting_join_hook": Prop(STRING, max_len=255),
    "permissions": Prop(OBJECT),
}


def _type_ok(kind: str, value: Any) -> bool:
    """JSON-type check; `bool` is excluded from numbers because Python's True == 1."""
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == STRING:
        return isinstance(value, str)
    if kind == OBJECT:
        return isinstance(value, dict)
    return isinstance(value, list)


def check_permissions(value: dict[str, Any]) -> None:
    """Daily's `permissions` object: camelCase keys, each bool or a list of known values."""
    allowed = {"hasPresence": None, "canSend": CAN_SEND, "canAdmin": CAN_ADMIN, "canReceive": ()}
    for key, item in value.items():
        if key not in allowed:
            raise invalid_request(f"permissions: unknown permission '{key}'")
        if key == "canReceive":
            if not isinstance(item, dict):
                raise invalid_request("permissions: canReceive must be an object")
            continue
        choices = allowed[key]
        if isinstance(item, bool):
            continue
        if choices and isinstance(item, list) and all(v in choices for v in item):
            continue
        raise invalid_request(f"permissions: invalid value for '{key}'")


def _check_value(what: str, name: str, prop: Prop, value: Any, now: float) -> None:
    if not _type_ok(prop.kind, value):
        raise invalid_request(f"{what} property '{name}' must be a {prop.kind}")
    if prop.choices is not None and value not in prop.choices:
        raise invalid_request(f"{what} property '{name}' must be one of {', '.join(prop.choices)}")
    if prop.max_len is not None and len(value) > prop.max_len:
        raise invalid_request(f"{what} property '{name}' is longer than {prop.max_len} characters")
    if name == "exp" and value <= now:
        raise invalid_request(f"exp was '{value}', which is in the past rather than in the future")
    if name == "max_participants" and not 1 <= value <= MAX_PARTICIPANTS_LIMIT:
        raise invalid_request(f"max_participants must be between 1 and {MAX_PARTICIPANTS_LIMIT}")
    if name in ("eject_after_elapsed",) and value < 0:
        raise invalid_request(f"{name} must not be negative")
    if name == "permissions":
        check_permissions(value)


def _validate(
    what: str, specs: dict[str, Prop], properties: Any, now: float, *, allow_null: bool
) -> dict[str, Any]:
    if not isinstance(properties, dict):
        raise invalid_request("properties must be an object")
    for name, value in properties.items():
        prop = specs.get(name)
        if prop is None:
            raise invalid_request(f"'{name}' is not a valid {what} property")
        if value is None:
            if allow_null:
                continue
            raise invalid_request(f"{what} property '{name}' must not be null")
        _check_value(what, name, prop, value, now)
    return dict(properties)


def validate_room_properties(properties: Any, now: float) -> dict[str, Any]:
    """Check room properties; a `null` value is allowed and means "reset to default"."""
    return _validate("room", ROOM_PROPERTIES, properties, now, allow_null=True)


def validate_token_properties(properties: Any, now: float) -> dict[str, Any]:
    """Check meeting-token properties; tokens are immutable, so `null` has no meaning."""
    return _validate("meeting token", TOKEN_PROPERTIES, properties, now, allow_null=False)
