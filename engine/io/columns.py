"""Spreadsheet columns <-> form fields: matching headers, finding the header row.

A column names a field of the form by its name or by its label in any language, compared
without case and spaces (``Order date``, ``order_date``, ``下单日期``). A sub-table column is
``<table>.<field>`` with either part as a name or a label (``lines.qty``, ``订单明细.数量``),
or just the sub-table field's label or name when no form field and no other sub-table uses
it (``数量``, ``Quantity``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from engine.definitions.model import FieldSpec, FormSpec

_SPACE = re.compile(r"[\s_\-（）()]+")


def norm(text: Any) -> str:
    """A header compared without case, spaces, underscores or brackets."""
    return _SPACE.sub("", str(text)).lower() if text is not None else ""


@dataclass(frozen=True)
class Column:
    """One spreadsheet column matched to a field: ``table`` is set for sub-table columns."""

    index: int
    header: str
    field: FieldSpec
    table: Optional[FieldSpec] = None

    @property
    def path(self) -> str:
        return f"{self.table.name}.{self.field.name}" if self.table else self.field.name


@dataclass(frozen=True)
class ColumnMap:
    """The header row of a sheet, matched against a form."""

    header_row: int  # 1-based, as the spreadsheet shows it
    columns: tuple[Column, ...]
    unknown: tuple[str, ...]  # headers that match no field

    def parent(self) -> list[Column]:
        return [c for c in self.columns if c.table is None]

    def children(self) -> list[Column]:
        return [c for c in self.columns if c.table is not None]

    def by_path(self, path: str) -> Optional[Column]:
        for c in self.columns:
            if c.path == path:
                return c
        return None


def _names(f: FieldSpec) -> set[str]:
    return {norm(f.name), *(norm(t) for t in f.label.all())} - {""}


class FieldIndex:
    """Every header a form understands, normalised."""

    def __init__(self, form: FormSpec) -> None:
        self.form = form
        self.parent: dict[str, FieldSpec] = {}
        self.tables: dict[str, FieldSpec] = {}
        self.qualified: dict[str, tuple[FieldSpec, FieldSpec]] = {}
        bare: dict[str, list[tuple[FieldSpec, FieldSpec]]] = {}
        for f in form.fields:
            if f.is_table:
                for key in _names(f):
                    self.tables[key] = f
                for child in f.fields:
                    for ckey in _names(child):
                        bare.setdefault(ckey, []).append((f, child))
                        for tkey in _names(f):
                            self.qualified[f"{tkey}.{ckey}"] = (f, child)
            else:
                for key in _names(f):
                    self.parent.setdefault(key, f)
        self.bare = {k: v[0] for k, v in bare.items() if len(v) == 1 and k not in self.parent}

    def match(self, header: Any) -> Optional[tuple[Optional[FieldSpec], FieldSpec]]:
        """(sub-table or None, field) for a header, or None."""
        if header is None or str(header).strip() == "":
            return None
        text = str(header).strip().replace("。", ".").replace("．", ".")
        if "." in text:
            table, _, child = text.partition(".")
            hit = self.qualified.get(f"{norm(table)}.{norm(child)}")
            if hit:
                return hit
        key = norm(text)
        if key in self.parent:
            return None, self.parent[key]
        if key in self.bare:
            return self.bare[key]
        return None

    def column_map(self, header_row: int, cells: Sequence[Any]) -> ColumnMap:
        columns, unknown, seen = [], [], set()
        for i, cell in enumerate(cells):
            if cell is None or str(cell).strip() == "":
                continue
            hit = self.match(cell)
            if hit is None:
                unknown.append(str(cell).strip())
                continue
            col = Column(i, str(cell).strip(), hit[1], hit[0])
            if col.path in seen:
                unknown.append(str(cell).strip())
                continue
            seen.add(col.path)
            columns.append(col)
        return ColumnMap(header_row, tuple(columns), tuple(unknown))

    def looks_like_header(self, cells: Sequence[Any]) -> bool:
        """At least one cell names a field, and no more than half of the filled cells don't."""
        filled = [c for c in cells if c is not None and str(c).strip() != ""]
        if not filled:
            return False
        hits = sum(1 for c in filled if self.match(c) is not None)
        return hits >= 1 and hits * 2 >= len(filled)


def header_cells(
    form: FormSpec, locale: str, hidden: frozenset[str] = frozenset()
) -> list[tuple[str, Optional[FieldSpec], FieldSpec]]:
    """Export headers in ``locale``: parent labels, then ``<table label>.<field label>``;
    without the fields and sub-table columns (``lines.unit_price``) in ``hidden``."""
    from engine.forms import FIELD_TYPES

    out: list[tuple[str, Optional[FieldSpec], FieldSpec]] = []
    for f in form.fields:
        if f.name in hidden:
            continue
        if f.is_table:
            for child in f.fields:
                if f"{f.name}.{child.name}" in hidden:
                    continue
                out.append((f"{f.label.get(locale) or f.name}.{child.label.get(locale) or child.name}", f, child))
        elif FIELD_TYPES[f.type].stored:
            out.append((f.label.get(locale) or f.name, None, f))
    return out


def template_header(form: FormSpec, locale: str, blocked: frozenset[str]) -> list[str]:
    """The header of an import template: the columns an import takes for this form, in
    ``locale``, without computed fields (the server computes them) and without ``blocked``
    ones (fields the user may not see or write)."""
    from engine.forms.computations import is_computed

    return [header for header, _, f in header_cells(form, locale, blocked) if not is_computed(f)]
