"""The statements the join path sends, rendered for PostgreSQL: pinned by a snapshot, so a
change to the SQL shows as a diff of `tests/snapshots/join_path.sql`, and shown whole in the
docstring of the function that sends each, so a reader never assembles them from fragments.

After a deliberate change: `UPDATE_SNAPSHOTS=1 pytest tests/crud/test_join_path_sql.py`,
then copy the new statement into its docstring (line breaks and indentation are free there).
"""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.dialects.postgresql import psycopg2
from sqlalchemy.sql import ClauseElement

from app.crud import participant as participant_crud
from app.crud import session as session_crud

SNAPSHOT = Path(__file__).parent.parent / "snapshots" / "join_path.sql"

# name -> (statement, the function that sends it), in the order a join sends them.
STATEMENTS: dict[str, tuple[ClauseElement, Callable[..., Any]]] = {
    "join target, by id": (session_crud._JOIN_TARGET["session_id"], session_crud.get_join_target),
    "join target, by room code": (
        session_crud._JOIN_TARGET["room_code"],
        session_crud.get_join_target,
    ),
    "rejoin": (participant_crud._REJOIN, participant_crud.take_seat),
    "take a new seat": (participant_crud._TAKE_NEW_SEAT, participant_crud.take_seat),
    "why not seated": (participant_crud._WHY_NOT_SEATED, participant_crud.take_seat),
    "teacher's first join: lock the session": (
        session_crud._LOCKED_BY_ID,
        session_crud.get_for_update,
    ),
}


def render(statement: ClauseElement) -> str:
    """As psycopg2 receives it (placeholders, casts), trailing spaces trimmed."""
    compiled = str(statement.compile(dialect=psycopg2.dialect()))
    return "\n".join(line.rstrip() for line in compiled.splitlines())


def _words(text: str) -> str:
    return " ".join(text.split())


def test_the_join_path_sql_matches_its_snapshot() -> None:
    rendered = "\n\n".join(f"-- {name}\n{render(st)};" for name, (st, _) in STATEMENTS.items())
    rendered += "\n"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(rendered)
    assert rendered == SNAPSHOT.read_text(), "the join path's SQL changed: see this module's doc"


# Shown as the statement by id with another last line (see the test after the next).
_SHOWN_AS_A_VARIANT = {"join target, by room code"}


@pytest.mark.parametrize("name", sorted(STATEMENTS.keys() - _SHOWN_AS_A_VARIANT))
def test_each_statement_is_shown_whole_in_the_docstring_of_its_sender(name: str) -> None:
    statement, sender = STATEMENTS[name]
    assert _words(render(statement)) in _words(sender.__doc__ or ""), (
        f"{sender.__qualname__}'s docstring does not show the statement '{name}' as sent"
    )


def test_the_room_code_lookup_is_the_id_lookup_with_another_where() -> None:
    by_id, by_code = (render(session_crud._JOIN_TARGET[key]) for key in ("session_id", "room_code"))
    id_head, _, _ = by_id.rpartition("WHERE ")
    code_head, _, code_where = by_code.rpartition("WHERE ")
    assert code_head == id_head
    assert _words(f"WHERE {code_where}") in _words(session_crud.get_join_target.__doc__ or "")
