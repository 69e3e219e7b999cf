"""The one place with SQL that differs between SQLite and PostgreSQL.

Everything else in the engine writes portable SQLAlchemy Core and asks this module when the
two databases need different statements. SQLite is reached through :class:`Database`, whose
transactions start with ``BEGIN IMMEDIATE``: a writer holds the database lock from its first
statement, so SQLite needs no row locks where PostgreSQL does.
"""
from __future__ import annotations

from typing import Any, Union

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect

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


def insert_many_returning_ids(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many rows in batches; their new ids in the order of ``rows``.

    SQLAlchemy cannot batch an *ordered* RETURNING on SQLite and falls back to one statement
    per row; there, inside the write lock every ``BEGIN IMMEDIATE`` takes, one multi-row
    INSERT numbers its rows in VALUES order (AUTOINCREMENT), so sorted ids are in order.
    """
    if dialect_name(conn) == "sqlite":
        return sorted(conn.execute(table.insert().returning(table.c.id), rows).scalars())
    return list(conn.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
