"""Meeting tokens: minting in Daily's short-claim format and validating any token Daily would.

Daily's REST-minted tokens and self-signed tokens are the same thing: HS256 JWTs signed with the
domain's API key, carrying abbreviated claims (`r`, `o`, `ud`, ...) and the domain id in `d`.
Validating both through one function is the point: Tutorium may switch between them freely.
Claims without a documented abbreviation (e.g. `enable_prejoin_ui`) are kept under their long
name, and `p` (permissions) is passed through unchanged - its inner abbreviations are not
documented in anything we could read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jose import JWTError, jwt

from .errors import JoinRefused

ALGORITHM = "HS256"

LONG_TO_SHORT = {
    "nbf": "nbf",
    "exp": "exp",
    "domain_id": "d",
    "room_name": "r",
    "user_id": "ud",
    "user_name": "u",
    "is_owner": "o",
    "knocking": "k",
    "close_tab_on_exit": "ctoe",
    "redirect_on_meeting_exit": "rome",
    "intercom_join_alert": "ij",
    "start_cloud_recording": "sr",
    "start_cloud_recording_opts": "sro",
    "auto_start_transcription": "ast",
    "enable_recording": "er",
    "enable_screenshare": "ss",
    "start_video_off": "vo",
    "start_audio_off": "ao",
    "meeting_join_hook": "mjh",
    "eject_at_token_exp": "ejt",
    "eject_after_elapsed": "eje",
    "lang": "uil",
    "enable_recording_ui": "erui",
    "permissions": "p",
}
SHORT_TO_LONG = {short: long for long, short in LONG_TO_SHORT.items()}

_SKIP_CHECKS = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "verify_sub": False,
    "verify_jti": False,
    "verify_at_hash": False,
}


@dataclass(frozen=True)
class MeetingToken:
    """A verified token; accessors read Daily's short claims with Daily's defaults."""

    claims: dict[str, Any]

    @property
    def room_name(self) -> str | None:
        return self.claims.get("r")

    @property
    def user_id(self) -> str | None:
        return self.claims.get("ud")

    @property
    def user_name(self) -> str | None:
        return self.claims.get("u")

    @property
    def is_owner(self) -> bool:
        return self.claims.get("o") is True

    @property
    def enable_screenshare(self) -> bool:
        return self.claims.get("ss", True) is not False

    def long_form(self) -> dict[str, Any]:
        """What `GET /meeting-tokens/:token` returns: long property names, no `d`/`iat`."""
        props = {
            SHORT_TO_LONG.get(claim, claim): value
            for claim, value in self.claims.items()
            if claim not in ("d", "iat")
        }
        props.setdefault("is_owner", False)
        return props


def mint_token(properties: dict[str, Any], *, api_key: str, domain_id: str, now: float) -> str:
    """Sign validated long-form properties the way Daily's `POST /meeting-tokens` does."""
    claims = {LONG_TO_SHORT.get(name, name): value for name, value in properties.items()}
    claims["d"] = domain_id
    claims["iat"] = int(now)
    return jwt.encode(claims, api_key, algorithm=ALGORITHM)


def verify_token(
    token: str, *, api_key: str, domain_id: str, now: float, ignore_nbf: bool = False
) -> MeetingToken:
    """Accept a token only if Daily would: HS256 with the API key, our domain, in its window.

    Raises JoinRefused with the daily-js error type (`not-allowed`, `exp-token`, `nbf-token`),
    which the REST validate endpoint turns into a 400.
    """
    try:
        if jwt.get_unverified_header(token).get("alg") != ALGORITHM:
            raise JoinRefused("not-allowed", "meeting token is not signed with HS256")
        claims = jwt.decode(token, api_key, algorithms=[ALGORITHM], options=_SKIP_CHECKS)
    except JWTError as exc:
        raise JoinRefused("not-allowed", "meeting token signature is invalid") from exc
    if claims.get("d") != domain_id:
        raise JoinRefused("not-allowed", "meeting token is not for this domain")
    exp = claims.get("exp")
    if isinstance(exp, int | float) and exp <= now:
        raise JoinRefused("exp-token", "meeting token has expired")
    nbf = claims.get("nbf")
    if not ignore_nbf and isinstance(nbf, int | float) and nbf > now:
        raise JoinRefused("nbf-token", "meeting token is not valid yet (nbf is in the future)")
    return MeetingToken(claims)
