"""Migrations of the platform's own ``lc_*`` tables, with Alembic, run from code.

The history lives in ``engine/store/migrations/versions`` (shipped in the package), apart from
the schema sync of pack forms (:mod:`engine.store.sync`), which diffs definitions at publish.
:func:`upgrade` runs on every start: a fresh database gets every revision; a database made
before migrations existed (``lc_*`` tables, no version table) gets what the baseline has that it
lacks, is stamped at the baseline, then upgraded; one at the head costs one query.
"""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

#: the folder with env.py and versions/
LOCATION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
#: Alembic's bookkeeping table, prefixed like every table of the platform's own
VERSION_TABLE = "lc_alembic_version"
#: the revision that creates the tables as they were before migrations existed
BASELINE = "0001"
#: PostgreSQL's advisory lock that lets one process at a time migrate a schema: this number and
#: the schema's hash (the tables of another schema, e.g. another test's, migrate meanwhile)
_PG_LOCK = 0x6C635F6D
_lock = threading.Lock()


@dataclass(frozen=True)
class Upgrade:
    """What :func:`upgrade` did: the revisions before and after, and whether it adopted a
    database made before migrations."""

    before: tuple[str, ...]
    after: tuple[str, ...]
    adopted: bool = False

    @property
    def changed(self) -> bool:
        return self.before != self.after


def config(**attributes: Any) -> Config:
    """An Alembic configuration for the ``lc_*`` history (no alembic.ini: everything is here)."""
    cfg = Config()
    cfg.set_main_option("script_location", LOCATION)
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.attributes.update(attributes)
    return cfg


@functools.lru_cache(maxsize=1)
def script() -> ScriptDirectory:
    """The revisions, read once per process (they do not change while it runs)."""
    with _lock:
        directory = ScriptDirectory.from_config(config())
        directory.get_heads()  # read every revision file now, under the lock
        return directory


def heads() -> tuple[str, ...]:
    """The newest revision(s) of the history (one, unless two branches were left unmerged)."""
    return tuple(script().get_heads())


def include_object(obj: Any, name: Optional[str], type_: str, reflected: bool, compare_to: Any) -> bool:
    """Only the platform's own tables take part (a pack's form tables are not Alembic's)."""
    if type_ == "table":
        return bool(name) and str(name).startswith("lc_") and name != VERSION_TABLE
    return True


def current(conn: Connection) -> tuple[str, ...]:
    """The revision(s) the database is at; empty when it has no version table."""
    return tuple(_context(conn).get_current_heads())


def upgrade(engine: Engine, destination: str = "heads") -> Upgrade:
    """Bring the ``lc_*`` tables to ``destination`` (the head), in one transaction that one
    process at a time holds (SQLite's write lock, PostgreSQL's advisory lock)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key, hashtext(current_schema()))"), {"key": _PG_LOCK})
        before = current(conn)
        if destination == "heads" and before and set(before) == set(heads()):
            return Upgrade(before, before)
        adopted = not before and _adopt(conn)
        if adopted:
            before = (BASELINE,)
        _run(conn, lambda rev, _ctx: script()._upgrade_revs(destination, rev))
        return Upgrade(before, current(conn), adopted)


def downgrade(engine: Engine, destination: str) -> Upgrade:
    """Take the ``lc_*`` tables back to ``destination`` (for tests of a migration's way back)."""
    with engine.begin() as conn:
        before = current(conn)
        _run(conn, lambda rev, _ctx: script()._downgrade_revs(destination, rev))
        return Upgrade(before, current(conn))


def differences(conn: Connection, metadata: sa.MetaData) -> list[str]:
    """How the database's ``lc_*`` tables differ from ``metadata`` (the code's), in words; empty
    when they match. On a database at the head, a difference is a change without a migration."""
    context = _context(conn, target_metadata=metadata, include_object=include_object, compare_type=True)
    return [_describe(diff) for diff in _flatten(compare_metadata(context, metadata))]


def new_revision(conn: Connection, metadata: sa.MetaData, message: str) -> str:
    """Write the next revision file, its operations generated from how ``metadata`` differs
    from the database on ``conn`` (which must be at the head); the path written."""
    from alembic import command

    number = max(int(r.revision) for r in script().walk_revisions() if r.revision.isdigit()) + 1
    written = command.revision(
        config(connection=conn, metadata=metadata), message, autogenerate=True, rev_id=f"{number:04d}"
    )
    script.cache_clear()
    first = written[0] if isinstance(written, list) else written
    assert first is not None
    return str(first.path)


def describe(revisions: Sequence[str]) -> list[str]:
    """``0002 (head): lc_idempotency.body_sha256: ...`` for each revision: its doc's first line."""
    top = set(heads())
    out = []
    for rev in revisions:
        found = script().get_revision(rev)
        doc = ((found.doc if found else "") or "").strip().splitlines()
        label = f"{rev} (head)" if rev in top else rev
        out.append(f"{label}: {doc[0]}" if doc else label)
    return out


# ---- internals ----------------------------------------------------------------------------


def _context(conn: Connection, **opts: Any) -> MigrationContext:
    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE, **opts})


def _run(conn: Connection, fn: Callable[[Any, Any], Any]) -> None:
    """Run env.py on ``conn`` (already in a transaction, which Alembic then leaves alone)."""
    directory = script()
    with EnvironmentContext(config(connection=conn), directory, fn=fn):
        directory.run_env()


def _adopt(conn: Connection) -> bool:
    """A database made before migrations existed: create what its tables lack of the baseline
    (what the platform then did on start: missing tables, missing nullable columns) and stamp
    it at the baseline. False when the database has no ``lc_*`` table (a fresh one)."""
    inspector = sa.inspect(conn)
    have = {t for t in inspector.get_table_names() if t.startswith("lc_") and t != VERSION_TABLE}
    if not have:
        return False
    baseline = script().get_revision(BASELINE)
    assert baseline is not None
    meta = sa.MetaData()
    baseline.module.define(meta)
    meta.create_all(conn)
    ddl = conn.dialect.ddl_compiler(conn.dialect, None)  # type: ignore[arg-type]
    for table in meta.sorted_tables:
        if table.name not in have:
            continue
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        for col in table.columns:
            if col.name not in columns and col.nullable:
                conn.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN {ddl.get_column_specification(col)}')
    _context(conn).stamp(script(), BASELINE)
    return True


def _flatten(diffs: Sequence[Any]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for diff in diffs:
        if isinstance(diff, list):  # a column's changes come as a list of modifications
            out.extend(diff)
        else:
            out.append(diff)
    return out


def _describe(diff: tuple[Any, ...]) -> str:
    kind = str(diff[0])
    mine = "the code has" if kind.startswith("add_") else "the database has"
    if kind in ("add_table", "remove_table"):
        return f"{mine} table {diff[1].name}, the other has not"
    if kind in ("add_column", "remove_column"):
        return f"{mine} column {diff[2]}.{diff[3].name}, the other has not"
    if kind.startswith("modify_"):
        _, _schema, table, column, _info, old, new = diff
        return f"{table}.{column}: {kind[len('modify_') :]} is {old!r} in the database, {new!r} in the code"
    obj = diff[1]
    table = getattr(getattr(obj, "table", None), "name", None) or getattr(getattr(obj, "parent", None), "name", "?")
    what = kind.split("_", 1)[1] if "_" in kind else kind
    return f"{mine} {what} {getattr(obj, 'name', None) or obj} on {table}, the other has not"
