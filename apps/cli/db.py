"""``run.py db upgrade | current | check | revision``: the platform's own lc_* tables.

These run before (or without) a platform: a platform's start upgrades the tables itself, so
they act on the database and the store's migrations directly.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from apps.cli import common


def code_tables() -> Any:
    """The ``lc_*`` tables as the code defines them: every engine module imported, since each
    adds its own to one MetaData (the migrations package aside: Alembic runs it)."""
    import importlib
    import pkgutil

    import engine
    from engine.store.system import SYSTEM

    for mod in pkgutil.walk_packages(engine.__path__, "engine."):
        if not mod.name.startswith("engine.store.migrations"):
            importlib.import_module(mod.name)
    return SYSTEM


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from engine.store import migrate

    db = common.database()
    try:
        done = migrate.upgrade(db.engine)
    finally:
        db.dispose()
    if done.adopted:
        print(f"a database made before migrations: stamped at {migrate.BASELINE}")
    if done.changed:
        print(f"upgraded the lc_* tables of {db.describe()} from {', '.join(done.before) or 'nothing'} to:")
    else:
        print(f"the lc_* tables of {db.describe()} are up to date:")
    for line in migrate.describe(done.after):
        print(f"  {line}")
    return 0


def cmd_db_current(args: argparse.Namespace) -> int:
    from engine.store import migrate

    db = common.database()
    try:
        with db.connect() as conn:
            at = migrate.current(conn)
    finally:
        db.dispose()
    if not at:
        print(
            f"{db.describe()}: no migration applied (a new database, or one made before migrations); "
            "`run.py db upgrade` or any start brings it to the head"
        )
        return 0
    print(f"{db.describe()}: the lc_* tables are at")
    for line in migrate.describe(at):
        print(f"  {line}")
    behind = [r.revision for r in migrate.script().iterate_revisions("heads", at[0]) if r.revision not in at]
    if behind:
        print(f"{len(behind)} newer revision(s) to apply (`run.py db upgrade`, or any start):")
        for line in migrate.describe(list(reversed(behind))):
            print(f"  {line}")
    return 0


_NO_MIGRATION = (
    'a change to the lc_* tables needs a migration: run `python run.py db revision -m "what changed"`, '
    "review the file it writes under engine/store/migrations/versions/, and commit it with the change"
)


def cmd_db_check(args: argparse.Namespace) -> int:
    from engine.store import migrate

    db, tables = common.database(), code_tables()
    try:
        with db.connect() as conn:
            at, diffs = migrate.current(conn), migrate.differences(conn, tables)
    finally:
        db.dispose()
    if set(at) != set(migrate.heads()):
        print(
            f"{db.describe()} is at {', '.join(at) or 'no revision'}, not the head "
            f"{', '.join(migrate.heads())}: run `run.py db upgrade` first",
            file=sys.stderr,
        )
        return 1
    for diff in diffs:
        print(f"  {diff}", file=sys.stderr)
    if diffs:
        print(
            f"{len(diffs)} difference(s) between the code's lc_* tables and the migrations' head; " + _NO_MIGRATION,
            file=sys.stderr,
        )
        return 1
    print(f"{db.describe()}: the lc_* tables match the code at {', '.join(at)}")
    return 0


def cmd_db_revision(args: argparse.Namespace) -> int:
    import tempfile

    from engine.store import migrate
    from engine.store.db import Database

    tables = code_tables()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database("sqlite:///" + os.path.join(tmp, "head.db"))
        try:
            migrate.upgrade(db.engine)
            with db.begin() as conn:
                diffs = migrate.differences(conn, tables)
                path = migrate.new_revision(conn, tables, args.message) if diffs else None
        finally:
            db.dispose()
    if path is None:
        print("the code's lc_* tables match the migrations' head: nothing to write")
        return 0
    print(f"wrote {path} for:")
    for diff in diffs:
        print(f"  {diff}")
    print("review it (it was generated against SQLite), then run the tests on SQLite and PostgreSQL")
    return 0


def register(sub: Any) -> None:
    """Add ``db`` and its actions to run.py's subparsers."""
    s = sub.add_parser(
        "db",
        help="the platform's own lc_* tables: upgrade, current, check, revision",
        description="The lc_* tables have their own migrations (Alembic; see docs/deploy.md). "
        "Every start (serve, worker, migrate, ...) upgrades them to the head first.",
    )
    dsub = s.add_subparsers(dest="db_command", metavar="ACTION")
    d = dsub.add_parser("upgrade", help="apply the migrations not applied yet (what every start does)")
    d.set_defaults(func=cmd_db_upgrade)
    d = dsub.add_parser("current", help="the revision the database is at, and the newer ones")
    d.set_defaults(func=cmd_db_current)
    d = dsub.add_parser("check", help="exit 1 when the database's lc_* tables differ from the code's")
    d.set_defaults(func=cmd_db_check)
    d = dsub.add_parser("revision", help="for developers: write the next migration from the code's changes")
    d.add_argument("-m", "--message", required=True, help="what changed, e.g. 'lc_outbox.priority'")
    d.set_defaults(func=cmd_db_revision)
    s.set_defaults(func=lambda a, help_of=s: (help_of.print_help(), 2)[1])
