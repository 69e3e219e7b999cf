"""The one place with SQL that differs between SQLite and PostgreSQL.

Everything else in the engine writes portable SQLAlchemy Core and asks this module when the
two databases need different statements. SQLite is reached through :class:`Database`, whose
transactions start with ``BEGIN IMMEDIATE``: a writer holds the database lock from its first
statement, so SQLite needs no row locks where PostgreSQL does.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Mapping, Sequence, Union

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect

from engine.store.statements import built, insert_returning

Bind = Union[Connection, Dialect, str]

SUPPORTED = ("sqlite", "postgresql")


def dialect_name(bind: Bind) -> str:
    """``"sqlite"`` or ``"postgresql"`` for a connection, a dialect or a dialect name."""
    if isinstance(bind, str):
        name = bind
    elif isinstance(bind, Connection):
        name = bind.dialect.name
    else:
        name = bind.name
    if name not in SUPPORTED:
        raise ValueError(f"unsupported database {name!r}: use SQLite or PostgreSQL")
    return name


def insert_ignore(table: sa.Table, bind: Bind) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for ``table`` on the database of ``bind``.

    A row that would break the primary key or any unique constraint is skipped without an
    error; with ``.returning(...)`` a skipped row returns nothing. On PostgreSQL a conflicting
    row that another transaction has inserted but not committed makes the statement wait for
    that transaction, so the outcome is always decided against committed data.
    """
    if dialect_name(bind) == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def insert_or_add(table: sa.Table, bind: Bind, keys: Sequence[str], column: str, step: int = 1) -> Any:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET column = column + step RETURNING column``:
    one statement that adds ``step`` to the row's ``column``, or makes the row with ``step``
    (a counter). The values of ``keys`` are given when it is executed; the statement is built
    once per table, dialect, keys and step. The conflicting row is locked (PostgreSQL) until
    the transaction ends."""
    name = dialect_name(bind)

    def build() -> Any:
        insert = postgresql.insert(table) if name == "postgresql" else sqlite.insert(table)
        stmt = insert.values({**{k: sa.bindparam(k) for k in keys}, column: step})
        return stmt.on_conflict_do_update(index_elements=list(keys), set_={column: table.c[column] + step}).returning(
            table.c[column]
        )

    return built(table, ("insert-or-add", name, tuple(keys), column, step), build)


def for_update_skip_locked(select: sa.Select[Any], bind: Bind) -> sa.Select[Any]:
    """Lock the selected rows, skipping rows another transaction holds (PostgreSQL only).

    On SQLite the statement is returned unchanged: ``BEGIN IMMEDIATE`` already lets only
    one writer in at a time, which is the same guarantee for a single machine.
    """
    if dialect_name(bind) == "postgresql":
        return select.with_for_update(skip_locked=True)
    return select


def supports_update_returning(bind: Connection) -> bool:
    """Whether ``UPDATE ... RETURNING`` works here (PostgreSQL, SQLite >= 3.35)."""
    return bool(bind.dialect.update_returning)


def insert_returning_rows(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Insert rows (all with the same keys) in one statement (SQLAlchemy's insertmanyvalues);
    every column of each row as stored, in the order of ``rows``. SQLite numbers the rows of
    one ``INSERT ... VALUES (...), (...)`` in order (as :func:`insert_many` relies on), so its
    rows are put back in order by id (by the ids given, when the rows have theirs)."""
    if not rows:
        return []
    if dialect_name(conn) != "sqlite":
        return [dict(r) for r in conn.execute(insert_returning(table, ordered=True), list(rows)).mappings()]
    got = [dict(r) for r in conn.execute(insert_returning(table), list(rows)).mappings()]
    if "id" in rows[0]:
        by_id = {r["id"]: r for r in got}
        return [by_id[r["id"]] for r in rows]
    return sorted(got, key=lambda r: r["id"])


def insert_many_returning_ids(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many rows in batches; their new ids in the order of ``rows``."""
    return insert_many(conn, table, rows, returning_ids=True)


def insert_many(
    conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]], *, returning_ids: bool = False
) -> list[int]:
    """Insert many rows (all with the same keys) at once; with ``returning_ids``, their new ids
    in the order of ``rows``.

    PostgreSQL: SQLAlchemy's insertmanyvalues (``INSERT ... VALUES (...), (...) RETURNING id``,
    sorted by parameter order). SQLite: the rows go straight to the driver's ``executemany``,
    each value through its column's bind processor (the function SQLAlchemy would call) in one
    loop. The ids are the ``len(rows)`` ending at ``last_insert_rowid()``: from its first row
    on, the statement's transaction holds SQLite's only write lock, so no other writer takes
    ids in between, and an AUTOINCREMENT table numbers each new row one above the largest id
    it ever had.
    """
    if not rows:
        return []
    names = tuple(c.name for c in table.columns if c.name in rows[0])
    if (
        dialect_name(conn) != "sqlite"
        or not _plain_columns(table, names)
        or (returning_ids and ("id" in names or not table.dialect_options["sqlite"].get("autoincrement")))
    ):
        if not returning_ids:
            conn.execute(table.insert(), list(rows))
            return []
        if dialect_name(conn) == "sqlite":
            return sorted(conn.execute(table.insert().returning(table.c.id), list(rows)).scalars())
        return list(
            conn.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), list(rows)).scalars()
        )
    sql, processors = _sqlite_plan(conn, table, names)
    fns = [(name, _once_per_value(p) if p else None) for name, p in zip(names, processors)]
    params = []
    for row in rows:
        values = []
        for name, fn in fns:
            v = row.get(name)
            values.append(v if fn is None or v is None else fn(v))
        params.append(tuple(values))
    conn.exec_driver_sql(sql, params)
    if not returning_ids:
        return []
    last = int(conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
    return list(range(last - len(params) + 1, last + 1))


def insert_tuples(conn: Connection, table: sa.Table, names: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert many rows given as tuples of ``names``' values (a narrow table's many rows, e.g.
    the records of a log row): on SQLite straight to ``executemany``, values through their
    columns' bind processors; elsewhere as :func:`insert_many` does."""
    if not rows:
        return
    if dialect_name(conn) != "sqlite" or not _plain_columns(table, names):
        conn.execute(table.insert(), [dict(zip(names, row)) for row in rows])
        return
    sql, processors = _sqlite_plan(conn, table, names)
    if any(processors):
        rows = [tuple(v if p is None or v is None else p(v) for p, v in zip(processors, row)) for row in rows]
    conn.exec_driver_sql(sql, list(rows))


def _plain_columns(table: sa.Table, names: tuple[str, ...]) -> bool:
    """No column left out of the rows has a Python-side default (SQLAlchemy would fill it in)."""
    return all(c.name in names or c.default is None or c.name == "id" for c in table.columns)


_PLANS: "weakref.WeakKeyDictionary[sa.Table, dict[tuple[str, ...], tuple[str, list[Any]]]]" = (
    weakref.WeakKeyDictionary()
)


def _sqlite_plan(conn: Connection, table: sa.Table, names: tuple[str, ...]) -> tuple[str, list[Any]]:
    """The positional INSERT and the bind processor of each column, once per table and columns."""
    plans = _PLANS.setdefault(table, {})
    if names in plans:
        return plans[names]
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join('?' for _ in names)})"
    )
    processors = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
    plans[names] = (sql, processors)
    return sql, processors


def _once_per_value(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``fn`` that reuses its last answer for the very same object (a batch's one ``now``)."""
    last: list[Any] = [None, None]

    def run(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, fn(value)
        return last[1]

    return run
