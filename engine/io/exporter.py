"""Export a list view to rows, .csv and .xlsx in constant memory.

Rows come from the database in pages (keyset on ``id`` when the view has no sort, a
server-side cursor otherwise); sub-table lines become extra rows that repeat the record's
cells, with ``<sub-table label>.<field label>`` headers: the convention import reads back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from decimal import Decimal
from typing import IO, Any, Iterator, Optional, Sequence

import sqlalchemy as sa

from engine.context import RunContext
from engine.definitions.model import FieldSpec
from engine.io.cells import USERS, Cell, Names, cell_writer
from engine.io.columns import header_cells
from engine.io.links import names_for, user_names
from engine.runtime import Definitions
from engine.store.db import Database

PAGE = 1000

__all__ = ["Cell", "csv_chunks", "export_rows", "write_file", "write_xlsx", "xlsx_chunks"]


def export_rows(
    db: Database,
    defs: Definitions,
    ctx: RunContext,
    form: str,
    where: Optional[sa.ColumnElement[bool]],
    order: Sequence[tuple[str, bool]],
) -> Iterator[list[Any]]:
    """The header row (labels in the caller's language), then the data rows."""
    spec = defs.forms[form]
    cols = header_cells(spec, ctx.locale, defs.policy.hidden(ctx, form))
    yield [h for h, _, _ in cols]
    # (sub-table name or None, field, writer) in header order: a sub-table may come before
    # fields of the record, so each row is filled column by column
    columns = [(t.name if t else None, f, cell_writer(f, ctx.locale, ctx.timezone)) for _, t, f in cols]
    tables = list(dict.fromkeys(t for t, _, _ in columns if t is not None))
    table = defs.tables.table(form)
    selected = [table.c.id] + [
        table.c[n] for n in dict.fromkeys(f.name for t, f, _ in columns if t is None) if n in table.c and n != "id"
    ]
    with db.connect() as conn:
        for page in _pages(conn, table, selected, where, order):
            names = _names(conn, defs, form, page, tables)
            for rec in page:
                head = [
                    None if t is not None or (v := rec.get(f.name)) is None else write(v, names)
                    for t, f, write in columns
                ]
                lines = _lines(rec, tables)
                if not lines:
                    yield head
                    continue
                for line in lines:
                    row = list(head)
                    for i, (t, f, write) in enumerate(columns):
                        item = line.get(t) if t is not None else None
                        if item and (v := item.get(f.name)) is not None:
                            row[i] = write(v, names)
                    yield row


def _pages(
    conn: Any, table: sa.Table, selected: list[Any], where: Any, order: Sequence[tuple[str, bool]]
) -> Iterator[list[dict[str, Any]]]:
    """The records in pages of PAGE, as dicts of the ``selected`` columns (the exported fields)."""
    base = sa.select(*selected)
    if where is not None:
        base = base.where(where)
    if not order:
        last = 0
        while True:
            rows = [
                dict(r) for r in conn.execute(base.where(table.c.id > last).order_by(table.c.id).limit(PAGE)).mappings()
            ]
            if not rows:
                return
            yield rows
            last = rows[-1]["id"]
    q = base
    for name, desc in order:
        q = q.order_by(table.c[name].desc() if desc else table.c[name].asc())
    q = q.order_by(table.c.id.asc())
    result = conn.execution_options(stream_results=True, yield_per=PAGE).execute(q).mappings()
    for part in result.partitions(PAGE):
        yield [dict(r) for r in part]


def _lines(rec: dict[str, Any], tables: list[str]) -> list[dict[str, dict[str, Any]]]:
    """Line i of every sub-table side by side: row i of the export."""
    lines: list[dict[str, dict[str, Any]]] = []
    for tname in tables:
        for i, item in enumerate(rec.get(tname) or ()):
            while len(lines) <= i:
                lines.append({})
            lines[i][tname] = item
    return lines


def _names(conn: Any, defs: Definitions, form_name: str, page: list[dict[str, Any]], tables: list[str]) -> Names:
    """Load the page's child rows and the export names of every linked record and user."""
    forms = defs.forms
    if tables:
        ids = [r["id"] for r in page]
        for tname in tables:
            child = defs.tables.child_table(form_name, tname)
            by_parent: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
            for row in conn.execute(
                sa.select(child).where(child.c.parent_id.in_(ids)).order_by(child.c.parent_id, child.c.pos)
            ).mappings():
                by_parent[row["parent_id"]].append(dict(row))
            for r in page:
                r[tname] = by_parent[r["id"]]
    wanted: dict[str, set[int]] = {}
    for f in forms[form_name].fields:
        if f.is_table and f.name in tables:
            for c in f.fields:
                _wanted(wanted, c, forms, [line.get(c.name) for r in page for line in r.get(f.name) or ()])
        else:
            _wanted(wanted, f, forms, [r.get(f.name) for r in page])
    out: dict[tuple[str, int], Any] = {}
    for target, ids_ in wanted.items():
        found = user_names(conn, ids_) if target == USERS else names_for(conn, forms[target], defs.tables, ids_)
        for rid, name in found.items():
            out[(target, rid)] = name
    return out


def _wanted(wanted: dict[str, set[int]], f: FieldSpec, forms: Any, values: list[Any]) -> None:
    """Collect the ids a reference field of the page points to, by target (a form or users)."""
    if f.is_user:
        target = USERS
    elif f.refers_to_records and f.form in forms:
        target = f.form or ""
    else:
        return
    ids = wanted.setdefault(target, set())
    for v in values:
        if isinstance(v, list):
            ids.update(x for x in v if isinstance(x, int))
        elif isinstance(v, int):
            ids.add(v)


# ---- writers ---------------------------------------------------------------------------------


def _text(value: Any) -> Any:
    """A cell as the csv module writes it: dates in ISO form, decimals in full, None as empty."""
    kind = type(value)
    if kind is str or kind is int or kind is float:
        return value
    if value is None:
        return ""
    fmt = _TEXT.get(kind)
    return value if fmt is None else fmt(value)


_TEXT: dict[type, Any] = {
    dt.datetime: lambda v: v.isoformat(sep=" "),
    dt.date: dt.date.isoformat,
    dt.time: dt.time.isoformat,
    Decimal: lambda v: format(v, "f"),
    Cell: lambda c: _text(c.value),
}


def csv_chunks(rows: Iterator[list[Any]], *, bom: bool = True, every: int = 200) -> Iterator[bytes]:
    """UTF-8 CSV (with the BOM Excel needs to read Chinese), a few hundred rows per chunk."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if bom:
        buf.write("\ufeff")
    for n, row in enumerate(rows, 1):
        writer.writerow([_text(v) for v in row])
        if n % every == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


def write_xlsx(rows: Iterator[list[Any]], out: IO[bytes], *, title: str = "Sheet1") -> int:
    """Write rows with openpyxl's write-only mode (rows go to disk, not memory); returns the count."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "Sheet1")
    count = 0
    bold = Font(bold=True)
    for n, row in enumerate(rows):
        cells = []
        for value in row:
            if isinstance(value, Cell):
                v = float(value.value) if isinstance(value.value, Decimal) else value.value
                cell = WriteOnlyCell(ws, value=v)
                cell.number_format = value.fmt
            else:
                cell = WriteOnlyCell(ws, value=value)
                if cell.data_type == "f":
                    cell.data_type = "s"  # text such as "=A1" stays text, never a formula
                if n == 0:
                    cell.font = bold
            cells.append(cell)
        ws.append(cells)
        count += 1
    if count:
        ws.freeze_panes = "A2"
    wb.save(out)
    return max(count - 1, 0)


def xlsx_chunks(rows: Iterator[list[Any]], *, title: str = "Sheet1", size: int = 65536) -> Iterator[bytes]:
    """The .xlsx as byte chunks: built in a temporary file, then read back piece by piece."""
    with tempfile.TemporaryFile() as tmp:
        write_xlsx(rows, tmp, title=title)
        tmp.seek(0)
        while True:
            data = tmp.read(size)
            if not data:
                break
            yield data


def write_file(rows: Iterator[list[Any]], path: str, fmt: Optional[str] = None, *, title: str = "Sheet1") -> int:
    """Write rows to ``path`` (.xlsx or .csv by extension, or ``fmt``); returns the data row count."""
    fmt = fmt or ("csv" if path.lower().endswith(".csv") else "xlsx")
    counter = _Counter(rows)
    with open(path, "wb") as fh:
        if fmt == "csv":
            for chunk in csv_chunks(counter):
                fh.write(chunk)
        else:
            write_xlsx(counter, fh, title=title)
    return max(counter.n - 1, 0)


class _Counter:
    def __init__(self, rows: Iterator[list[Any]]) -> None:
        self.rows, self.n = iter(rows), 0

    def __iter__(self) -> "_Counter":
        return self

    def __next__(self) -> list[Any]:
        row = next(self.rows)
        self.n += 1
        return row
