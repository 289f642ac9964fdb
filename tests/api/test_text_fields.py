"""Free-text fields (titles, names): the published pattern and the server agree on what
counts as blank, character by character, so a generated client refuses exactly what the
server refuses."""

import re
import sys

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.schemas.common import NOT_BLANK_PATTERN, WHITESPACE
from app.schemas.session import SessionCreate

REGISTER = "/api/v1/auth/register"


def test_whitespace_is_what_python_strips() -> None:
    assert set(WHITESPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}


@pytest.mark.parametrize("title", ["a", " a ", "\ufeff", "\x1c" + "b", "x" * 200])
def test_what_the_pattern_allows_the_server_accepts(title: str) -> None:
    assert re.match(NOT_BLANK_PATTERN, title)
    SessionCreate(title=title)


@pytest.mark.parametrize("title", ["", " ", "\f", "\x1c\x85\u3000", "a\x00"])
def test_what_the_pattern_refuses_the_server_refuses(title: str) -> None:
    assert not re.match(NOT_BLANK_PATTERN, title)
    with pytest.raises(ValidationError, match="title"):
        SessionCreate(title=title)


def test_full_names_are_stored_stripped_and_never_blank(client: TestClient) -> None:
    account = {"email": "ada@example.com", "password": "correct horse battery", "role": "teacher"}
    blank = client.post(REGISTER, json={**account, "full_name": "\u3000 "})
    assert blank.status_code == 422, blank.text
    created = client.post(REGISTER, json={**account, "full_name": " Ada Lovelace\n"})
    assert created.status_code == 201, created.text
    assert created.json()["full_name"] == "Ada Lovelace"
