"""The drop-down lists of a sheet: which columns have one, and its options in their order.

A list validation names its options in one of the ways spreadsheet programs write them:

- a literal list ``"月结,现结,预付"`` (``<formula1>``);
- LibreOffice, when an option holds a comma: ``<mc:AlternateContent>`` whose
  ``<x12ac:list>`` quotes that option (``"A,B",C``), with the plain formula as a fallback;
- a range, on the same sheet or another (often hidden) one: ``$H$2:$H$9``,
  ``字典!$A$2:$A$6``, ``'Price list'!$B$2:$B$20``; Excel 2010 and later write a list from
  another sheet in the ``x14`` extension of the sheet (``<x14:dataValidation>``), which
  openpyxl drops, so the sheet's XML is read here;
- a defined name (``ColorList``, global or local to a sheet) standing for such a range, or
  for ``OFFSET(字典!$A$2,0,0,COUNTA(字典!$A:$A)-1,1)``, the usual "list that grows";
- old LibreOffice files: ``$字典.$A$2:$A$6``.

Options are the range's non-empty cells, row by row, duplicates dropped, including those the
sample rows never use. A list that depends on another cell (``INDIRECT(...)``) has no fixed
options: the column gets a note instead.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Optional
from xml.etree.ElementTree import Element

from engine.io.excel_formula import Bin, Call, Lit, Ref, Untranslatable, column_number, parse, parse_ref

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_X14 = "{http://schemas.microsoft.com/office/spreadsheetml/2009/9/main}"
_XM = "{http://schemas.microsoft.com/office/excel/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_X12AC = "{http://schemas.microsoft.com/office/spreadsheetml/2011/1/ac}"
_SQREF = re.compile(r"\$?([A-Z]{1,3})\$?\d*(?::\$?([A-Z]{1,3})\$?\d*)?$")
_CALC_REF = re.compile(r"\$?('(?:[^']|'')+'|[^.!:'$]+)\.(\$?[A-Z]{1,3}\$?\d+)")
_WHOLE_COLUMNS = re.compile(r"^(?:(?P<sheet>'(?:[^']|'')+'|[^!']+)!)?\$?(?P<c1>[A-Z]{1,3}):\$?(?P<c2>[A-Z]{1,3})$")
MAX_DEPTH = 5


@dataclass(frozen=True)
class DropDown:
    """A column's list: ``options`` (None when they cannot be known) and where they come from."""

    source: str
    options: Optional[tuple[str, ...]]


def validation_lists(sheet_xml: bytes, wb: Any, ws: Any) -> dict[int, DropDown]:
    """Column (1-based) -> its drop-down list, for the list validations of a sheet's XML.

    ``wb``/``ws`` are the openpyxl workbook (cached values) and the sheet, for ranges and names."""
    from xml.etree.ElementTree import fromstring

    out: dict[int, DropDown] = {}
    root = fromstring(sheet_xml)
    for dv in [*root.iter(f"{_MAIN}dataValidation"), *root.iter(f"{_X14}dataValidation")]:
        if dv.get("type") != "list":
            continue
        formula, sqref, listed = _parts(dv)
        if not sqref or not (formula or listed):
            continue
        source = listed if listed is not None else formula.strip()
        options = _listed(listed) if listed is not None else options_of(formula, wb, ws)
        for col in _columns(sqref):
            out.setdefault(col, DropDown(source, options))
    return out


def _parts(dv: Element) -> tuple[str, str, Optional[str]]:
    """(formula1, sqref, LibreOffice's quoted x12ac list or None) of one validation element."""
    if dv.tag.startswith(_X14):
        f = dv.find(f"{_X14}formula1/{_XM}f")
        sq = dv.find(f"{_XM}sqref")
        return (f.text or "") if f is not None else "", (sq.text or "") if sq is not None else "", None
    listed = dv.find(f"{_MC}AlternateContent/{_MC}Choice/{_X12AC}list")
    f = dv.find(f"{_MAIN}formula1")
    if f is None:
        f = dv.find(f"{_MC}AlternateContent/{_MC}Fallback/{_MAIN}formula1")
    formula = (f.text or "") if f is not None else ""
    return formula, dv.get("sqref", ""), (listed.text or "") if listed is not None else None


def _columns(sqref: str) -> list[int]:
    cols: list[int] = []
    for piece in sqref.split():
        m = _SQREF.match(piece)
        if m:
            first = column_number(m[1])
            cols.extend(range(first, column_number(m[2] or m[1]) + 1))
    return cols


def _listed(text: str) -> tuple[str, ...]:
    """LibreOffice's ``"A,B",C`` list."""
    row = next(csv.reader([text]), [])
    return _unique(row)


def options_of(formula: str, wb: Any, ws: Any, depth: int = 0) -> Optional[tuple[str, ...]]:
    """The options a list formula names, or None when they are not fixed (INDIRECT, a broken name)."""
    text = formula.strip().lstrip("=").strip()
    if not text or depth > MAX_DEPTH:
        return None
    if text.startswith('"'):
        return _unique(text.strip('"').split(","))
    text = _CALC_REF.sub(lambda m: f"{m[1]}!{m[2]}", text)
    ref = parse_ref(text)
    if ref is not None:
        return _range_values(wb, ws, ref)
    whole = _WHOLE_COLUMNS.match(text)
    if whole:
        sheet = _sheet(wb, ws, _unquote(whole["sheet"] or ""))
        if sheet is None:
            return None
        return _range_values(
            wb, sheet, Ref(text, column_number(whole["c1"]), 1, column_number(whole["c2"]), max(sheet.max_row, 1))
        )
    name = _defined_name(wb, ws, text)
    if name is not None:
        return options_of(name, wb, ws, depth + 1)
    return _offset(text, wb, ws)


def _unquote(sheet: str) -> str:
    sheet = sheet.strip()
    return sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet


def _sheet(wb: Any, ws: Any, name: str) -> Any:
    if not name:
        return ws
    return wb[name] if name in wb.sheetnames else None


def _defined_name(wb: Any, ws: Any, name: str) -> Optional[str]:
    """The text a defined name stands for: the sheet's own name first, then the workbook's."""
    local = getattr(ws, "defined_names", {})
    for scope in (local, wb.defined_names):
        if name in scope:
            return str(scope[name].attr_text or "")
    return None


def _range_values(wb: Any, ws: Any, ref: Ref) -> Optional[tuple[str, ...]]:
    sheet = _sheet(wb, ws, ref.sheet)
    if sheet is None:
        return None
    cells = sheet.iter_rows(min_row=ref.row, max_row=ref.row2, min_col=ref.col, max_col=ref.col2, values_only=True)
    return _unique(_text(v) for row in cells for v in row)


def _offset(text: str, wb: Any, ws: Any) -> Optional[tuple[str, ...]]:
    """``OFFSET(start,0,0,COUNTA(range)[-k][,1])``: as many cells from ``start`` down as ``range``
    has filled cells, less ``k``."""
    try:
        node = parse(text)
    except Untranslatable:
        return None
    if not (isinstance(node, Call) and node.name == "OFFSET" and len(node.args) in (4, 5)):
        return None
    start, down, right, height = node.args[:4]
    if not (isinstance(start, Ref) and down == Lit("0") and right == Lit("0")):
        return None
    less = 0
    if isinstance(height, Bin) and height.op == "-" and isinstance(height.right, Lit):
        less = int(height.right.text)
        height = height.left
    if not (isinstance(height, Call) and height.name == "COUNTA" and len(height.args) == 1):
        return None
    counted = height.args[0]
    if isinstance(counted, Ref):
        filled = _range_values(wb, ws, counted)
    else:
        filled = options_of(getattr(counted, "text", ""), wb, ws, MAX_DEPTH)
    if filled is None:
        return None
    count = len(filled) - less
    return _range_values(wb, ws, Ref(text, start.col, start.row, start.col, start.row + max(count, 0) - 1, start.sheet))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).strip()


def _unique(values: Any) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for v in values:
        text = _text(v)
        if text:
            seen.setdefault(text, None)
    return tuple(seen)
