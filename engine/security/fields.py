"""Field access by path: a field (``cost``) or a sub-table column (``lines.unit_price``).

:meth:`engine.security.policy.Policy.field_access` answers with such paths; these helpers
apply the answer to record data the same way on every path (answers, history, writes,
filters), so that a hidden column behaves like a hidden field.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from engine.definitions.model import FormSpec


def columns_of(paths: Iterable[str], table: str) -> frozenset[str]:
    """The columns of the sub-table ``table`` named in ``paths`` (``lines.qty`` -> ``qty``)."""
    prefix = table + "."
    return frozenset(p[len(prefix) :] for p in paths if p.startswith(prefix))


def reads_hidden(name: str, hidden: frozenset[str]) -> bool:
    """True when a name an expression reads is hidden: the field itself (``cost``,
    ``customer.tier`` when ``customer`` is hidden) or a sub-table column of it
    (``lines.unit_price``, ``lines.product.name`` when ``lines.product`` is hidden)."""
    parts = name.split(".")
    if parts[0] == "this":
        parts = parts[1:]
    return bool(parts) and (parts[0] in hidden or ".".join(parts[:2]) in hidden)


def _tables(form: FormSpec, paths: frozenset[str]) -> list[tuple[str, frozenset[str]]]:
    """(sub-table, its columns in ``paths``) for the sub-tables that have some."""
    out = []
    for f in form.fields:
        if f.is_table and f.name not in paths:
            cols = columns_of(paths, f.name)
            if cols:
                out.append((f.name, cols))
    return out


def _rows_without(rows: Any, columns: frozenset[str]) -> Any:
    if not isinstance(rows, list):
        return rows
    return [{k: v for k, v in r.items() if k not in columns} if isinstance(r, Mapping) else r for r in rows]


def without_hidden(form: FormSpec, data: Mapping[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    """Record data (as JSON) without the fields and the sub-table columns in ``hidden``."""
    out = {k: v for k, v in data.items() if k not in hidden}
    for table, columns in _tables(form, hidden):
        if table in out:
            out[table] = _rows_without(out[table], columns)
    return out


def changes_without_hidden(form: FormSpec, changes: Mapping[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    """An audit entry's ``{field: [old, new]}`` without hidden fields and columns; a sub-table
    whose rows differ only in hidden columns is left out, as a hidden field is."""
    out = {k: v for k, v in changes.items() if k not in hidden}
    for table, columns in _tables(form, hidden):
        change = out.get(table)
        if not isinstance(change, list) or len(change) != 2:
            continue
        before, after = (_rows_without(side, columns) for side in change)
        if before == after:
            del out[table]
        else:
            out[table] = [before, after]
    return out


def blocked_in(form: FormSpec, data: Mapping[str, Any], blocked: frozenset[str]) -> list[str]:
    """What a write sets that ``blocked`` refuses, as validation names it: fields (``cost``)
    and sub-table cells (``lines[2].unit_price``, rows counted from 1)."""
    out = [str(name) for name in data if name in blocked]
    for table, columns in _tables(form, blocked):
        rows = data.get(table)
        if isinstance(rows, list):
            out += [
                f"{table}[{i}].{c}"
                for i, row in enumerate(rows, start=1)
                if isinstance(row, Mapping)
                for c in row
                if c in columns
            ]
    return out


def needs_stored(form: FormSpec, data: Any, blocked: frozenset[str]) -> bool:
    """True when a write gives rows of a sub-table with columns in ``blocked``: the rows that
    keep their id must keep those columns' stored values (see :func:`with_stored`)."""
    return isinstance(data, Mapping) and any(isinstance(data.get(table), list) for table, _ in _tables(form, blocked))


def with_stored(
    form: FormSpec, data: Mapping[str, Any], stored: Mapping[str, Any], blocked: frozenset[str]
) -> dict[str, Any]:
    """An update's data where each sub-table row that keeps its id (a row of ``stored``, the
    record as JSON) has the stored values of the ``blocked`` columns the writer may not set;
    a new row gets their defaults, as any row does for a column it does not give."""
    out = dict(data)
    for table, columns in _tables(form, blocked):
        rows = out.get(table)
        if not isinstance(rows, list):
            continue
        before = {r.get("id"): r for r in stored.get(table) or () if isinstance(r, Mapping)}
        out[table] = [
            {**row, **{c: before[row["id"]].get(c) for c in columns if c in before[row["id"]]}}
            if isinstance(row, Mapping) and row.get("id") in before
            else row
            for row in rows
        ]
    return out
