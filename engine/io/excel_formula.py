"""Excel cell formulas -> expressions of our language, over the row's field names.

``=ROUND(J3*K3*(1-L3),2)`` in row 3, where J, K and L are the columns of ``qty``,
``unit_price`` and ``discount``, becomes ``round(qty * unit_price * (1 - discount), 2)``.
The formula is tokenised by openpyxl's tokenizer and parsed here with Excel's precedence
(comparisons < ``&`` < ``+ -`` < ``* /`` < ``^`` < ``%`` < negation); references must stay
in the formula's own row (``J3``, ``$J3``, ``J$3``; a range ``J3:L3`` in SUM, MIN, MAX).

Translated: numbers, texts, TRUE/FALSE, ``+ - * /``, ``%``, comparisons (``=`` -> ``==``,
``<>`` -> ``!=``), ``&`` (-> ``concat``), and SUM, ROUND, IF, MIN, MAX, ABS, AND, OR, NOT,
IFERROR (-> ``coalesce``: our division by zero is empty, not an error), CONCATENATE/CONCAT,
LEN, UPPER, LOWER, TRIM, TODAY, NOW, DATEDIF(a, b, "D") (-> ``days_between``). Anything else
raises :class:`Untranslatable` with the reason, for the caller to keep an input field and
say why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Optional, Union

if TYPE_CHECKING:
    from openpyxl.formula.tokenizer import Token


class Untranslatable(Exception):
    """A formula the expression language cannot say: ``reason`` is a message key, ``params``
    its values (see :mod:`engine.io.template_messages`)."""

    def __init__(self, reason: str, **params: str) -> None:
        super().__init__(reason, params)
        self.reason, self.params = reason, params


@dataclass(frozen=True)
class Ref:
    """A cell or a range: 1-based columns and rows; ``sheet`` is '' for the formula's own."""

    text: str
    col: int
    row: int
    col2: int
    row2: int
    sheet: str = ""


@dataclass(frozen=True)
class Lit:
    text: str  # as our language writes it: 12.5, "是", true


@dataclass(frozen=True)
class Name:
    text: str  # a defined name or anything else that is not a cell


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple["Node", ...]


@dataclass(frozen=True)
class Bin:
    op: str
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class Unary:
    op: str  # "-", "+" or "%" (postfix)
    arg: "Node"


Node = Union[Ref, Lit, Name, Call, Bin, Unary]

_REF = re.compile(
    r"^(?:(?P<sheet>'(?:[^']|'')+'|[^!']+)!)?\$?(?P<c1>[A-Z]{1,3})\$?(?P<r1>\d+)"
    r"(?::\$?(?P<c2>[A-Z]{1,3})\$?(?P<r2>\d+))?$"
)
_INFIX = {"=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1, "&": 2, "+": 3, "-": 3, "*": 4, "/": 4, "^": 5}


def column_number(letters: str) -> int:
    """``A`` -> 1, ``AB`` -> 28."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def parse_ref(text: str) -> Optional[Ref]:
    """A cell or range reference (``$J$3``, ``J3:L3``, ``'字典'!A2:A6``), or None."""
    m = _REF.match(text.strip())
    if not m:
        return None
    sheet = (m["sheet"] or "").strip()
    if sheet.startswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    c1, r1 = column_number(m["c1"]), int(m["r1"])
    c2, r2 = (column_number(m["c2"]), int(m["r2"])) if m["c2"] else (c1, r1)
    return Ref(text, min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2), sheet)


def parse(formula: str) -> Node:
    """The tree of an Excel formula (with or without its leading ``=``)."""
    from openpyxl.formula.tokenizer import Token, Tokenizer

    text = formula if formula.startswith("=") else "=" + formula
    try:
        tokens = [t for t in Tokenizer(text).items if t.type != Token.WSPACE]
    except Exception:  # the tokenizer raises bare errors on unbalanced input
        raise Untranslatable("syntax") from None
    parser = _Parser(tokens)
    node = parser.expr(0)
    if parser.i != len(tokens):
        raise Untranslatable("syntax")
    return node


class _Parser:
    def __init__(self, tokens: list["Token"]) -> None:
        self.tokens, self.i = tokens, 0

    def peek(self) -> Optional["Token"]:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> "Token":
        tok = self.peek()
        if tok is None:
            raise Untranslatable("syntax")
        self.i += 1
        return tok

    def expr(self, floor: int) -> Node:
        left = self.unary()
        while True:
            tok = self.peek()
            if tok is None or tok.type != "OPERATOR-INFIX":
                return left
            op = str(tok.value)
            prec = _INFIX.get(op)
            if prec is None:
                raise Untranslatable("operator", op=op)
            if prec <= floor:
                return left
            self.i += 1
            left = Bin(op, left, self.expr(prec))

    def unary(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.type == "OPERATOR-PREFIX":
            self.i += 1
            return Unary(str(tok.value), self.unary())
        node = self.atom()
        while (tok := self.peek()) is not None and tok.type == "OPERATOR-POSTFIX":
            self.i += 1
            node = Unary("%", node)
        return node

    def atom(self) -> Node:
        tok = self.take()
        kind, sub, value = tok.type, tok.subtype, str(tok.value)
        if kind == "OPERAND":
            return _operand(sub, value)
        if kind == "FUNC" and sub == "OPEN":
            name = value[:-1].upper()
            for prefix in ("_XLFN.", "_XLWS."):
                name = name.removeprefix(prefix)
            args: list[Node] = []
            if self._close("FUNC"):
                return Call(name, ())
            while True:
                args.append(self.expr(0))
                if self._close("FUNC"):
                    return Call(name, tuple(args))
                sep = self.take()
                if sep.type != "SEP" or sep.subtype != "ARG":
                    raise Untranslatable("syntax")
        if kind == "PAREN" and sub == "OPEN":
            node = self.expr(0)
            if not self._close("PAREN"):
                raise Untranslatable("syntax")
            return node
        raise Untranslatable("syntax")

    def _close(self, kind: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.type == kind and tok.subtype == "CLOSE":
            self.i += 1
            return True
        return False


def _operand(sub: str, value: str) -> Node:
    if sub == "NUMBER":
        try:
            return Lit(_number_text(Decimal(value)))
        except InvalidOperation:
            raise Untranslatable("syntax") from None
    if sub == "TEXT":
        inner = value[1:-1].replace('""', '"')
        return Lit('"' + inner.replace("\\", "\\\\").replace('"', '\\"') + '"')
    if sub == "LOGICAL":
        return Lit(value.lower())
    if sub == "ERROR":
        raise Untranslatable("error_value", value=value)
    ref = parse_ref(value)
    return ref if ref is not None else Name(value)


def _number_text(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text if text not in ("-0",) else "0"


# ---- translation ----------------------------------------------------------------------------

OR, AND, NOT, CMP, ADD, MUL, NEG, ATOM = range(1, 9)
_CMP = {"=": "==", "<>": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}


@dataclass(frozen=True)
class Row:
    """Where a formula stands: its 1-based row and column, the expression names of the columns
    it may read (``qty``, ``parent.customer``), and columns it may not read from where it is
    (a sub-table's, for a field of the record)."""

    row: int
    column: int
    names: Mapping[int, str]
    sheet: str = ""
    barred: Mapping[int, str] = field(default_factory=dict)


def translate(formula: str, where: Row) -> str:
    """The expression for ``formula`` at ``where``; raises :class:`Untranslatable`."""
    return _Emit(where).emit(parse(formula))[0]


Emitted = tuple[str, int]


class _Emit:
    def __init__(self, where: Row) -> None:
        self.where = where
        self.functions: dict[str, Callable[[tuple[Node, ...]], Emitted]] = {
            "SUM": self.sum_,
            "ROUND": self.round_,
            "IF": self.if_,
            "MIN": lambda a: self.extreme("min", a),
            "MAX": lambda a: self.extreme("max", a),
            "ABS": lambda a: self.call("abs", a, 1, 1),
            "IFERROR": lambda a: self.call("coalesce", a, 2, 2),
            "AND": lambda a: self.logic("and", a),
            "OR": lambda a: self.logic("or", a),
            "NOT": self.not_,
            "CONCATENATE": lambda a: self.call("concat", a, 1, 255),
            "CONCAT": lambda a: self.call("concat", a, 1, 255),
            "LEN": lambda a: self.call("len", a, 1, 1),
            "UPPER": lambda a: self.call("upper", a, 1, 1),
            "LOWER": lambda a: self.call("lower", a, 1, 1),
            "TRIM": lambda a: self.call("trim", a, 1, 1),
            "TODAY": lambda a: self.call("today", a, 0, 0),
            "NOW": lambda a: self.call("now", a, 0, 0),
            "DATEDIF": self.datedif,
        }

    def emit(self, node: Node) -> Emitted:
        if isinstance(node, Lit):
            return node.text, ATOM
        if isinstance(node, Ref):
            if node.col != node.col2 or node.row != node.row2:
                raise Untranslatable("range_value", ref=node.text)
            return self.cell(node), ATOM
        if isinstance(node, Name):
            raise Untranslatable("defined_name", name=node.text)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Bin):
            return self.binary(node)
        handler = self.functions.get(node.name)
        if handler is None:
            raise Untranslatable("function", name=node.name)
        return handler(node.args)

    def cell(self, ref: Ref) -> str:
        where = self.where
        if ref.sheet and ref.sheet != where.sheet:
            raise Untranslatable("other_sheet", ref=ref.text)
        if ref.row != where.row:
            raise Untranslatable("other_row", ref=ref.text, row=str(where.row))
        if ref.col == where.column:
            raise Untranslatable("itself", ref=ref.text)
        if ref.col in where.barred:
            raise Untranslatable("line_columns", ref=ref.text)
        name = where.names.get(ref.col)
        if name is None:
            raise Untranslatable("no_column", ref=ref.text)
        return name

    def wrap(self, node: Node, floor: int) -> str:
        text, prec = self.emit(node)
        return text if prec >= floor else f"({text})"

    def unary(self, node: Unary) -> Emitted:
        if node.op == "%":
            if isinstance(node.arg, Lit) and node.arg.text[:1].isdigit():
                return _number_text(Decimal(node.arg.text) / 100), ATOM
            return f"{self.wrap(node.arg, MUL)} / 100", MUL
        if node.op == "+":
            return self.emit(node.arg)
        return f"-{self.wrap(node.arg, NEG)}", NEG

    def binary(self, node: Bin) -> Emitted:
        op = node.op
        if op == "&":
            return f"concat({', '.join(self.emit(p)[0] for p in _chain(node))})", ATOM
        if op in _CMP:
            return f"{self.wrap(node.left, ADD)} {_CMP[op]} {self.wrap(node.right, ADD)}", CMP
        if op in ("+", "-"):
            return f"{self.wrap(node.left, ADD)} {op} {self.wrap(node.right, MUL)}", ADD
        if op in ("*", "/"):
            return f"{self.wrap(node.left, MUL)} {op} {self.wrap(node.right, NEG)}", MUL
        raise Untranslatable("operator", op=op)

    def terms(self, args: tuple[Node, ...]) -> list[Emitted]:
        """Arguments with row ranges spread out: ``J3:L3`` -> the three columns' names."""
        out: list[Emitted] = []
        for arg in args:
            if isinstance(arg, Ref) and (arg.col != arg.col2 or arg.row != arg.row2):
                if arg.row != arg.row2:
                    raise Untranslatable("range_rows", ref=arg.text)
                out.extend(
                    (self.cell(Ref(arg.text, c, arg.row, c, arg.row, arg.sheet)), ATOM)
                    for c in range(arg.col, arg.col2 + 1)
                )
            else:
                out.append(self.emit(arg))
        return out

    def sum_(self, args: tuple[Node, ...]) -> Emitted:
        terms = self.terms(args)
        if not terms:
            raise Untranslatable("arguments", name="SUM")
        if len(terms) == 1:
            return terms[0]
        return " + ".join(t if p >= ADD else f"({t})" for t, p in terms), ADD

    def extreme(self, fn: str, args: tuple[Node, ...]) -> Emitted:
        terms = self.terms(args)
        if not terms:
            raise Untranslatable("arguments", name=fn.upper())
        if len(terms) == 1:
            return terms[0]
        return f"{fn}({', '.join(t for t, _ in terms)})", ATOM

    def call(self, fn: str, args: tuple[Node, ...], least: int, most: int) -> Emitted:
        if not least <= len(args) <= most:
            raise Untranslatable("arguments", name=fn.upper())
        return f"{fn}({', '.join(self.emit(a)[0] for a in args)})", ATOM

    def round_(self, args: tuple[Node, ...]) -> Emitted:
        if len(args) == 2 and args[1] == Lit("0"):
            args = args[:1]
        return self.call("round", args, 1, 2)

    def if_(self, args: tuple[Node, ...]) -> Emitted:
        if len(args) == 2:
            args = (*args, Lit("null"))  # Excel shows FALSE; a field is better left empty
        return self.call("if", args, 3, 3)

    def logic(self, op: str, args: tuple[Node, ...]) -> Emitted:
        if not args:
            raise Untranslatable("arguments", name=op.upper())
        if len(args) == 1:
            return self.emit(args[0])
        floor, prec = (NOT, AND) if op == "and" else (AND, OR)
        return f" {op} ".join(self.wrap(a, floor) for a in args), prec

    def not_(self, args: tuple[Node, ...]) -> Emitted:
        if len(args) != 1:
            raise Untranslatable("arguments", name="NOT")
        return f"not {self.wrap(args[0], NOT)}", NOT

    def datedif(self, args: tuple[Node, ...]) -> Emitted:
        if len(args) != 3 or not isinstance(args[2], Lit) or args[2].text.upper() != '"D"':
            raise Untranslatable("function", name="DATEDIF")
        return self.call("days_between", args[:2], 2, 2)


def _chain(node: Node) -> list[Node]:
    if isinstance(node, Bin) and node.op == "&":
        return _chain(node.left) + _chain(node.right)
    return [node]


# ---- column totals ------------------------------------------------------------------------------

_TOTALS = {"SUM": "sum", "AVERAGE": "avg", "MIN": "min", "MAX": "max"}
_SUBTOTAL = {1: "avg", 101: "avg", 4: "max", 104: "max", 5: "min", 105: "min", 9: "sum", 109: "sum"}


@dataclass(frozen=True)
class Total:
    """``=SUM(M3:M20)``: an aggregate (``sum``, ``avg``, ``min``, ``max``) of one column over rows."""

    fn: str
    column: int
    first: int
    last: int
    formula: str


_TOTAL_START = re.compile(r"=?\s*(?:SUM|AVERAGE|MIN|MAX|SUBTOTAL)\s*\(", re.IGNORECASE)


def column_total(formula: str) -> Optional[Total]:
    """The column total a formula is (SUM/AVERAGE/MIN/MAX or SUBTOTAL of one column's rows), or None."""
    if not _TOTAL_START.match(formula):  # most formulas are none: not parsed
        return None
    try:
        node = parse(formula)
    except Untranslatable:
        return None
    if not isinstance(node, Call):
        return None
    fn, args = _TOTALS.get(node.name), node.args
    if node.name == "SUBTOTAL" and len(args) == 2 and isinstance(args[0], Lit) and args[0].text.isdigit():
        fn, args = _SUBTOTAL.get(int(args[0].text)), args[1:]
    if fn is None or len(args) != 1:
        return None
    ref = args[0]
    if not isinstance(ref, Ref) or ref.sheet or ref.col != ref.col2 or ref.row == ref.row2:
        return None
    return Total(fn, ref.col, ref.row, ref.row2, formula if formula.startswith("=") else "=" + formula)


def row_totals(row: int, formulas: Iterable[str]) -> list[Total]:
    """The column totals among the formulas of sheet row ``row`` that total rows above it
    (``=SUM(H3:H9)`` on row 10): what makes it a totals row, for forms from Excel and import."""
    return [t for t in map(column_total, formulas) if t is not None and t.last < row]


_NUMERIC = frozenset({"SUM", "ROUND", "ABS", "MIN", "MAX"})


def numeric_refs(formula: str) -> set[int]:
    """The columns a formula reads as numbers: operands of arithmetic, arguments of SUM,
    ROUND, ABS, MIN and MAX (for typing columns that have no sample value yet)."""
    try:
        node = parse(formula)
    except Untranslatable:
        return set()
    out: set[int] = set()

    def visit(n: Node, numeric: bool) -> None:
        if isinstance(n, Ref):
            if numeric:
                out.update(range(n.col, n.col2 + 1))
        elif isinstance(n, Unary):
            visit(n.arg, True)
        elif isinstance(n, Bin):
            visit(n.left, n.op in "+-*/^")
            visit(n.right, n.op in "+-*/^")
        elif isinstance(n, Call):
            for arg in n.args:
                visit(arg, n.name in _NUMERIC)

    visit(node, False)
    return out
