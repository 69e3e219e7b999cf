"""Compile-time checks of a decision table: rows that can never fire (errors), gaps and
overlaps (warnings).

Each compiled input cell is analysed into a :class:`Test` over its input value:
``ANY`` (``-``), :class:`Values` (a literal, a list), :class:`Interval` (comparisons, ranges,
``between``) or :class:`Opaque` (anything else: ``!=``, conditions with ``?`` and other fields).
``ANY``, ``!=`` and ``not in`` (both opaque) accept a null input, as in expressions; the
analysed tests never do.

* Under ``hit: first`` a row is unreachable when one earlier row *subsumes* it: on every
  input the earlier cell matches everything the later cell matches. Opaque cells are only
  compared for being identical. A cell that matches no value at all (``[5..1)``) is also an
  error. Several earlier rows that together cover a later one are not detected.
* Gaps: the value space of each analysable input is cut at every literal the cells name
  (and at each ``options`` value), one representative value per piece; every combination
  of representatives no row matches is reported (null inputs are not considered; opaque
  cells are assumed to match).
* Overlaps (``hit: first``): two rows that both match some records, give different outputs,
  and neither is an exception carved out of the other (a later row that matches everything
  the earlier one does, like a last ``-, -, -`` row, is the usual fallback and not reported);
  where they cross the earlier row wins. Found on analysable cells only (an opaque cell
  overlaps only an identical one), so a reported overlap is certain.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Optional, Sequence, Union

from engine.errors import DefinitionError, Position
from engine.expr import nodes as n
from engine.rules.decision_cells import INPUT

MAX_COMBINATIONS = 50_000
MAX_GAPS_SHOWN = 5


@dataclass(frozen=True)
class AnyValue:
    """``-``: every value, null included."""


@dataclass(frozen=True)
class Values:
    values: frozenset[Any]


@dataclass(frozen=True)
class Interval:
    lo: Any = None  # None: unbounded
    lo_inc: bool = False
    hi: Any = None
    hi_inc: bool = False

    def contains(self, v: Any) -> bool:
        try:
            if self.lo is not None and not (self.lo < v or (self.lo_inc and self.lo == v)):
                return False
            return self.hi is None or self.hi > v or (self.hi_inc and self.hi == v)
        except TypeError:
            return False

    @property
    def empty(self) -> bool:
        if self.lo is None or self.hi is None:
            return False
        try:
            return self.lo > self.hi or (self.lo == self.hi and not (self.lo_inc and self.hi_inc))
        except TypeError:
            return False


@dataclass(frozen=True)
class Opaque:
    tree: n.Node  # checked trees compare equal ignoring spans


Test = Union[AnyValue, Values, Interval, Opaque]
ANY = AnyValue()


# ---------------------------------------------------------------- analysis
def analyse(tree: Optional[n.Node]) -> Test:
    """The Test a compiled cell (None for ``-``) stands for."""
    if tree is None:
        return ANY
    found = _analyse(tree)
    return found if found is not None else Opaque(tree)


def _is_input(node: n.Node) -> bool:
    return isinstance(node, n.FieldRef) and node.name == INPUT and node.depth == 0


def _literal(node: n.Node) -> Any:
    """A literal's value (None when not a non-null literal)."""
    if isinstance(node, n.Literal) and node.value is not None:
        return node.value
    if isinstance(node, n.Unary) and node.op == "-" and isinstance(node.operand, n.Literal):
        v = node.operand.value
        if isinstance(v, (int, Decimal, float)) and not isinstance(v, bool):
            return -v
    return None


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "=="}


def _analyse(node: n.Node) -> Optional[Test]:
    if isinstance(node, n.Compare):
        op, left, right = node.op, node.left, node.right
        if not _is_input(left) and _is_input(right) and op in _FLIP:
            op, left, right = _FLIP[op], right, left
        if not _is_input(left):
            return None
        if op == "in" and isinstance(right, n.ListLit):
            vals = [_literal(i) for i in right.items]
            return Values(frozenset(v for v in vals if v is not None))
        v = _literal(right)
        if v is None:
            return None
        if op == "==":
            return Values(frozenset([v]))
        if isinstance(v, bool):
            return None
        return {
            "<": Interval(hi=v),
            "<=": Interval(hi=v, hi_inc=True),
            ">": Interval(lo=v),
            ">=": Interval(lo=v, lo_inc=True),
        }.get(op)
    if isinstance(node, n.Between) and _is_input(node.value):
        lo, hi = _literal(node.low), _literal(node.high)
        if lo is None or hi is None:
            return None
        return Interval(lo, True, hi, True)
    if isinstance(node, n.Logic):
        a, b = _analyse(node.left), _analyse(node.right)
        if a is None or b is None:
            return None
        return _and(a, b) if node.op == "and" else _or(a, b)
    return None


def _and(a: Test, b: Test) -> Optional[Test]:
    if isinstance(a, Values):
        return Values(frozenset(v for v in a.values if _matches(b, v)))
    if isinstance(b, Values):
        return _and(b, a)
    if isinstance(a, Interval) and isinstance(b, Interval):
        lo, lo_inc = _tighter(a.lo, a.lo_inc, b.lo, b.lo_inc, higher=True)
        hi, hi_inc = _tighter(a.hi, a.hi_inc, b.hi, b.hi_inc, higher=False)
        return Interval(lo, lo_inc, hi, hi_inc)
    return None


def _tighter(x: Any, xi: bool, y: Any, yi: bool, higher: bool) -> tuple[Any, bool]:
    if x is None:
        return y, yi
    if y is None or x == y:
        return x, xi and (yi if y is not None else True)
    try:
        return (x, xi) if (x > y) == higher else (y, yi)
    except TypeError:
        return x, xi


def _or(a: Test, b: Test) -> Optional[Test]:
    if isinstance(a, Values) and isinstance(b, Values):
        return Values(a.values | b.values)
    return None


def _matches(test: Test, value: Any) -> bool:
    """Does ``test`` accept ``value`` (a representative; opaque tests are assumed to)?"""
    if isinstance(test, (AnyValue, Opaque)) or value is _WHATEVER:
        return True
    if value is _OTHER:
        return False
    if isinstance(test, Values):
        try:
            return value in test.values
        except TypeError:
            return False
    return test.contains(value)


def is_empty(test: Test) -> bool:
    """A test no value can pass."""
    return (isinstance(test, Values) and not test.values) or (isinstance(test, Interval) and test.empty)


def subsumes(a: Test, b: Test) -> bool:
    """True when every value ``b`` accepts, ``a`` accepts too (decidable cases only)."""
    if isinstance(a, AnyValue) or is_empty(b):
        return True
    if isinstance(b, AnyValue):
        return False
    if isinstance(a, Opaque) or isinstance(b, Opaque):
        return a == b
    if isinstance(b, Values):
        return all(_matches(a, v) for v in b.values)
    assert isinstance(b, Interval)
    if isinstance(a, Values):
        return b.lo is not None and b.lo == b.hi and b.lo_inc and b.hi_inc and _matches(a, b.lo)
    assert isinstance(a, Interval)
    try:
        low_ok = a.lo is None or (b.lo is not None and (a.lo < b.lo or (a.lo == b.lo and (a.lo_inc or not b.lo_inc))))
        high_ok = a.hi is None or (b.hi is not None and (a.hi > b.hi or (a.hi == b.hi and (a.hi_inc or not b.hi_inc))))
    except TypeError:
        return False
    return low_ok and high_ok


# ---------------------------------------------------------------- the checks
@dataclass(frozen=True)
class RowInfo:
    """What the checks need of a row: its tests (one per input) and where it stands."""

    number: int  # 1-based position among the rows
    tests: tuple[Test, ...]
    position: Position
    cell_positions: tuple[Position, ...]
    outputs: tuple[Any, ...] = ()  # the checked output trees (compare equal ignoring spans)


def unreachable_rows(rows: Sequence[RowInfo], hit: str) -> list[DefinitionError]:
    """Errors for cells that match nothing and, under ``first``, rows an earlier row subsumes."""
    errors: list[DefinitionError] = []
    for row in rows:
        for test, pos in zip(row.tests, row.cell_positions):
            if is_empty(test):
                errors.append(
                    DefinitionError(
                        f"row {row.number} can never fire: this cell matches no value",
                        pos,
                        "check the bounds of the range",
                    )
                )
        if hit != "first":
            continue
        for earlier in rows[: row.number - 1]:
            if all(subsumes(a, b) for a, b in zip(earlier.tests, row.tests)):
                if any(is_empty(t) for t in earlier.tests + row.tests):
                    continue
                errors.append(
                    DefinitionError(
                        f"row {row.number} can never fire: row {earlier.number} above it matches every "
                        f"record it matches (hit policy 'first')",
                        row.position,
                        f"move row {row.number} above row {earlier.number}, narrow row {earlier.number}, "
                        f"or remove row {row.number}",
                    )
                )
                break
    return errors


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_OTHER = _Marker("<other>")  # a value no list names
_WHATEVER = _Marker("<whatever>")  # an input no cell analyses: every test matches


def _step(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return dt.timedelta(seconds=1)
    if isinstance(v, dt.date):
        return dt.timedelta(days=1)
    if isinstance(v, (int, Decimal, float)) and not isinstance(v, bool):
        return 1
    return None


def _mid(a: Any, b: Any) -> Any:
    if isinstance(a, dt.date):
        return a + (b - a) / 2 if isinstance(a, dt.datetime) else a + dt.timedelta(days=(b - a).days // 2)
    return (a + b) / 2


def _show(v: Any) -> str:
    return f'"{v}"' if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)


@dataclass(frozen=True)
class Piece:
    """One piece of an input's value space: a representative value and what it stands for."""

    value: Any
    interval: Optional[Interval] = None  # numeric / date pieces (merged into ranges when shown)
    text: str = ""

    def describe(self) -> str:
        return self.text or _describe(self.interval)


def _describe(iv: Optional[Interval]) -> str:
    assert iv is not None
    if iv.lo is not None and iv.lo == iv.hi:
        return f"= {_show(iv.lo)}"
    if iv.lo is None:
        return f"{'<=' if iv.hi_inc else '<'} {_show(iv.hi)}"
    if iv.hi is None:
        return f"{'>=' if iv.lo_inc else '>'} {_show(iv.lo)}"
    return f"in {'[' if iv.lo_inc else '('}{_show(iv.lo)}..{_show(iv.hi)}{']' if iv.hi_inc else ')'}"


def representatives(tests: Sequence[Test], options: Optional[Sequence[Any]]) -> list[Piece]:
    """The pieces of one input's value space, in order."""
    values: set[Any] = set()
    bounds: set[Any] = set()
    for t in tests:
        if isinstance(t, Values):
            values |= t.values
        elif isinstance(t, Interval):
            bounds |= {b for b in (t.lo, t.hi) if b is not None}
    if options:
        return [Piece(o, text=f"= {_show(o)}") for o in options]
    if not bounds:
        if not values:
            return [Piece(_WHATEVER, text="any value")]
        if all(isinstance(v, bool) for v in values):
            return [Piece(True, text="= true"), Piece(False, text="= false")]
        return [Piece(v, text=f"= {_show(v)}") for v in _sorted(values)] + [Piece(_OTHER, text="any other value")]
    points = _sorted(bounds | values)
    if not all(_step(p) is not None for p in points):
        return [Piece(_WHATEVER, text="any value")]
    out = [Piece(points[0] - _step(points[0]), Interval(hi=points[0]))]
    for i, p in enumerate(points):
        out.append(Piece(p, Interval(p, True, p, True)))
        q = points[i + 1] if i + 1 < len(points) else None
        if q is not None:
            mid = _mid(p, q)
            if mid != p and mid != q:
                out.append(Piece(mid, Interval(p, False, q, False)))
    out.append(Piece(points[-1] + _step(points[-1]), Interval(lo=points[-1])))
    return out


def _sorted(values: set[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=repr)


Combo = tuple[Optional[tuple[int, int]], ...]  # per input: (first, last) piece index, None = any


def _merge(combos: set[Combo], sizes: Sequence[int]) -> list[Combo]:
    """Merge uncovered combinations: runs of adjacent pieces -> one span; a whole dimension -> any."""
    for k in range(len(sizes)):
        groups: dict[Combo, list[tuple[int, int]]] = {}
        for c in combos:
            span = c[k]
            assert span is not None
            groups.setdefault(c[:k] + (None,) + c[k + 1 :], []).append(span)
        merged: set[Combo] = set()
        for rest, spans in groups.items():
            spans.sort()
            runs: list[list[int]] = []
            for a, b in spans:
                if runs and a <= runs[-1][1] + 1:
                    runs[-1][1] = max(b, runs[-1][1])
                else:
                    runs.append([a, b])
            merged |= {rest[:k] + ((a, b),) + rest[k + 1 :] for a, b in runs}
        combos = merged
    full = [(0, size - 1) for size in sizes]
    out = [tuple(None if s == full[i] else s for i, s in enumerate(c)) for c in combos]
    return sorted(out, key=lambda c: tuple((-1, -1) if s is None else s for s in c))


def _span_text(pieces: Sequence[Piece], span: tuple[int, int]) -> str:
    a, b = span
    if a == b and pieces[a].value is not _OTHER:
        return pieces[a].describe()
    first, last = pieces[a].interval, pieces[b].interval
    if first is not None and last is not None:
        return _describe(Interval(first.lo, first.lo_inc, last.hi, last.hi_inc))
    chosen = pieces[a : b + 1]
    if any(p.value is _OTHER for p in chosen):
        rest = [p for p in pieces if p not in chosen]
        shown = [_show(p.value) for p in rest]
        return f"!= {shown[0]}" if len(shown) == 1 else f"not in [{', '.join(shown)}]"
    return f"in [{', '.join(_show(p.value) for p in chosen)}]"


def gaps(
    rows: Sequence[RowInfo], input_names: Sequence[str], options: Sequence[Optional[Sequence[Any]]], where: Position
) -> list[DefinitionError]:
    """Warnings for combinations of input values that no row matches."""
    if any(all(isinstance(t, AnyValue) for t in row.tests) for row in rows):
        return []
    per_input = [representatives([row.tests[k] for row in rows], options[k]) for k in range(len(input_names))]
    total = 1
    for reps in per_input:
        total *= len(reps)
    if total > MAX_COMBINATIONS:
        return []
    uncovered: set[Combo] = set()
    for combo in itertools.product(*(range(len(r)) for r in per_input)):
        values = [per_input[k][i].value for k, i in enumerate(combo)]
        if not any(all(_matches(t, v) for t, v in zip(row.tests, values)) for row in rows):
            uncovered.add(tuple((i, i) for i in combo))
    if not uncovered:
        return []
    merged = _merge(uncovered, [len(r) for r in per_input])
    shown = merged[:MAX_GAPS_SHOWN]
    texts = [
        ", ".join(
            f"{name} {_span_text(per_input[k], span)}"
            for k, (name, span) in enumerate(zip(input_names, c))
            if span is not None
        )
        or "every record"
        for c in shown
    ]
    if len(merged) > len(shown):
        texts[-1] += f" (and {len(merged) - len(shown)} more)"
    return [DefinitionError(f"no row covers: {t}", where, "add a row or a default") for t in texts]


def _meet(a: Test, b: Test) -> Optional[Test]:
    """The values both tests accept (None: not decidable)."""
    if isinstance(a, AnyValue):
        return b
    if isinstance(b, AnyValue):
        return a
    if isinstance(a, Opaque) or isinstance(b, Opaque):
        return a if a == b else None
    if isinstance(b, Values):
        a, b = b, a
    return _and(a, b)


def _meet_text(test: Test) -> str:
    if isinstance(test, Values):
        shown = [_show(v) for v in _sorted(set(test.values))]
        return f"= {shown[0]}" if len(shown) == 1 else f"in [{', '.join(shown)}]"
    if isinstance(test, Interval):
        return _describe(test)
    return "as both cells say"


def overlaps(rows: Sequence[RowInfo], input_names: Sequence[str], hit: str) -> list[DefinitionError]:
    """Warnings, under ``first``, for two crossing rows that match the same records with different outputs."""
    if hit != "first":
        return []
    found: list[DefinitionError] = []
    for i, later in enumerate(rows):
        for earlier in rows[:i]:
            if earlier.outputs == later.outputs or all(subsumes(b, a) for a, b in zip(earlier.tests, later.tests)):
                continue
            common = [_meet(a, b) for a, b in zip(earlier.tests, later.tests)]
            if any(t is None or is_empty(t) for t in common):
                continue
            where = (
                ", ".join(
                    f"{name} {_meet_text(t)}"
                    for name, t in zip(input_names, common)
                    if t is not None and not isinstance(t, AnyValue)
                )
                or "every record"
            )
            found.append(
                DefinitionError(
                    f"rows {earlier.number} and {later.number} overlap ({where}) with different outputs; "
                    f"row {earlier.number} wins there (hit policy 'first')",
                    later.position,
                    f"if row {later.number} should win, move it above row {earlier.number}",
                )
            )
    if len(found) > MAX_GAPS_SHOWN:
        extra = len(found) - MAX_GAPS_SHOWN
        found = found[:MAX_GAPS_SHOWN]
        last = found[-1]
        found[-1] = DefinitionError(f"{last.message} (and {extra} more overlaps)", last.position, last.hint)
    return found
