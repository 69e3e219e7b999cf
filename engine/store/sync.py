"""Schema sync on publish: add what is new, refuse to destroy data without a migration.

A migration is a mapping ``{"form.field": "drop" | "convert"}``: ``drop`` allows a field
that holds data to be removed; ``convert`` retypes a column by passing every stored value
through the new field type (one failing value aborts the whole publish).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.errors import SchemaChangeRefused
from engine.store.tables import FormTables


def kind_of(coltype: Any) -> str:
    """A coarse storage kind, equal on both dialects for the same field type."""
    t = coltype if isinstance(coltype, sa.types.TypeEngine) else coltype()
    impl = getattr(t, "impl", None)
    if isinstance(t, sa.types.TypeDecorator) and impl is not None:
        t = impl if isinstance(impl, sa.types.TypeEngine) else impl()
    for cls, kind in (
        (sa.Boolean, "boolean"),
        (sa.Integer, "integer"),
        (sa.Numeric, "numeric"),
        (sa.Float, "numeric"),
        (sa.DateTime, "datetime"),
        (sa.Date, "date"),
        (sa.Time, "time"),
        (sa.JSON, "json"),
        (sa.String, "text"),
    ):
        if isinstance(t, cls):
            return kind
    name = type(t).__name__.upper()
    if "JSON" in name:
        return "json"
    if "TIMESTAMP" in name:
        return "datetime"
    return "text"


@dataclass
class Change:
    action: str  # create_table | add_column | retype | drop_column | add_index | drop_index
    table: str
    name: str = ""
    detail: str = ""
    holds_data: bool = False

    def __str__(self) -> str:
        text = f"{self.action} {self.table}" + (f".{self.name}" if self.name else "")
        return text + (f" ({self.detail})" if self.detail else "")


@dataclass
class SyncPlan:
    changes: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.changes

    def refused(self, migrations: Mapping[str, str]) -> list[str]:
        """Messages for the destructive changes that no migration allows."""
        out = []
        for c in self.changes:
            if c.action in ("retype", "drop_column") and c.holds_data:
                key = _field_key(c.table, c.name)
                wanted = "convert" if c.action == "retype" else "drop"
                if migrations.get(key) != wanted:
                    verb = "change the type of" if c.action == "retype" else "drop"
                    out.append(
                        f"refusing to {verb} {key} ({c.detail}): the column holds data; "
                        f"publish again with the migration {key}={wanted} to allow it"
                    )
        return out


def _field_key(table: str, column: str) -> str:
    base = table[2:] if table.startswith("f_") else table
    return f"{base.replace('__', '.')}.{column}"


def plan_sync(conn: Connection, tables: FormTables) -> SyncPlan:
    """Compare the database with the wanted tables."""
    insp = sa.inspect(conn)
    existing = set(insp.get_table_names())
    plan = SyncPlan()
    for table in tables.all_tables():
        if table.name not in existing:
            plan.changes.append(Change("create_table", table.name))
            continue
        have = {c["name"]: c for c in insp.get_columns(table.name)}
        for col in table.columns:
            if col.name not in have:
                plan.changes.append(Change("add_column", table.name, col.name))
            elif kind_of(have[col.name]["type"]) != kind_of(col.type):
                detail = f"{kind_of(have[col.name]['type'])} -> {kind_of(col.type)}"
                plan.changes.append(
                    Change("retype", table.name, col.name, detail, _holds_data(conn, table.name, col.name))
                )
        for name in have:
            if name not in table.columns:
                plan.changes.append(
                    Change("drop_column", table.name, name, "no longer defined", _holds_data(conn, table.name, name))
                )
        have_ix = {ix["name"]: ix for ix in insp.get_indexes(table.name)}
        want_ix = {ix.name: ix for ix in table.indexes}
        for want_name, ix in want_ix.items():
            old = have_ix.get(want_name)
            if (
                old is None
                or bool(old.get("unique")) != bool(ix.unique)
                or list(old["column_names"]) != [c.name for c in ix.columns]
            ):
                if old is not None:
                    plan.changes.append(Change("drop_index", table.name, str(want_name)))
                plan.changes.append(Change("add_index", table.name, str(want_name)))
        for have_name in have_ix:
            if have_name not in want_ix and have_name and have_name.startswith(("ix_f_", "uq_f_")):
                plan.changes.append(Change("drop_index", table.name, have_name))
    return plan


def _holds_data(conn: Connection, table: str, column: str) -> bool:
    q = sa.text(f'SELECT 1 FROM "{table}" WHERE "{column}" IS NOT NULL LIMIT 1')
    return conn.execute(q).first() is not None


Converter = Callable[[str, str, Any], Any]


def apply_sync(
    conn: Connection,
    tables: FormTables,
    plan: SyncPlan,
    migrations: Optional[Mapping[str, str]] = None,
    convert: Optional[Converter] = None,
) -> list[str]:
    """Carry out ``plan`` inside ``conn``'s transaction; returns what was done."""
    migrations = migrations or {}
    refused = plan.refused(migrations)
    if refused:
        raise SchemaChangeRefused("\n".join(refused))
    by_name = {t.name: t for t in tables.all_tables()}
    done: list[str] = []
    # a compiler of no statement, for get_column_specification: Compiled accepts None,
    # DDLCompiler's annotation does not
    ddl = conn.dialect.ddl_compiler(conn.dialect, None)  # type: ignore[arg-type]
    for c in plan.changes:
        if c.action == "drop_index":
            conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{c.name}"')
            done.append(str(c))
    for c in plan.changes:
        table = by_name.get(c.table)
        if c.action == "create_table" and table is not None:
            table.create(conn)
            done.append(str(c))
        elif c.action == "add_column" and table is not None:
            conn.exec_driver_sql(f'ALTER TABLE "{c.table}" ADD COLUMN {ddl.get_column_specification(table.c[c.name])}')
            done.append(str(c))
        elif c.action == "drop_column":
            _drop_column(conn, c.table, c.name)
            done.append(str(c))
        elif c.action == "retype" and table is not None:
            _retype(conn, table, c.name, convert)
            done.append(str(c))
    for c in plan.changes:
        table = by_name.get(c.table)
        if c.action == "add_index" and table is not None:
            for ix in table.indexes:
                if ix.name == c.name:
                    ix.create(conn)
            done.append(str(c))
    return done


def _drop_column(conn: Connection, table: str, column: str) -> None:
    for ix in sa.inspect(conn).get_indexes(table):
        if column in ix["column_names"]:
            conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{ix["name"]}"')
    conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')


def _retype(conn: Connection, table: sa.Table, column: str, convert: Optional[Converter]) -> None:
    rows = conn.execute(sa.text(f'SELECT id, "{column}" FROM "{table.name}" WHERE "{column}" IS NOT NULL')).all()
    values: list[tuple[int, Any]] = []
    failures: list[str] = []
    for rid, value in rows:
        try:
            values.append((rid, convert(table.name, column, value) if convert else value))
        except ValueError as exc:
            failures.append(f"row {rid}: {value!r}: {exc}")
    if failures:
        raise SchemaChangeRefused(f"cannot convert {_field_key(table.name, column)}: " + "; ".join(failures[:10]))
    _drop_column(conn, table.name, column)
    ddl = conn.dialect.ddl_compiler(conn.dialect, None)  # type: ignore[arg-type]  # as in apply_sync
    conn.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN {ddl.get_column_specification(table.c[column])}')
    for rid, value in values:
        conn.execute(table.update().where(table.c.id == rid).values({column: value}))
