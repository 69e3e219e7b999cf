"""Totals rows: the rows under a sheet's data that add it up (合计, 小计, Total), not records.

A row is a totals row when either

- a cell's formula totals rows above it in a column: ``=SUM(H3:H9)`` on row 10, or AVERAGE,
  MIN, MAX or SUBTOTAL of one column's range that ends above the row (the .xlsx keeps the
  formulas; :func:`engine.io.excel_formula.row_totals`, which forms from Excel reads too); or
- without formulas (a CSV, or values pasted over the formulas): its first filled cell is a
  totals word (:data:`WORDS`), and every other filled cell is a number, the sum of its
  column over the rows above: since the header, or since the previous totals row (a 小计
  under each group, then a 总计). A record named 合计 whose numbers are not those sums is a
  record like any other.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional, Sequence

from engine.io.excel_formula import row_totals
from engine.io.textnumbers import text_number

#: the first cell of a totals row, without spaces and a closing colon (合 计:, Total:)
WORDS = frozenset(
    {
        "合计",
        "总计",
        "小计",
        "共计",
        "总合计",
        "合计金额",
        "total",
        "totals",
        "subtotal",
        "sub-total",
        "grandtotal",
        "sum",
    }
)
_SPACE = re.compile(r"[\s\u3000]+")


def is_total_word(value: Any) -> bool:
    """``合计``, ``合 计:``, ``Total:``, ``Grand total``."""
    return isinstance(value, str) and _SPACE.sub("", value).rstrip(":：").lower() in WORDS


class TotalsRows:
    """Tells the totals rows among a sheet's data rows, fed in order after the header."""

    def __init__(self) -> None:
        self.since_header: dict[int, float] = {}  # column -> sum of the numbers above
        self.since_totals: dict[int, float] = {}  # the same since the last totals row

    def check(self, row: int, cells: Sequence[Any], formulas: Mapping[int, str]) -> bool:
        """Whether sheet row ``row`` (its values and formulas) is a totals row; other rows'
        numbers count towards the sums a later totals row is checked against."""
        if (formulas and row_totals(row, formulas.values())) or self._by_word(cells):
            self.since_totals = {}
            return True
        for column, value in enumerate(cells):
            number = _number(value)
            if number is not None:
                self.since_header[column] = self.since_header.get(column, 0.0) + number[0]
                self.since_totals[column] = self.since_totals.get(column, 0.0) + number[0]
        return False

    def _by_word(self, cells: Sequence[Any]) -> bool:
        first = next((i for i, v in enumerate(cells) if v is not None), None)
        if first is None or not is_total_word(cells[first]):
            return False
        summed = False
        for column in range(first + 1, len(cells)):
            value = cells[column]
            if value is None:
                continue
            number = _number(value)
            if number is None or not any(
                _same(number, sums.get(column)) for sums in (self.since_header, self.since_totals)
            ):
                return False
            summed = True
        return summed


def _number(value: Any) -> Optional[tuple[float, float]]:
    """A cell's number and how far a total of it may be off (half its last digit as written,
    for a text; a float's rounding for a number), or None for a cell that is no number."""
    kind = type(value)
    if kind is int or kind is float:
        return float(value), 1e-9 * max(1.0, abs(value))
    exact = text_number(value)  # ``1,210``, ``¥1,211.50``, ``1,211.50元`` (as import reads them)
    if exact is None:
        return None
    number = float(exact)
    decimals = max(0, -int(exact.as_tuple().exponent))
    return number, 0.5 * 10**-decimals + 1e-9 * max(1.0, abs(number))


def _same(total: tuple[float, float], sum_above: Optional[float]) -> bool:
    return sum_above is not None and abs(total[0] - sum_above) <= total[1]
