"""Text -> frozen AST nodes, with one cached LALR parser. No lark object survives."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path as FsPath
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from engine.expr import nodes as n
from engine.expr.errors import ExprError, Origin
from engine.expr.types import ExprType

GRAMMAR = FsPath(__file__).with_name("grammar.lark")
MAX_SOURCE = 10_000
MAX_DEPTH = 60  # brackets
MAX_TREE_DEPTH = 100  # operators: deeper trees are split into computed fields

# regex terminals in words; string terminals are shown as themselves
_WORDS = {
    "NAME": "a name",
    "INT": "a number",
    "DECIMAL": "a number",
    "STRING": "a string",
    "DATE": "a date",
    "DATETIME": "a date-time",
    "TIME": "a time",
    "DURATION": "a duration",
    "COMP_OP": "a comparison (== != < <= > >=)",
    "ADD_OP": "+ or -",
    "MUL_OP": "* / or %",
    "$END": "the end of the expression",
}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # cache=True: lark keeps the analysed grammar in the temp directory (keyed by its hash)
    return Lark(
        GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,
    )


@lru_cache(maxsize=1)
def _terminal_words() -> dict[str, str]:
    words = dict(_WORDS)
    for term in _parser().terminals:
        if term.pattern.type == "str" and term.name not in words:
            words[term.name] = term.pattern.value
    return words


@lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """The language's keywords (``and``, ``in``, ``where``, ...): reserved, never a name."""
    return frozenset(
        t.pattern.value.lower() for t in _parser().terminals if t.pattern.type == "str" and t.pattern.value.isalpha()
    )


def _expected(names: set[str]) -> str:
    words = _terminal_words()
    shown = sorted({words.get(x, x.lower()) for x in names}, key=lambda w: (w.startswith("a "), w))
    return ", ".join(shown)


def _span(meta: Any) -> n.Span:
    if getattr(meta, "empty", True):
        return n.NOSPAN
    return n.Span(meta.line, meta.column, meta.end_line, meta.end_column)


_CHAR_HINTS = {
    "=": "use == to compare",
    "&": "use and",
    "|": "use or",
    "!": "use not, or != to compare",
    "{": "lists are written [1, 2]",
    "`": "quote text with \" or '",
}
_DURATION_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


class _Bad(Exception):
    def __init__(self, message: str, meta: Any) -> None:
        super().__init__(message)
        self.message, self.meta = message, meta


def _cmp(op: str) -> Any:
    def build(self: Any, meta: Any, a: n.Node, b: n.Node) -> n.Node:
        return n.Compare(op, a, b, span=_span(meta))

    return build


@v_args(meta=True, inline=True)
class _ToAst(Transformer):
    def or_(self, meta, a, b):  # type: ignore[no-untyped-def]
        return n.Logic("or", a, b, span=_span(meta))

    def and_(self, meta, a, b):  # type: ignore[no-untyped-def]
        return n.Logic("and", a, b, span=_span(meta))

    def not_(self, meta, a):  # type: ignore[no-untyped-def]
        return n.Unary("not", a, span=_span(meta))

    def neg(self, meta, a):  # type: ignore[no-untyped-def]
        if isinstance(a, n.Literal) and type(a.value) in (int, Decimal):
            return n.Literal(-a.value, span=_span(meta), t=a.t)
        return n.Unary("-", a, span=_span(meta))

    def compare(self, meta, a, op, b):  # type: ignore[no-untyped-def]
        return n.Compare(str(op), a, b, span=_span(meta))

    in_ = _cmp("in")
    not_in = _cmp("not in")
    contains = _cmp("contains")
    startswith = _cmp("startswith")
    endswith = _cmp("endswith")

    def between(self, meta, a, lo, hi):  # type: ignore[no-untyped-def]
        return n.Between(a, lo, hi, span=_span(meta))

    def is_empty(self, meta, a):  # type: ignore[no-untyped-def]
        return n.IsEmpty(a, False, span=_span(meta))

    def is_not_empty(self, meta, a):  # type: ignore[no-untyped-def]
        return n.IsEmpty(a, True, span=_span(meta))

    def arith(self, meta, a, op, b):  # type: ignore[no-untyped-def]
        return n.Arith(str(op), a, b, span=_span(meta))

    def list_(self, meta, *items):  # type: ignore[no-untyped-def]
        return n.ListLit(tuple(i for i in items if i is not None), span=_span(meta))

    def path(self, meta, *names):  # type: ignore[no-untyped-def]
        return n.Path(tuple(str(x) for x in names), span=_span(meta))

    def call(self, meta, name, *args):  # type: ignore[no-untyped-def]
        return n.Call(str(name), tuple(a for a in args if a is not None), span=_span(meta))

    def aggregate(self, meta, name, body, where):  # type: ignore[no-untyped-def]
        return n.Call(str(name), (body,), where, span=_span(meta))

    # literals
    def int_(self, meta, tok):  # type: ignore[no-untyped-def]
        value = int(tok)
        if value > INT_MAX:  # the SQL back ends count in 64 bits; a larger number would fail there
            raise _Bad(f"the number {tok} is too large (at most {INT_MAX})", meta)
        return n.Literal(value, span=_span(meta), t=ExprType.INTEGER)

    def decimal(self, meta, tok):  # type: ignore[no-untyped-def]
        return n.Literal(Decimal(str(tok)), span=_span(meta), t=ExprType.DECIMAL)

    def string(self, meta, tok):  # type: ignore[no-untyped-def]
        return n.Literal(_unescape(str(tok)[1:-1]), span=_span(meta), t=ExprType.STRING)

    def true(self, meta):  # type: ignore[no-untyped-def]
        return n.Literal(True, span=_span(meta), t=ExprType.BOOLEAN)

    def false(self, meta):  # type: ignore[no-untyped-def]
        return n.Literal(False, span=_span(meta), t=ExprType.BOOLEAN)

    def null(self, meta):  # type: ignore[no-untyped-def]
        return n.Literal(None, span=_span(meta), t=ExprType.NULL)

    def date_(self, meta, tok):  # type: ignore[no-untyped-def]
        try:
            return n.Literal(dt.date.fromisoformat(str(tok)), span=_span(meta), t=ExprType.DATE)
        except ValueError:
            raise _Bad(f"invalid date {tok}", meta) from None

    def datetime_(self, meta, tok):  # type: ignore[no-untyped-def]
        text = str(tok).replace(" ", "T").replace("Z", "+00:00")
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise _Bad(f"invalid date-time {tok}", meta) from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return n.Literal(value.astimezone(dt.timezone.utc), span=_span(meta), t=ExprType.DATETIME)

    def time_(self, meta, tok):  # type: ignore[no-untyped-def]
        try:
            return n.Literal(dt.time.fromisoformat(str(tok)), span=_span(meta), t=ExprType.TIME)
        except ValueError:
            raise _Bad(f"invalid time {tok}", meta) from None

    def duration(self, meta, tok):  # type: ignore[no-untyped-def]
        text = str(tok)
        try:
            value = dt.timedelta(**{_DURATION_UNITS[text[-1]]: int(text[:-1])})
        except OverflowError:
            raise _Bad(f"duration {tok} is too large", meta) from None
        return n.Literal(value, span=_span(meta), t=ExprType.DURATION)


#: the largest whole number a literal may be: SQLite's and PostgreSQL's 64-bit integers
INT_MAX = 2**63 - 1

_TRANSFORMER = _ToAst()


def _depth_ok(source: str) -> bool:
    depth = best = 0
    for ch in source:
        if ch in "([":
            depth += 1
            best = max(best, depth)
        elif ch in ")]":
            depth -= 1
    return best <= MAX_DEPTH


def parse(source: str, *, file: str = "<expr>", line: int = 1, column: int = 1) -> n.Node:
    """Parse expression text into an (unchecked) AST; raises ExprError on bad syntax."""
    origin = Origin(source, file, line, column)
    if not isinstance(source, str):
        raise ExprError("an expression must be text")
    if not source.strip():
        raise origin.error("empty expression", 1, 1)
    if len(source) > MAX_SOURCE:
        raise origin.error(f"expression is too long (more than {MAX_SOURCE} characters)", 1, 1)
    if not _depth_ok(source):
        raise origin.error(f"expression is nested too deeply (more than {MAX_DEPTH} levels)", 1, 1)
    try:
        tree = _parser().parse(source)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, origin) from None
    except RecursionError:
        raise origin.error("expression is nested too deeply", 1, 1) from None
    try:
        result = _TRANSFORMER.transform(tree)
    except VisitError as exc:
        orig = exc.orig_exc
        if isinstance(orig, _Bad):
            raise origin.error(orig.message, orig.meta.line, orig.meta.column) from None
        raise  # pragma: no cover - a bug, not user input
    except RecursionError:
        raise origin.error("expression is nested too deeply", 1, 1) from None
    if isinstance(result, (Tree, Token)):  # pragma: no cover - guarded by tests
        raise AssertionError("lark object survived the transform")
    if tree_depth(result) > MAX_TREE_DEPTH:
        raise origin.error(
            f"expression is nested too deeply (more than {MAX_TREE_DEPTH} operations inside "
            "each other); split it into computed fields",
            1,
            1,
        )
    return result


def tree_depth(root: n.Node) -> int:
    """Depth of an AST, computed without recursion."""
    best, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        best = max(best, depth)
        for value in node.__dict__.values():
            items = value if isinstance(value, tuple) else (value,)
            stack.extend((item, depth + 1) for item in items if isinstance(item, n.Node))
    return best


def _syntax_error(exc: UnexpectedInput, origin: Origin) -> ExprError:
    line, column = max(exc.line, 1), max(exc.column, 1)
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            lines = origin.source.splitlines() or [""]
            line, column = len(lines), len(lines[-1]) + 1
            return origin.error(
                f"unexpected end of expression; expected one of: {_expected(exc.accepts or exc.expected)}", line, column
            )
        accepts = exc.accepts or exc.expected
        hint = (
            f"'{tok.value}' is a keyword, not a name"
            if "NAME" in accepts and str(tok.value).lower() in keywords()
            else None
        )
        return origin.error(f"unexpected {tok.value!r}; expected one of: {_expected(accepts)}", line, column, hint)
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        ch = origin.source[pos] if pos < len(origin.source) else ""
        if ch in "\"'":
            return origin.error("unterminated string", line, column)
        return origin.error(f"unexpected character {ch!r}", line, column, _CHAR_HINTS.get(ch))
    if isinstance(exc, UnexpectedEOF):  # pragma: no cover - lalr reports UnexpectedToken($END)
        return origin.error("unexpected end of expression", line, column)
    return origin.error("syntax error", line, column)  # pragma: no cover
