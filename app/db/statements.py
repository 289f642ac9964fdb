"""A row lock and the statement it guards, sent to PostgreSQL as one query string."""

from typing import Any

from sqlalchemy import TextClause
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal


class LockThen(Executable, ClauseElement):
    """`lock; statement` in one round trip, for a connection in autocommit.

    PostgreSQL runs a query string of several statements as one implicit transaction,
    each statement with a snapshot of its own (READ COMMITTED), and commits it as soon as
    the last one ends. So the statement sees every row committed before the lock was
    granted, and the lock is released by that server-side commit: no client round trip,
    and no wait for the client's thread to get the GIL back, is ever made while other
    requests queue on the row. The rows returned are the statement's. The lock is plain
    SQL text, so it adds no result columns of its own; a parameter it shares with the
    statement is the statement's (same name, same value).
    """

    inherit_cache = True
    _traverse_internals = [
        ("lock", InternalTraversal.dp_clauseelement),
        ("statement", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, lock: TextClause, statement: ClauseElement) -> None:
        self.lock = lock
        self.statement = statement


@compiles(LockThen)
def _compile_lock_then(element: LockThen, compiler: SQLCompiler, **kw: Any) -> str:
    lock = compiler.process(element.lock, **kw)
    return f"{lock};\n{compiler.process(element.statement, **kw)}"
