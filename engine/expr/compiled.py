"""CompiledExpr and the compile cache: parse -> check -> generate, once per (source, form version)."""

from __future__ import annotations

import threading
from typing import Any, Mapping, Optional, Protocol

from engine.expr import nodes as n
from engine.expr.check import Checker
from engine.expr.errors import ExprError, Origin
from engine.expr.parser import parse
from engine.expr.pycompile import build, generate
from engine.expr.scope import Scope, SqlTables
from engine.expr.sqlcompile import FormAggregate, to_sql
from engine.expr.types import ExprType

CACHE_SIZE = 20_000


class DataAccess(Protocol):
    """What the Python back end needs beyond the record itself.

    ``fetch(form, id)`` returns the linked record (a mapping by field name) or None;
    ``scalar(select)`` runs a SQLAlchemy select and returns the single value;
    ``tables`` maps forms to SQLAlchemy tables (used to build those selects).
    """

    tables: SqlTables

    def fetch(self, form: str, id: int) -> Optional[Mapping[str, Any]]: ...

    def scalar(self, statement: Any) -> Any: ...


class CompiledExpr:
    """A checked expression, compiled once to a Python function and translatable to SQL.

    ``evaluate(record, ctx, *, old=None, data=None)`` is the generated function itself (no
    wrapper), so calling it costs one Python call.
    """

    __slots__ = ("source", "type", "names", "python_source", "tree", "form", "evaluate", "__weakref__")

    def __init__(self, source: str, tree: n.Node, names: frozenset[str], form: str) -> None:
        self.source = source
        self.tree = tree
        self.type: ExprType = tree.t
        self.names = names
        self.form = form
        self.python_source, bindings = generate(tree, lambda agg: FormAggregate(agg, form))
        self.evaluate = build(self.python_source, bindings, f"<expr {source[:40]!r}>")

    def to_sql(self, tables: SqlTables, ctx: Any) -> Any:
        """SQLAlchemy ColumnElement for a WHERE on ``tables.table(form)`` (or a value to select)."""
        return to_sql(self.tree, tables, ctx, self.form)

    def __repr__(self) -> str:
        return f"CompiledExpr({self.source!r}, type={self.type.value})"


_cache: dict[tuple[str, str, str, Optional[ExprType]], CompiledExpr] = {}
_lock = threading.Lock()


def compile_expression(
    source: str,
    scope: Scope,
    *,
    expect: Optional[ExprType] = None,
    file: str = "<expr>",
    line: int = 1,
    column: int = 1,
) -> CompiledExpr:
    """Parse, check against ``scope`` and compile; cached by (source, form, version, expect)."""
    key = (source, scope.form, scope.version, expect)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    tree = parse(source, file=file, line=line, column=column)
    origin = Origin(source, file, line, column)
    checker = Checker(scope, origin)
    try:
        checked = checker.check(tree, expect)
        compiled = CompiledExpr(source, checked, frozenset(checker.names), scope.form)
    except (RecursionError, SyntaxError, MemoryError):
        raise origin.error("expression is too complex; split it into computed fields", 1, 1) from None
    with _lock:
        if len(_cache) >= CACHE_SIZE:
            _cache.clear()
        return _cache.setdefault(key, compiled)


def clear_cache() -> None:
    """Forget every compiled expression (tests; a reloaded pack changes versions anyway)."""
    with _lock:
        _cache.clear()


__all__ = ["CompiledExpr", "DataAccess", "ExprError", "clear_cache", "compile_expression"]
