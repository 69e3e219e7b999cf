"""The columns of an Excel template: what their cells say about each field's type.

Types from the sample rows: dates (date cells, or texts that all read as dates such as
``2026年11月8日``), percent (a ``%`` number format), money (a currency format such as
``¥#,##0.00``), integer, number, select (a drop-down list, or a few distinct values that
repeat), textarea (long text), text. A column filled by formulas is typed by the values Excel
cached for them. When a column repeats its value on consecutive rows (an order number) while
other columns change, the changing columns are a sub-table's.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from engine.io.textdates import text_date

MAX_OPTIONS = 12
_CURRENCY = {
    "¥": "CNY",
    "￥": "CNY",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "CNY": "CNY",
    "RMB": "CNY",
    "USD": "USD",
    "EUR": "EUR",
}
_TIME_FMT = re.compile(r"(h|ss|am/pm)", re.IGNORECASE)
_QUOTED = re.compile(r'"[^"]*"|\\.')
#: words of a header that names an identifier (an order number, a code)
_ID_WORDS = ("号", "编码", "代码", "码")
_ID_NAMES = frozenset({"no", "code", "number", "sku", "id", "barcode"})


@dataclass
class Col:
    """One column of the template, with what its sample rows hold."""

    index: int  # 0-based
    header: str
    name: str
    values: list[Any] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    formulas: list[tuple[int, str]] = field(default_factory=list)  # (row, formula text)
    typed: int = 0  # cells typed in (not by a formula)
    options: Optional[list[str]] = None
    type: str = "text"
    currency: Optional[str] = None

    @property
    def is_formula(self) -> bool:
        """Filled by a formula in at least as many rows as it is typed in."""
        return bool(self.formulas) and len(self.formulas) >= self.typed

    def looks_like_key(self) -> bool:
        """The header names an identifier: 订单号, 物料编码, SKU, Order No."""
        return any(w in self.header for w in _ID_WORDS) or bool(_ID_NAMES & set(self.name.split("_")))


def _plain(fmt: str) -> str:
    """A number format without its quoted texts and escaped characters."""
    return _QUOTED.sub("", fmt or "")


def infer(col: Col) -> None:
    """Set ``col.type`` (and ``currency``) from its sample values and their number formats."""
    values = [v for v in col.values if v not in (None, "")]
    fmts = [f for v, f in zip(col.values, col.formats) if v not in (None, "")]
    if col.options and not col.is_formula:
        col.type = "select"
        return
    if not values:
        return
    if all(isinstance(v, (dt.datetime, dt.date)) for v in values):
        has_time = any(isinstance(v, dt.datetime) and v.time() != dt.time(0) for v in values) or any(
            _TIME_FMT.search(_plain(f)) for f in fmts
        )
        col.type = "datetime" if has_time else "date"
        return
    if all(isinstance(v, str) for v in values):
        dates = [text_date(v) for v in values]
        if all(d is not None for d in dates):
            col.type = "datetime" if any(isinstance(d, dt.datetime) for d in dates) else "date"
        elif any(len(str(v)) > 100 or "\n" in str(v) for v in values):
            col.type = "textarea"
        return
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        _number(col, values, fmts)


def _number(col: Col, values: list[Any], fmts: list[str]) -> None:
    if any("%" in _plain(f) for f in fmts):
        col.type = "percent"
        return
    for f in fmts:
        for sym, code in _CURRENCY.items():
            if sym in (f or ""):
                col.type, col.currency = "money", code
                return
    if all(float(v).is_integer() for v in values) and not any("0.0" in (f or "") for f in fmts):
        col.type = "integer"
    else:
        col.type = "number"


def guess_select(col: Col, values: list[Any]) -> None:
    """A text column with a few distinct values, each used more than once, is a choice."""
    if col.is_formula:
        return
    texts = [str(v).strip() for v in values if v not in (None, "")]
    distinct = sorted(set(texts), key=texts.index)
    if col.type == "text" and len(texts) >= 4 and len(distinct) <= MAX_OPTIONS and len(distinct) * 2 <= len(texts):
        col.type, col.options = "select", distinct


Groups = list[tuple[int, int]]


def split_lines(cols: list[Col]) -> tuple[Optional[Col], list[Col], list[Col], Groups]:
    """(key column, parent columns, line columns, the key's runs) when a column repeats on
    consecutive rows.

    A key's runs are its records: a value that comes back after another one (a status, a
    customer with several orders) does not name a record, so that column is no key. A column
    filled by formulas is never a key."""
    n = max((len(c.values) for c in cols), default=0)
    for key in cols:
        if key.type not in ("text", "integer") or key.is_formula:
            continue
        groups: Groups = []
        start = 0
        for i in range(1, n + 1):
            if i == n or key.values[i] != key.values[start] or key.values[i] in (None, ""):
                groups.append((start, i))
                start = i
        if not any(b - a >= 2 for a, b in groups) or any(key.values[a] in (None, "") for a, _ in groups):
            continue
        if len({repr(key.values[a]) for a, _ in groups}) != len(groups):
            continue
        parent: list[Col] = []
        lines: list[Col] = []
        for c in cols:
            if c is key:
                continue
            constant = all(len({repr(c.values[j]) for j in range(a, b)}) == 1 for a, b in groups)
            (parent if constant else lines).append(c)
        if lines:
            return key, [key] + parent, lines, groups
    return None, cols, [], []
