"""Which error classes a route can raise, found by walking its call graph in the source.

From the endpoint and each of its dependencies, every function, method or class of `app.`
that is named (called or passed on, as `committed(db, joins.join_by_code, ...)` does) is
followed; a `raise` of a `TutoriumError` class, or of a call whose return annotation is
one, is collected. Methods are found through `self`, through parameters' annotations and
through what `__init__` assigns to `self`. Errors raised inside a `try` whose handler for
them does not raise again are dropped (the route compensates and answers something else).
Lambdas are not followed: here they are deferred steps (`after_commit`, `on_rollback`)
whose failures are logged, never answered.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any

from app.core.errors import TutoriumError

Errors = set[type[TutoriumError]]


def _ours(obj: object) -> bool:
    return getattr(obj, "__module__", "").startswith("app.")


def _is_error(obj: object) -> bool:
    return isinstance(obj, type) and issubclass(obj, TutoriumError)


def _plain(annotation: object) -> object:
    """`Annotated[X, ...]` -> X; `X | None` -> X."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        candidates = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        annotation = candidates[0] if len(candidates) == 1 else None
    return annotation


def _hints(func: Callable[..., Any]) -> dict[str, object]:
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception:
        return {}
    return {name: _plain(hint) for name, hint in hints.items()}


def _source_tree(func: Callable[..., Any]) -> ast.Module | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError):
        return None


def _instance_attributes(cls: type) -> dict[str, object]:
    """What `__init__` assigns to `self.name`: a class it builds or an annotated parameter."""
    init = cls.__dict__.get("__init__")
    if init is None or not _ours(init):
        return {}
    hints = _hints(init)
    found: dict[str, object] = {}
    tree = _source_tree(init)
    for node in ast.walk(tree) if tree is not None else ():
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
            ):
                value = node.value
                if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                    found[target.attr] = init.__globals__.get(value.func.id)
                elif isinstance(value, ast.Name) and value.id in hints:
                    found[target.attr] = hints[value.id]
    return found


class _Walker:
    def __init__(self) -> None:
        self.seen: set[object] = set()

    def errors_of(self, func: Callable[..., Any]) -> Errors:
        func = inspect.unwrap(func)
        if func in self.seen or not _ours(func) or not hasattr(func, "__code__"):
            return set()
        self.seen.add(func)
        tree = _source_tree(func)
        if tree is None:  # generated code (a dataclass's __init__) raises nothing of ours
            return set()
        owner = self._owner(func)
        scope = {**func.__globals__, **_hints(func)}
        return self._block(tree.body, scope, owner)

    @staticmethod
    def _owner(func: Callable[..., Any]) -> type | None:
        parts = func.__qualname__.split(".")
        owner = func.__globals__.get(parts[0]) if len(parts) > 1 else None
        return owner if isinstance(owner, type) else None

    def _resolve(self, node: ast.AST, scope: dict[str, object], owner: type | None) -> object:
        if isinstance(node, ast.Name):
            if node.id == "self":
                return owner
            return scope.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self._resolve(node.value, scope, owner)
            if base is None:
                return None
            if isinstance(base, type) and node.attr not in dir(base):
                return _instance_attributes(base).get(node.attr)
            return getattr(base, node.attr, None)
        return None

    def _raised(self, node: ast.Raise, scope: dict[str, object], owner: type | None) -> Errors:
        if node.exc is None:
            return set()
        target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        obj = self._resolve(target, scope, owner)
        if _is_error(obj):
            return {obj}  # type: ignore[set-item]
        if callable(obj) and _ours(obj):
            returned = _hints(obj).get("return")  # type: ignore[arg-type]
            if _is_error(returned):
                return {returned}  # type: ignore[set-item]
        return set()

    def _block(self, nodes: list[ast.stmt], scope: dict[str, object], owner: type | None) -> Errors:
        found: Errors = set()
        for node in nodes:
            found |= self._node(node, scope, owner)
        return found

    def _node(self, node: ast.AST, scope: dict[str, object], owner: type | None) -> Errors:
        if isinstance(node, ast.Lambda):
            return set()
        if isinstance(node, ast.Try):
            inner = self._block(node.body, scope, owner)
            for handler in node.handlers:
                caught = self._resolve(handler.type, scope, owner) if handler.type else Exception
                reraises = any(isinstance(n, ast.Raise) for n in ast.walk(handler))
                if isinstance(caught, type) and not reraises:
                    inner = {error for error in inner if not issubclass(error, caught)}
                inner |= self._block(handler.body, scope, owner)
            return inner | self._block(node.orelse + node.finalbody, scope, owner)
        found: Errors = set()
        if isinstance(node, ast.Raise):
            found |= self._raised(node, scope, owner)
        if isinstance(node, ast.Name | ast.Attribute):
            found |= self._follow(self._resolve(node, scope, owner))
        for child in ast.iter_child_nodes(node):
            found |= self._node(child, scope, owner)
        return found

    def _follow(self, obj: object) -> Errors:
        if isinstance(obj, types.FunctionType | types.MethodType):
            return self.errors_of(obj)
        if isinstance(obj, type) and _ours(obj) and not _is_error(obj):
            init = obj.__dict__.get("__init__")
            return self.errors_of(init) if init is not None else set()
        return set()


def route_errors(callables: Iterator[Callable[..., Any]]) -> Errors:
    walker = _Walker()
    found: Errors = set()
    for func in callables:
        found |= walker.errors_of(func)
    return found
