"""An Excel template -> a form definition (YAML text) for a person to review before publishing.

The header row names the columns (a merged title row above it is skipped). Labels keep the
header text; names are snake_case for English headers and ``field_<n>`` otherwise. Types come
from the cells below: dates (date-formatted cells), money (currency formats such as
``¥#,##0.00``), integer, number, select (a data-validation list on the column, or a few
distinct values repeated), textarea (long text), text. When a column repeats its value on
consecutive rows (an order number) while other columns change, the changing columns become
a sub-table ``lines`` and the repeating ones stay on the record.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from typing import IO, Any, Optional, Union

import yaml

SAMPLE_ROWS = 500
#: rows of each sheet read at all: the header, the samples and data-validation source ranges
#: (a large data file given as a template is cut here, so it is not loaded whole)
HEAD_ROWS = 5000
MAX_OPTIONS = 12
_CURRENCY = {"¥": "CNY", "￥": "CNY", "$": "USD", "€": "EUR", "£": "GBP", "CNY": "CNY", "RMB": "CNY",
             "USD": "USD", "EUR": "EUR"}
_CJK = re.compile(r"[\u3400-\u9fff]")
_DATE_FMT = re.compile(r"(^|[^\\\"])[ymd]", re.IGNORECASE)
_TIME_FMT = re.compile(r"(h|ss|am/pm)", re.IGNORECASE)


@dataclass
class _Col:
    index: int
    header: str
    name: str
    values: list[Any] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    options: Optional[list[str]] = None
    type: str = "text"
    currency: Optional[str] = None


def snake(text: str) -> str:
    """``Unit Price (USD)`` -> ``unit_price_usd``; '' when the text has no ASCII word."""
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text))
    words = re.findall(r"[A-Za-z0-9]+", spaced)
    name = "_".join(w.lower() for w in words)
    if name and name[0].isdigit():
        name = "f_" + name
    return name[:60]


def _header_row(ws: Any, scan: int = 20) -> int:
    """The first row with at least two filled cells that is not a merged title."""
    merged_rows = {r.min_row for r in ws.merged_cells.ranges if r.max_col > r.min_col}
    widest = 0
    for row in ws.iter_rows(min_row=1, max_row=scan):
        widest = max(widest, sum(1 for c in row if c.value not in (None, "")))
    for row in ws.iter_rows(min_row=1, max_row=scan):
        filled = [c for c in row if c.value not in (None, "")]
        if len(filled) >= 2 and len(filled) * 2 >= widest and row[0].row not in merged_rows:
            return row[0].row
    raise ValueError("no header row found: the sheet needs a row naming its columns")


def _validation_lists(ws: Any) -> dict[int, list[str]]:
    """Column index (0-based) -> options, for list data validations."""
    from openpyxl.utils import range_boundaries

    out: dict[int, list[str]] = {}
    for dv in ws.data_validations.dataValidation:
        if dv.type != "list" or not dv.formula1:
            continue
        formula = dv.formula1.strip()
        if formula.startswith('"'):
            options = [o.strip() for o in formula.strip('"').split(",") if o.strip()]
        else:
            options = _range_values(ws, formula)
        if not options:
            continue
        for rng in dv.sqref.ranges:
            min_col, _, max_col, _ = range_boundaries(str(rng))
            assert min_col is not None and max_col is not None  # a validation range names its columns
            for col in range(min_col, max_col + 1):
                out[col - 1] = options
    return out


def _range_values(ws: Any, formula: str) -> list[str]:
    ref = formula.lstrip("=")
    sheet = ws
    if "!" in ref:
        name, _, ref = ref.rpartition("!")
        name = name.strip("'")
        if name not in ws.parent.sheetnames:
            return []
        sheet = ws.parent[name]
    try:
        cells = sheet[ref.replace("$", "")]
    except (ValueError, KeyError):
        return []
    flat = cells if not isinstance(cells, tuple) else [c for row in cells for c in (row if isinstance(row, tuple) else (row,))]
    return [str(c.value).strip() for c in flat if c.value not in (None, "")]


def _infer(col: _Col) -> None:
    values = [v for v in col.values if v not in (None, "")]
    fmts = [f for v, f in zip(col.values, col.formats) if v not in (None, "")]
    if col.options:
        col.type = "select"
        return
    if not values:
        return
    if all(isinstance(v, (dt.datetime, dt.date)) for v in values):
        has_time = any(isinstance(v, dt.datetime) and v.time() != dt.time(0) for v in values) or \
            any(_TIME_FMT.search(f or "") for f in fmts)
        col.type = "datetime" if has_time else "date"
        return
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        for f in fmts:
            for sym, code in _CURRENCY.items():
                if sym in (f or ""):
                    col.type, col.currency = "money", code
                    return
        if all(float(v).is_integer() for v in values) and not any("0.0" in (f or "") for f in fmts):
            col.type = "integer"
        else:
            col.type = "number"
        return
    if any(len(str(v)) > 100 or "\n" in str(v) for v in values):
        col.type = "textarea"


def _guess_select(col: _Col, values: list[Any]) -> None:
    """A text column with a few distinct values, each used more than once, is a choice."""
    texts = [str(v).strip() for v in values if v not in (None, "")]
    distinct = sorted(set(texts), key=texts.index)
    if col.type == "text" and len(texts) >= 4 and len(distinct) <= MAX_OPTIONS and len(distinct) * 2 <= len(texts):
        col.type, col.options = "select", distinct


def _split_lines(cols: list[_Col]) -> tuple[Optional[_Col], list[_Col], list[_Col], list[tuple[int, int]]]:
    """(key column, parent columns, line columns) when a column repeats on consecutive rows.

    A key's runs are its records: a value that comes back after another one (a status, a
    customer with several orders) does not name a record, so that column is no key."""
    n = max((len(c.values) for c in cols), default=0)
    for key in cols:
        if key.type not in ("text", "integer"):
            continue
        groups: list[tuple[int, int]] = []
        start = 0
        for i in range(1, n + 1):
            if i == n or key.values[i] != key.values[start] or key.values[i] in (None, ""):
                groups.append((start, i))
                start = i
        if not any(b - a >= 2 for a, b in groups) or any(key.values[a] in (None, "") for a, _ in groups):
            continue
        if len({repr(key.values[a]) for a, _ in groups}) != len(groups):
            continue
        parent: list[_Col] = []
        lines: list[_Col] = []
        for c in cols:
            if c is key:
                continue
            constant = all(len({repr(c.values[j]) for j in range(a, b)}) == 1 for a, b in groups)
            (parent if constant else lines).append(c)
        if lines:
            return key, [key] + parent, lines, groups
    return None, cols, [], []


def _label(header: str) -> Any:
    return {"zh-CN": header} if _CJK.search(header) else {"en": header, "zh-CN": header}


def _field(col: _Col) -> dict[str, Any]:
    out: dict[str, Any] = {"name": col.name, "type": col.type, "label": _label(col.header)}
    if col.type == "select" and col.options:
        out["options"] = list(col.options)
    if col.type == "money" and col.currency:
        out["currency"] = col.currency
    return out


def form_from_excel(source: Union[str, "os.PathLike[str]", IO[bytes]], *, name: Optional[str] = None,
                    sheet: Optional[str] = None, label: Optional[str] = None) -> str:
    """The YAML text of a form definition inferred from a spreadsheet template."""
    import openpyxl

    from engine.io.xlsx import package_head

    wb = openpyxl.load_workbook(package_head(source, HEAD_ROWS), data_only=True)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    head = _header_row(ws)
    title_cell = ws.cell(row=head - 1, column=1).value if head > 1 else None
    lists = _validation_lists(ws)
    cols: list[_Col] = []
    used: set[str] = set()
    for cell in ws[head]:
        if cell.value in (None, ""):
            continue
        header = str(cell.value).strip()
        base = snake(header) if not _CJK.search(header) else ""
        fname = base or f"field_{len(cols) + 1}"
        while fname in used or fname in ("id", "version", "owner", "created_at", "created_by",
                                         "updated_at", "updated_by", "lines"):
            fname = f"{fname}_{len(cols) + 1}"
        used.add(fname)
        cols.append(_Col(cell.column - 1, header, fname, options=lists.get(cell.column - 1)))
    for row in ws.iter_rows(min_row=head + 1, max_row=head + SAMPLE_ROWS):
        if all(c.value in (None, "") for c in row):
            continue
        for col in cols:
            c = row[col.index] if col.index < len(row) else None
            value = getattr(c, "value", None)
            col.values.append(value.strip() if isinstance(value, str) else value)
            col.formats.append(getattr(c, "number_format", "") or "")
    wb.close()
    for col in cols:
        _infer(col)
    key, parent, lines, groups = _split_lines(cols)
    for col in parent:
        if col is not key:
            _guess_select(col, [col.values[a] for a, _ in groups] if groups else col.values)
    for col in lines:
        _guess_select(col, col.values)
    fields = [_field(c) for c in parent]
    if key is not None:
        fields[0]["unique"] = True
        fields[0]["required"] = True
        fields[0]["searchable"] = True
        fields.append({"name": "lines", "type": "table", "label": {"zh-CN": "明细", "en": "Lines"},
                       "fields": [_field(c) for c in lines]})
    src_name = source if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "")
    stem = os.path.splitext(os.path.basename(str(src_name)))[0]
    form_name = name or snake(stem) or "imported_form"
    form_label = label or (str(title_cell).strip() if title_cell else "") or stem or form_name
    doc: dict[str, Any] = {"name": form_name, "label": _label(form_label)}
    text_fields = [c.name for c in parent if c.type == "text"]
    if text_fields:
        doc["title"] = key.name if key is not None else text_fields[0]
    doc["fields"] = fields
    header = (f"# Generated from {os.path.basename(str(src_name)) or 'a spreadsheet'} "
              f"(header row {head}): review names, types and options before publishing.\n")
    return header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)
