"""Meeting tokens: REST-minted and self-signed ones validate (and fail) identically."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from jose import jwt

from .conftest import API_KEY, Emulated


def _claims(token: str) -> dict[str, object]:
    return jwt.get_unverified_claims(token)


def test_minted_token_uses_dailys_short_claims(emu: Emulated) -> None:
    exp = int(time.time()) + 600
    token = emu.token(
        room_name="r", is_owner=True, user_name="Ana", user_id="u-1", enable_screenshare=False,
        exp=exp,
    )  # fmt: skip
    claims = _claims(token)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert {k: claims[k] for k in ("r", "o", "u", "ud", "ss", "exp", "d")} == {
        "r": "r", "o": True, "u": "Ana", "ud": "u-1", "ss": False, "exp": exp, "d": emu.domain_id,
    }  # fmt: skip
    assert isinstance(claims["iat"], int)
    jwt.decode(token, API_KEY, algorithms=["HS256"])  # signed with the API key


def test_validate_returns_long_form_properties(emu: Emulated) -> None:
    exp = int(time.time()) + 600
    token = emu.token(room_name="r", user_name="Ana", user_id="u-1", exp=exp)
    response = emu.api.get(f"/v1/meeting-tokens/{token}")
    assert response.status_code == 200
    assert response.json() == {
        "room_name": "r", "user_name": "Ana", "user_id": "u-1", "exp": exp, "is_owner": False,
    }  # fmt: skip


def test_self_signed_token_validates_like_a_minted_one(emu: Emulated) -> None:
    token = emu.self_signed(r="r", o=True, u="Teacher", exp=int(time.time()) + 60)
    body = emu.api.get(f"/v1/meeting-tokens/{token}").json()
    assert body["room_name"] == "r"
    assert body["is_owner"] is True
    assert body["user_name"] == "Teacher"


@pytest.mark.parametrize(
    "make",
    [
        lambda e: e.self_signed(key="not-the-key", r="r"),
        lambda e: e.self_signed(r="r", d="00000000-0000-0000-0000-000000000000"),
        lambda e: e.self_signed(r="r", exp=int(time.time()) - 5),
        lambda e: jwt.encode({"r": "r", "d": e.domain_id}, API_KEY, algorithm="HS512"),
        lambda e: "not-a-jwt",
    ],
    ids=["wrong-key", "wrong-domain", "expired", "wrong-alg", "garbage"],
)
def test_invalid_tokens_are_400(emu: Emulated, make: Callable[[Emulated], str]) -> None:
    response = emu.api.get(f"/v1/meeting-tokens/{make(emu)}")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid-request-error"


def test_future_nbf_needs_ignore_nbf(emu: Emulated) -> None:
    token = emu.self_signed(r="r", nbf=int(time.time()) + 600)
    assert emu.api.get(f"/v1/meeting-tokens/{token}").status_code == 400
    ok = emu.api.get(f"/v1/meeting-tokens/{token}", params={"ignoreNbf": "true"})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "properties",
    [
        {"room": "r"},  # unknown property
        {"is_owner": "yes"},
        {"user_id": "x" * 37},
        {"exp": int(time.time()) - 10},
        {"room_name": None},
    ],
)
def test_bad_token_properties_are_refused(emu: Emulated, properties: dict[str, object]) -> None:
    response = emu.api.post("/v1/meeting-tokens", json={"properties": properties})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid-request-error"


def test_token_body_must_only_have_properties(emu: Emulated) -> None:
    assert emu.api.post("/v1/meeting-tokens", json={"room_name": "r"}).status_code == 400
