"""Frozen AST nodes. The parser builds the syntax nodes; the checker returns a new tree in
which every node carries its static type ``t`` and names are replaced by resolved refs.

Back ends (Python, SQL, later JavaScript) are visitors over the *checked* tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from engine.expr.types import ExprType

ANY = ExprType.ANY


@dataclass(frozen=True)
class Span:
    """1-based line/column of the first character and the end (exclusive) inside the source."""

    line: int
    column: int
    end_line: int
    end_column: int


NOSPAN = Span(0, 0, 0, 0)


@dataclass(frozen=True)
class Node:
    span: Span = field(default=NOSPAN, compare=False, repr=False, kw_only=True)
    t: ExprType = field(default=ANY, kw_only=True)


# ---------------------------------------------------------------- syntax nodes
@dataclass(frozen=True)
class Literal(Node):
    value: Any  # None, bool, int, Decimal, str, date, datetime, timedelta


@dataclass(frozen=True)
class ListLit(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Path(Node):
    """A dotted name as written: ``stock``, ``customer.tier``, ``this.x``, ``my.roles``."""

    parts: tuple[str, ...]


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-" or "not"
    operand: Node


@dataclass(frozen=True)
class Arith(Node):
    op: str  # + - * / %
    left: Node
    right: Node


@dataclass(frozen=True)
class Compare(Node):
    op: str  # == != < <= > >= in "not in" contains startswith endswith
    left: Node
    right: Node


@dataclass(frozen=True)
class Between(Node):
    value: Node
    low: Node
    high: Node


@dataclass(frozen=True)
class IsEmpty(Node):
    value: Node
    negated: bool = False


@dataclass(frozen=True)
class Logic(Node):
    op: str  # "and" / "or"
    left: Node
    right: Node


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]
    where: Optional[Node] = None  # aggregate filter: count(x where cond)


# ---------------------------------------------------------------- resolved nodes (from check)
@dataclass(frozen=True)
class FieldRef(Node):
    """A scalar field of a row. depth 0 = the innermost row, 1 = the record outside it."""

    name: str
    column: str
    depth: int = 0


@dataclass(frozen=True)
class LinkRef(Node):
    """``customer.tier``: follow link fields (``hops``: (field, column, target form)) then read ``name``."""

    base: FieldRef
    hops: tuple[tuple[str, str, str], ...]  # further (field, column, target_form) after base
    target_form: str  # form holding the final field
    name: str
    column: str
    first_form: str  # form the base link points to


@dataclass(frozen=True)
class OldRef(Node):
    name: str


@dataclass(frozen=True)
class ContextRef(Node):
    name: str  # "me", "my.roles", "my.customer", "my.username"


@dataclass(frozen=True)
class Aggregate(Node):
    """``sum(lines.qty * lines.price)``, ``count(lines where qty > 1)``, ``count(order where ...)``.

    ``kind`` is "child" (a sub-table of the row: ``source`` is the table field) or "form"
    (another form: ``source`` is its name). ``body``/``where`` are checked against the inner
    row (depth 0); ``this.x`` inside is depth 1.
    """

    func: str
    kind: str
    source: str
    source_column: str
    form: str  # the inner form (child scope's form or the other form)
    body: Optional[Node]
    where: Optional[Node]
