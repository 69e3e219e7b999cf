"""Statements built once per table and reused.

Building a SQLAlchemy statement (``table.insert().returning(*table.c)``, a ``select`` with an
``IN``) and computing its cache key, by which SQLAlchemy finds the compiled SQL, costs more
Python than executing it on SQLite. A statement object reused for every write keeps its cache
key (SQLAlchemy memoises it on the object), so both costs are paid once per table: the values
go in as execute-time parameters (an ``expanding`` bind parameter for a list).
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Hashable

import sqlalchemy as sa

_BUILT: "weakref.WeakKeyDictionary[sa.Table, dict[Hashable, Any]]" = weakref.WeakKeyDictionary()


def built(table: sa.Table, key: Hashable, build: Callable[[], Any]) -> Any:
    """The statement ``build()`` makes for ``table`` and ``key``, built the first time asked."""
    known = _BUILT.get(table)
    if known is None:
        known = _BUILT.setdefault(table, {})
    stmt = known.get(key)
    if stmt is None:
        stmt = known[key] = build()
    return stmt


def insert_into(table: sa.Table) -> Any:
    """``INSERT INTO table``, the columns given by the parameters (one row or many)."""
    return built(table, "insert", table.insert)


def insert_returning(table: sa.Table, ordered: bool = False) -> Any:
    """``INSERT INTO table ... RETURNING *`` (``ordered``: rows back in parameter order)."""
    if ordered:
        return built(table, "insert*ordered", lambda: table.insert().returning(*table.c, sort_by_parameter_order=True))
    return built(table, "insert*", lambda: table.insert().returning(*table.c))


def select_by_ids(table: sa.Table) -> Any:
    """``SELECT * FROM table WHERE id IN :ids`` (``ids``: a list, at execute time)."""
    return built(
        table, "select-ids", lambda: sa.select(table).where(table.c.id.in_(sa.bindparam("ids", expanding=True)))
    )


def update_by_id(table: sa.Table, returning: bool) -> Any:
    """``UPDATE table SET ... WHERE id = :lc_where_id AND version = :lc_where_version``
    (``returning``: every column back); the columns set are the other parameters."""

    def build() -> Any:
        stmt = table.update().where(
            table.c.id == sa.bindparam("lc_where_id"), table.c.version == sa.bindparam("lc_where_version")
        )
        return stmt.returning(*table.c) if returning else stmt

    return built(table, ("update-by-id", returning), build)
