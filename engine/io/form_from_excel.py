"""An Excel template -> a form definition (YAML text) for a person to review before publishing.

The header row names the columns (a merged title row above it is skipped, and becomes the
form's label). Labels keep the header text; names are snake_case: English words as they are
(``Unit Price`` -> ``unit_price``), Chinese through a table of business words and pinyin
(``订单号`` -> ``order_no``, ``颜色`` -> ``yan_se``). Types come from the cells below (see
:mod:`engine.io.template_columns`); drop-down lists give their options exactly, from wherever
the list is kept (:mod:`engine.io.excel_lists`); a column filled by formulas becomes a
computed field whose ``formula`` is the Excel formula translated over the field names
(:mod:`engine.io.excel_formula`), or an input field with a note saying why not; a totals row
(``=SUM(M3:M20)``) becomes a rollup of the sub-table column. ``required`` and ``unique`` are
never set from a sample: they are written as commented-out hints to confirm.

The draft is checked by loading it as a pack before it is returned: a translated formula that
does not type-check becomes an input field with the checker's message.
"""

from __future__ import annotations

import os
import re
import warnings
from typing import IO, Any, Optional, Union

from engine.io.excel_formula import Row, Total, Untranslatable, numeric_refs, row_totals, translate
from engine.io.excel_lists import DropDown, validation_lists
from engine.io.field_names import CHILD_RESERVED, RESERVED, Namer, snake
from engine.io.template_columns import Col, guess_select, infer, split_lines
from engine.io.template_messages import render
from engine.io.template_yaml import Draft, dump
from engine.io.totals import TotalsRows

SAMPLE_ROWS = 500
#: rows of each sheet read at all: the header, the samples and data-validation source ranges
#: (a large data file given as a template is cut here, so it is not loaded whole)
HEAD_ROWS = 5000
_CJK = re.compile(r"[\u3400-\u9fff]")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_DRAFT_PACK = 'name: draft\nversion: "0.1.0"\n'
__all__ = ["form_from_excel", "snake"]


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


def _label(header: str) -> Any:
    return {"zh-CN": header} if _CJK.search(header) else {"en": header, "zh-CN": header}


class _Template:
    """One sheet read: its columns with their samples, the totals rows, the drop-down lists."""

    def __init__(self, source: Union[str, "os.PathLike[str]", IO[bytes]], sheet: Optional[str]) -> None:
        import openpyxl

        from engine.io.xlsx import date_styles, package_head, sheet_part

        head = package_head(source, HEAD_ROWS)
        with warnings.catch_warnings():  # Excel's list extensions: read from the XML below
            warnings.filterwarnings("ignore", message=".*extension is not supported")
            wb = openpyxl.load_workbook(head, data_only=True)
            formulas = openpyxl.load_workbook(head, read_only=True)
            try:
                ws = wb[sheet] if sheet else wb.worksheets[0]
                self.lists: dict[int, DropDown] = validation_lists(sheet_part(head, ws.title), wb, ws)
                self.sheet, self.epoch, self.dates = ws.title, wb.epoch, date_styles(head)
                self.head = _header_row(ws)
                title = ws.cell(row=self.head - 1, column=1).value if self.head > 1 else None
                self.title = str(title).strip() if title else ""
                self.cols = self._columns(ws)
                self.totals: list[tuple[int, list[Total]]] = []
                self._samples(ws, formulas[ws.title])
            finally:
                wb.close()
                formulas.close()

    def _columns(self, ws: Any) -> list[Col]:
        namer = Namer(RESERVED | CHILD_RESERVED)
        cols: list[Col] = []
        for cell in ws[self.head]:
            if cell.value in (None, ""):
                continue
            header = " ".join(str(cell.value).split())
            drop = self.lists.get(cell.column)
            options = list(drop.options) if drop is not None and drop.options else None
            cols.append(Col(cell.column - 1, header, namer.name(header, len(cols) + 1), options=options))
        return cols

    def _samples(self, ws: Any, fws: Any) -> None:
        """Read the sample rows: cached values and formats, and each cell's formula."""
        last = max((c.index for c in self.cols), default=0) + 1
        rows = zip(
            ws.iter_rows(min_row=self.head + 1, max_row=self.head + SAMPLE_ROWS, max_col=last),
            fws.iter_rows(min_row=self.head + 1, max_row=self.head + SAMPLE_ROWS, min_col=1, max_col=last),
        )
        spare: list[tuple[int, tuple[Any, ...], dict[int, str]]] = []
        totals_rows = TotalsRows()
        for number, (cells, fcells) in enumerate(rows, start=self.head + 1):
            formulas = {i: _formula(c) for i, c in enumerate(fcells) if _formula(c)}
            totals = row_totals(number, formulas.values())
            if totals:
                self.totals.append((number, totals))
            if totals_rows.check(number, [self._value(c) for c in cells], formulas):
                continue  # by its formulas (a rollup, above) or a 合计 typed over sums: no sample
            if any(c.index not in formulas and _filled(_at(cells, c.index)) for c in self.cols):
                self._take(number, cells, formulas)
            elif formulas:
                spare.append((number, cells, formulas))
        if not any(c.values for c in self.cols):  # a template with formulas filled down, no sample yet
            for number, cells, formulas in spare:
                self._take(number, cells, formulas)

    def _take(self, number: int, cells: tuple[Any, ...], formulas: dict[int, str]) -> None:
        """One sample row: each column's cached value, number format and formula."""
        for col in self.cols:
            cell = _at(cells, col.index)
            value = self._value(cell)
            col.values.append(value.strip() if isinstance(value, str) else value)
            col.formats.append(getattr(cell, "number_format", "") or "")
            if col.index in formulas:
                col.formulas.append((number, formulas[col.index]))
            elif _filled(cell):
                col.typed += 1

    def _value(self, cell: Any) -> Any:
        """A cell's cached value; a number in a date format openpyxl does not know as one
        (``yyyy"年"m"月"d"日"``, built-in format 31, which WPS leaves to the locale) as a date."""
        from openpyxl.utils.datetime import from_excel

        value = getattr(cell, "value", None)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and cell.style_id in self.dates:
            return from_excel(value, self.epoch)
        return value


def _at(cells: tuple[Any, ...], index: int) -> Any:
    return cells[index] if index < len(cells) else None


def _filled(cell: Any) -> bool:
    value = getattr(cell, "value", None)
    return value is not None and str(value).strip() != ""


def _formula(cell: Any) -> str:
    """The formula of a cell read without cached values ('' when it holds none)."""
    if getattr(cell, "data_type", None) != "f":
        return ""
    value = getattr(cell, "value", None)
    text = getattr(value, "text", value)  # an array formula keeps its text
    return str(text) if isinstance(text, str) and text.startswith("=") else ""


class _Drafting:
    """The fields of the form, as drafts with their comments."""

    def __init__(self, t: _Template, lang: str) -> None:
        self.t, self.lang = t, lang
        for col in t.cols:
            infer(col)
        by_index = {c.index + 1: c for c in t.cols}
        for col in (c for c in t.cols if c.is_formula):  # no sample yet: a number if a formula says so
            for other in (by_index.get(i) for i in numeric_refs(col.formulas[0][1])):
                if other is not None and other.type == "text" and not any(v not in (None, "") for v in other.values):
                    other.type = "number"
        self.key, self.parent, self.lines, self.groups = split_lines(t.cols)
        for col in self.parent:
            if col is not self.key:
                guess_select(col, [col.values[a] for a, _ in self.groups] if self.groups else col.values)
        for col in self.lines:
            guess_select(col, col.values)
        self.header: list[str] = []

    def fields(self) -> list[Draft]:
        out = [self.field(c) for c in self.parent]
        if self.key is not None:
            out[0].props["searchable"] = True
            out.append(
                Draft(
                    {"name": "lines", "type": "table", "label": {"zh-CN": "明细", "en": "Lines"}},
                    children=[self.field(c) for c in self.lines],
                )
            )
        out.extend(self.totals())
        return out

    def field(self, col: Col) -> Draft:
        d = Draft({"name": col.name, "type": col.type, "label": _label(col.header)})
        drop = self.t.lists.get(col.index + 1)
        if col.type == "select" and col.options:
            d.props["options"] = list(col.options)
            if drop is not None and drop.options:
                d.note("options", render("drop_down", self.lang, source=drop.source))
        if drop is not None and drop.options is None and not col.is_formula:
            d.note("name", render("drop_down_open", self.lang, source=drop.source))
        if col.type == "money" and col.currency:
            d.props["currency"] = col.currency
        if col.is_formula:
            self.formula(col, d)
        else:
            d.hints.extend(self.hints(col))
        return d

    def formula(self, col: Col, d: Draft) -> None:
        first = col.formulas[0][1]
        try:
            d.props["formula"] = self.translate(col)
            d.note("formula", f"Excel: {first}")
        except Untranslatable as exc:
            reason = render(exc.reason, self.lang, **exc.params)
            d.note("name", render("input_instead", self.lang, formula=first, reason=reason))

    def translate(self, col: Col) -> str:
        in_lines = col in self.lines
        names: dict[int, str] = {}
        barred: dict[int, str] = {}
        for other in self.t.cols:
            if other in self.lines:
                (names if in_lines else barred)[other.index + 1] = other.name
            else:
                names[other.index + 1] = f"parent.{other.name}" if in_lines else other.name
        found: dict[str, str] = {}
        for row, text in col.formulas:
            found.setdefault(translate(text, Row(row, col.index + 1, names, self.t.sheet, barred)), text)
        if len(found) > 1:
            raise Untranslatable("rows_differ", other=list(found.values())[1])
        return next(iter(found))

    def hints(self, col: Col) -> list[tuple[str, str]]:
        by_record = [col.values[a] for a, _ in self.groups] if (self.groups and col not in self.lines) else col.values
        filled = [v for v in by_record if v not in (None, "")]
        out = []
        keyish = col is self.key or (col.looks_like_key() and col.type in ("text", "integer") and len(filled) >= 3)
        if (
            keyish
            and len(filled) >= 2
            and len(filled) == len(by_record)
            and len({repr(v) for v in filled}) == len(filled)
        ):
            out.append(("unique: true", render("hint_unique", self.lang)))
        if len(by_record) >= 2 and len(filled) == len(by_record):
            out.append(("required: true", render("hint_required", self.lang)))
        return out

    def totals(self) -> list[Draft]:
        """Rollups for the totals rows of sub-table columns; a note for totals over records."""
        out: list[Draft] = []
        namer = Namer(RESERVED | {c.name for c in self.t.cols})
        by_index = {c.index + 1: c for c in self.t.cols}
        for row, totals in self.t.totals:
            elsewhere = []
            for total in totals:
                col = by_index.get(total.column)
                if col is None or col not in self.lines or col.type not in ("integer", "number", "money", "percent"):
                    elsewhere.append(total.formula)
                    continue
                result = "decimal" if total.fn == "avg" and col.type == "integer" else col.type
                d = Draft(
                    {
                        "name": namer.name(f"{col.name} total", total.column),
                        "type": "rollup",
                        "label": _label(col.header + (" total" if not _CJK.search(col.header) else "合计")),
                        "result": result,
                    }
                )
                if col.currency:
                    d.props["currency"] = col.currency
                d.props["rollup"] = f"{total.fn}(lines.{col.name})"
                d.note("rollup", render("total_field", self.lang, row=row, formula=total.formula))
                out.append(d)
            if elsewhere:
                self.header.append(render("total_report", self.lang, row=row, formulas=", ".join(elsewhere)))
        return out


def _check(name: str, header: list[str], top: dict[str, Any], fields: list[Draft], lang: str) -> str:
    """The YAML text, once it loads: a formula the checker refuses becomes an input field."""
    from engine.definitions.loader import check_pack_files

    while True:
        text, formulas = dump(header, top, fields)
        errors = check_pack_files({"pack.yaml": _DRAFT_PACK, f"forms/{name}.yaml": text}, root="draft")
        culprits = {e.position.line: e for e in errors if e.position.line in formulas}
        if not culprits:
            return text
        for line, error in culprits.items():
            d = formulas[line]
            if d.props["type"] == "integer" and error.message.endswith("got decimal"):  # qty * 1.5
                d.props["type"] = "number"
                continue
            formula = d.above.pop("formula", ["Excel: ?"])[0].removeprefix("Excel: ")
            del d.props["formula"]
            reason = render("does_not_check", lang, error=error.message)
            d.note("name", render("input_instead", lang, formula=formula, reason=reason))


def form_from_excel(
    source: Union[str, "os.PathLike[str]", IO[bytes]],
    *,
    name: Optional[str] = None,
    sheet: Optional[str] = None,
    label: Optional[str] = None,
    lang: str = "zh-CN",
) -> str:
    """The YAML text of a form definition inferred from a spreadsheet template.

    ``lang`` is the language of the comments (zh-CN or en)."""
    template = _Template(source, sheet)
    drafting = _Drafting(template, lang)
    fields = drafting.fields()
    src_name = source if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "")
    stem = os.path.splitext(os.path.basename(str(src_name)))[0]
    form_name = name or snake(stem) or "imported_form"
    if not _NAME.fullmatch(form_name):
        raise ValueError(f"{form_name!r} is not a form name: use lower-case letters, digits and _")
    form_label = label or template.title or stem or form_name
    top: dict[str, Any] = {"name": form_name, "label": _label(form_label)}
    texts = [c.name for c in drafting.parent if c.type == "text" and not c.is_formula]
    if texts:
        top["title"] = drafting.key.name if drafting.key is not None else texts[0]
    file = os.path.basename(str(src_name)) or render("a_spreadsheet", lang)
    header = [render("generated", lang, file=file, row=template.head), *drafting.header]
    return _check(form_name, header, top, fields, lang)
