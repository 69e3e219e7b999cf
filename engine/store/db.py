"""Database connection: SQLite (file, WAL) by default, PostgreSQL in production."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from typing import TYPE_CHECKING, Any, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:
    from engine.store.migrate import Upgrade


def normalise_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` URLs; use the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def default_url(instance_dir: str = "instance") -> str:
    """The embedded default: an SQLite file under ``./instance/``."""
    os.makedirs(instance_dir, exist_ok=True)
    return "sqlite:///" + os.path.join(os.path.abspath(instance_dir), "lowcode.db")


class Database:
    """One SQLAlchemy engine plus what the platform needs of it."""

    def __init__(self, url: str, **engine_args: Any) -> None:
        self.url = normalise_url(url)
        if self.url.startswith("sqlite"):
            engine_args.setdefault("connect_args", {"timeout": 60, "check_same_thread": False})
            engine_args.setdefault("pool_size", 10)
            engine_args.setdefault("max_overflow", 40)
        else:
            engine_args.setdefault("pool_pre_ping", True)
            engine_args.setdefault("pool_size", 10)
            engine_args.setdefault("max_overflow", 20)
        self.engine: Engine = sa.create_engine(self.url, **engine_args)
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            sa.event.listen(self.engine, "begin", _sqlite_begin_immediate)

    def describe(self) -> str:
        """Where the data lives, for people: the SQLite file, or the URL without its password."""
        url = self.engine.url
        if self.is_sqlite:
            return f"SQLite file {url.database}" if url.database and url.database != ":memory:" else "SQLite in memory"
        return url.render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def create_system_tables(self) -> "Upgrade":
        """Bring the platform's ``lc_*`` tables to the newest migration (``alembic upgrade
        head``, see :mod:`engine.store.migrate`): a fresh database gets them all, one made by an
        earlier release is upgraded, one at the head costs one query."""
        from engine.store.migrate import upgrade

        return upgrade(self.engine)

    def begin(self) -> Any:
        """A connection in a transaction: ``with db.begin() as conn: ...``."""
        return self.engine.begin()

    def connect(self, *, single: bool = False) -> Any:
        """A connection for reading: on SQLite its transactions never take the write lock.
        ``single``: for one statement, which needs no snapshot of its own (on SQLite it runs
        without a ``BEGIN``)."""
        return self.engine.connect().execution_options(lowcode_read="single" if single else True)

    def dispose(self) -> None:
        self.engine.dispose()


#: in a connection's ``info`` while :func:`attempt` opens its savepoint (for savepoint listeners)
ATTEMPT = "lc_attempt"


@contextlib.contextmanager
def attempt(conn: Connection) -> Iterator[Any]:
    """A savepoint for work the caller redoes piece by piece if it fails (a chunk of records
    written at once, retried one by one): what was set aside inside it for after the
    transaction (the rule log's runs) is dropped when it rolls back, since the retry does it
    again. ``with conn.begin_nested()`` otherwise."""
    conn.info[ATTEMPT] = True
    try:
        savepoint = conn.begin_nested()
    finally:
        conn.info.pop(ATTEMPT, None)
    with savepoint:
        yield savepoint


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, open transactions, so BEGIN IMMEDIATE below takes effect.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=60000")
    _wal(cur)
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _wal(cur: Any, patience: float = 60.0) -> None:
    """Put the file in WAL mode (it stays so; then this is one read). Switching needs the file
    to itself, and SQLite answers "database is locked" at once instead of waiting when other
    connections are opening it too (several workers starting on a fresh file): try again."""
    deadline = time.monotonic() + patience
    while True:
        try:
            if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _sqlite_begin_immediate(conn: Any) -> None:
    # Writers queue at BEGIN instead of failing on a lock upgrade mid-transaction;
    # readers (Database.connect) take a snapshot and never block a writer (WAL).
    read = conn.get_execution_options().get("lowcode_read")
    if read == "single":
        return  # one statement: the driver runs it on its own (autocommit), no snapshot to keep
    if read:
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
