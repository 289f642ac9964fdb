"""Free-text fields (titles, names): the published pattern and the server agree on what
counts as blank, character by character, so a generated client refuses exactly what the
server refuses."""

import re
import sys

import pytest

from app.schemas.common import NOT_BLANK_PATTERN, WHITESPACE
from app.schemas.session import SessionCreate


def test_whitespace_is_what_python_strips() -> None:
    assert set(WHITESPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}


@pytest.mark.parametrize("title", ["a", " a ", "\ufeff", "\x1c" + "b", "x" * 200])
def test_what_the_pattern_allows_the_server_accepts(title: str) -> None:
    assert re.match(NOT_BLANK_PATTERN, title)
    SessionCreate(title=title)


@pytest.mark.parametrize("title", ["", " ", "\f", "\x1c\x85\u3000", "a\x00"])
def test_what_the_pattern_refuses_the_server_refuses(title: str) -> None:
    assert not re.match(NOT_BLANK_PATTERN, title)
    with pytest.raises(ValueError):
        SessionCreate(title=title)
