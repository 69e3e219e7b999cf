"""Decision tables kept in Excel: an .xlsx sheet -> the same structure as a ``*.decision.yaml``.

Layout (one table per sheet; cells are read as text, numbers and dates as written)::

        A            B              C              D
    1   name         approval_route                              key/value rows (optional):
    2   form         orders                                      name 名称, form 表单,
    3   hit          first                                       hit 命中策略, label 标题
    4
    5   in           in             in             out            the marker row: in/输入, out/输出,
                                                                   out:decimal / 输出:decimal for a type
    6   金额 = amount  客户等级 = tier  渠道 = channel  审批路线 = route   names row: ``label = name``
    7   < 50000      A              -              auto           or just ``name``; then one row per rule
    8   >= 200000    -              -              gm

Input names are field paths or expressions; the rows below the names row are the rules
(blank rows are skipped). Each cell keeps its place: errors print
``approval.xlsx[Rules!B7]:1:3`` (sheet, cell, then the character inside the cell).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, Optional

from engine.errors import DefinitionError, DefinitionErrors, Position
from engine.rules.decision_cells import CellText, Locate, RowList, cell_text

META = {
    "name": "name",
    "名称": "name",
    "form": "form",
    "表单": "form",
    "hit": "hit",
    "命中策略": "hit",
    "label": "label",
    "标题": "label",
}
INPUT_MARKS = {"in", "input", "输入"}
OUTPUT_MARKS = {"out", "output", "输出"}
_LABELLED = re.compile(r"^\s*([^=<>!]+?)\s*=\s*(?!=)(.+?)\s*$")


def _cell(path: str, sheet: str, ref: str, value: Any) -> Optional[CellText]:
    text = cell_text(value)
    if text is None:
        return None
    where = f"{path}[{sheet}!{ref}]"
    return CellText(text, lambda offset: Position(where, 1, 1 + offset, text))


def _shifted(cell: CellText, start: int) -> Locate:
    """The locator of the part of ``cell`` that starts at ``start``."""
    return lambda offset: cell.locate(start + offset)


def _mark(value: Any) -> Optional[tuple[str, Optional[str]]]:
    """('in'|'out', type or None) for a marker cell, else None."""
    text = cell_text(value)
    if text is None:
        return None
    word, _, type_name = text.strip().lower().replace("：", ":").partition(":")
    if word in INPUT_MARKS and not type_name:
        return "in", None
    if word in OUTPUT_MARKS:
        return "out", type_name.strip() or None
    return None


def read_decision_xlsx(
    path: str | Path, *, sheet: Optional[str] = None, content: Optional[bytes] = None
) -> dict[str, Any]:
    """Read one sheet (the first by default) into the structure ``compile_decision_table`` takes.

    ``content`` gives the workbook's bytes (then ``path`` only names it in messages).
    """
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    file = str(path)
    book = load_workbook(io.BytesIO(content) if content is not None else file, data_only=True)
    try:
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        title = ws.title
        grid = [list(r) for r in ws.iter_rows()]
    finally:
        book.close()
    table: dict[str, Any] = {}
    marks: list[Optional[tuple[str, Optional[str]]]] = []
    header_at = None
    for i, row in enumerate(grid):
        values = [c.value for c in row]
        found = [_mark(v) for v in values]
        if any(found) and all(f is not None or cell_text(v) is None for f, v in zip(found, values)):
            marks, header_at = found, i
            break
        key = cell_text(values[0]) if values else None
        if key is not None and key.strip().lower() in META and len(row) > 1:
            table[META[key.strip().lower()]] = _cell(file, title, row[1].coordinate, values[1])
    if header_at is None or header_at + 1 >= len(grid):
        raise DefinitionErrors(
            [
                DefinitionError(
                    "no decision table found: expected a row marking each column in or out (输入/输出), "
                    "then a row of column names",
                    Position(f"{file}[{title}]"),
                )
            ]
        )
    names = grid[header_at + 1]
    inputs: list[Any] = []
    outputs: list[Any] = []
    columns: list[int] = []
    for col, mark in enumerate(marks):
        if mark is None:
            continue
        cell = names[col] if col < len(names) else None
        name = _cell(file, title, cell.coordinate, cell.value) if cell is not None else None
        if name is None:
            raise DefinitionErrors(
                [
                    DefinitionError(
                        "this column has no name", Position(f"{file}[{title}!{grid[header_at][col].coordinate}]")
                    )
                ]
            )
        label, text = None, name
        labelled = _LABELLED.match(name)
        if labelled:
            label = labelled.group(1)
            start = labelled.start(2)
            text = CellText(labelled.group(2), _shifted(name, start))
        columns.append(col)
        if mark[0] == "in":
            inputs.append({"name": text, "label": label} if label else text)
        else:
            outputs.append({"name": text, "type": mark[1] or "string", **({"label": label} if label else {})})
    rows: list[list[Optional[CellText]]] = []
    positions: list[Position] = []
    for row in grid[header_at + 2 :]:
        cells = [_cell(file, title, row[c].coordinate, row[c].value) if c < len(row) else None for c in columns]
        if all(c is None for c in cells):
            continue
        rows.append(cells)
        positions.append(
            Position(f"{file}[{title}!{row[columns[0]].coordinate if columns[0] < len(row) else row[0].coordinate}]")
        )
    table.update(inputs=inputs, outputs=outputs, rows=RowList(rows, positions))
    return {
        k: (str(v) if isinstance(v, CellText) and k in ("name", "form", "hit", "label") else v)
        for k, v in table.items()
    }
