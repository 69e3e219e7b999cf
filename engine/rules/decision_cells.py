"""Decision-table cells: a cell's text -> an expression over the input, compiled and checked.

An input cell is a small test *relative to its input*. It is rewritten into an expression
of the one expression language in which the input is the name ``_`` (so ``>= 10000``
becomes ``_ >= 10000``) and compiled with :func:`engine.expr.compile_expression` against
the form's scope extended by ``_``. Errors are mapped back to the cell: every piece of the
rewritten text remembers where it came from, so a caret points into the cell as written.

Cell forms (``?`` stands for the input; see docs/decision-tables.md):

===============================  =======================================
``-`` or empty                   any value (null included)
``A``, ``web``, ``华东``          a bare word on a text input: that text
``"A"``, ``10000``, ``2026-01-01`` equal to the literal (any expression)
``>= 10000``, ``!= "A"``, ``= 5``  a comparison
``[1000..5000)``, ``(0..1]``     a range; ``[``/``]`` include, ``(``/``)`` exclude
``between 1000 and 5000``         inclusive range
``"A", "B"`` / ``A, B``           one of the values
``in ["web", "api"]``, ``not in [...]``, ``contains "x"``, ``is empty`` ...
``? > credit_limit or ? is empty``  any condition; ``?`` is the input
===============================  =======================================
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from engine.errors import Position
from engine.expr import CompiledExpr, ExprError, FieldInfo, Scope, compile_expression
from engine.expr.types import ExprType

#: the name the input has inside a rewritten cell (one character, like ``?``)
INPUT = "_"

ANY_TEXTS = frozenset({"", "-", "any", "*"})
_KEYWORDS = frozenset(
    {
        "true",
        "false",
        "null",
        "and",
        "or",
        "not",
        "in",
        "is",
        "empty",
        "between",
        "contains",
        "startswith",
        "endswith",
        "where",
        "any",
    }
)
_BARE = re.compile(r"^[^\W\d]\w*$")
_OPERATOR = re.compile(
    r"^(==|!=|<=|>=|<|>|in\b|not\s+in\b|contains\b|startswith\b|endswith\b|"
    r"between\b|is\b)",
    re.IGNORECASE,
)
_RANGE = re.compile(r"^([\[(])(.+?)\.\.(.+?)([\])])$", re.S)

#: a cell's origin: 0-based character offset in the cell text -> Position in the source
Locate = Callable[[int], Position]


@dataclass(frozen=True)
class Piece:
    """A part of a rewritten cell; ``offset`` is where it starts in the cell (None: inserted)."""

    text: str
    offset: Optional[int]


class Rewrite:
    """The rewritten expression text, built from pieces that know their place in the cell."""

    def __init__(self) -> None:
        self.pieces: list[Piece] = []

    def add(self, text: str, offset: Optional[int] = None) -> "Rewrite":
        self.pieces.append(Piece(text, offset))
        return self

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.pieces)

    def cell_offset(self, column: int) -> int:
        """0-based offset in the cell for a 1-based column of the rewritten text."""
        at, last = 0, 0
        for p in self.pieces:
            if p.offset is not None:
                last = p.offset
                if at <= column - 1 < at + len(p.text):
                    return p.offset + (column - 1 - at)
                last = p.offset + len(p.text)
            at += len(p.text)
        return max(0, min(last, column - 1))


def split_top(text: str, sep: str = ",") -> list[tuple[str, int]]:
    """Split on ``sep`` outside strings and brackets; (part, offset) pairs, parts stripped."""
    parts: list[tuple[str, int]] = []
    depth, quote, start, i = 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(_strip(text, start, i))
            start = i + 1
        i += 1
    parts.append(_strip(text, start, len(text)))
    return parts


def _strip(text: str, start: int, end: int) -> tuple[str, int]:
    part = text[start:end]
    lead = len(part) - len(part.lstrip())
    return part.strip(), start + lead


def _question_marks(text: str) -> list[int]:
    """Offsets of ``?`` outside string literals."""
    found, quote, i = [], "", 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "?":
            found.append(i)
        i += 1
    return found


def is_any(text: Optional[str]) -> bool:
    """True for a cell that matches every value (``-``, empty, ``any``)."""
    return text is None or text.strip().lower() in ANY_TEXTS


def is_bare_word(text: str) -> bool:
    return bool(_BARE.match(text)) and text.lower() not in _KEYWORDS


def _literal(text: str, offset: int, out: Rewrite, input_type: ExprType) -> None:
    """A value: a bare word on a text input is that text, anything else an expression."""
    if input_type in (ExprType.STRING, ExprType.ANY) and is_bare_word(text):
        out.add(_quote(text), offset)
    else:
        out.add("(").add(text, offset).add(")")


def _quote(word: str) -> str:
    return '"' + word + '"'


def rewrite_input(text: str, input_type: ExprType) -> Rewrite:
    """The boolean expression (over ``_``) a non-empty input cell stands for."""
    body, lead = _strip(text, 0, len(text))
    out = Rewrite()
    marks = _question_marks(body)
    if marks:  # a full condition: ? -> _ (same length, columns unchanged)
        chars = list(body)
        for m in marks:
            chars[m] = INPUT
        return out.add("".join(chars), lead)
    if _OPERATOR.match(body):
        return out.add(INPUT + " ").add(body, lead)
    if body.startswith("=") and not body.startswith("=="):  # "= 5", as a spreadsheet user writes it
        return out.add(INPUT + " =").add(body, lead)
    rng = _RANGE.match(body)
    if rng:
        lo_op = ">=" if rng.group(1) == "[" else ">"
        hi_op = "<=" if rng.group(4) == "]" else "<"
        lo, lo_at = _strip(body, rng.start(2), rng.end(2))
        hi, hi_at = _strip(body, rng.start(3), rng.end(3))
        out.add(f"{INPUT} {lo_op} (").add(lo, lead + lo_at).add(f") and {INPUT} {hi_op} (")
        return out.add(hi, lead + hi_at).add(")")
    parts = split_top(body)
    if len(parts) > 1:
        out.add(f"{INPUT} in [")
        for i, (part, at) in enumerate(parts):
            if i:
                out.add(", ")
            if input_type in (ExprType.STRING, ExprType.ANY) and is_bare_word(part):
                out.add(_quote(part), lead + at)
            else:
                out.add(part, lead + at)
        return out.add("]")
    out.add(f"{INPUT} == ")
    _literal(body, lead, out, input_type)
    return out


def rewrite_output(text: str, output_type: ExprType) -> Rewrite:
    """An output cell: a bare word on a text output is that text, otherwise an expression."""
    body, lead = _strip(text, 0, len(text))
    out = Rewrite()
    if output_type in (ExprType.STRING, ExprType.ANY) and is_bare_word(body):
        return out.add(_quote(body), lead)
    return out.add(body, lead)


def cell_scope(scope: Scope, input_type: ExprType) -> Scope:
    """The form's scope plus ``_`` (the input); its version keeps compiled cells apart per type."""
    fields = dict(scope.fields)
    fields[INPUT] = FieldInfo(INPUT, input_type)
    return Scope(scope.form, fields, f"{scope.version}#decision-cell:{input_type.value}", scope.forms)


def compile_cell(rewrite: Rewrite, scope: Scope, locate: Locate, expect: Optional[ExprType]) -> CompiledExpr:
    """Compile a rewritten cell; errors point into the cell as written."""
    source = rewrite.text
    try:
        return compile_expression(source, scope, expect=expect, file="<cell>", line=1, column=1)
    except ExprError as exc:
        col = exc.position.column if exc.position.line <= 1 else 1
        raise ExprError(_unrewrite(exc.message), locate(rewrite.cell_offset(col)), exc.hint) from None


def _unrewrite(message: str) -> str:
    """Messages speak of the input as ``?`` (the name users write), never ``_``."""
    return message.replace(f"'{INPUT}'", "'?'")


# ---------------------------------------------------------------- cell text
class CellText(str):
    """A cell's text that knows where it stands (used by the .xlsx reader)."""

    locate: Locate

    def __new__(cls, text: str, locate: Locate) -> "CellText":
        self = super().__new__(cls, text)
        self.locate = locate
        return self


class RowList(list):  # type: ignore[type-arg]
    """Rows read from a spreadsheet: a list that knows where each row starts."""

    def __init__(self, rows: Sequence[Any], positions: Sequence[Position]) -> None:
        super().__init__(rows)
        self.positions = list(positions)

    def value_pos(self, index: int) -> Position:
        return self.positions[index] if 0 <= index < len(self.positions) else Position()


def cell_text(value: Any) -> Optional[str]:
    """A YAML / spreadsheet value as cell text (None for empty)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ", ".join(
            v
            if isinstance(v, str) and v.isidentifier()
            else json.dumps(v, ensure_ascii=False)
            if isinstance(v, str)
            else str(cell_text(v))
            for v in value
        )
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
