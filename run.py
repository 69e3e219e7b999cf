#!/usr/bin/env python
"""Lowcode command line: serve, worker, check, migrate, demo, export, import, user, db."""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any, Optional, Sequence

DEFAULT_PACK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "definitions", "oms")

#: Modules that add their own subcommands: each has ``register(subparsers)`` whose
#: commands set ``func`` (taking the parsed args, returning an exit code).
COMMAND_MODULES: list[str] = ["engine.io.cli", "engine.rules.cli"]


def _platform() -> Any:
    from engine.platform import Platform
    from engine.store.db import Database, default_url

    return Platform(Database(os.environ.get("DATABASE_URL") or default_url()), reload_seconds=0)


def _migrations(items: Optional[Sequence[str]]) -> dict[str, str]:
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or value not in ("drop", "convert"):
            raise SystemExit(f"--migration takes form.field=drop or form.field=convert, not {item!r}")
        out[key] = value
    return out


def cmd_serve(args: argparse.Namespace) -> int:
    from apps import server

    try:
        binds = server.bind_addresses(args.bind, args.host, args.port)
        if args.dev:
            return server.dev_server(binds[0])
    except ValueError as exc:
        raise SystemExit(f"run.py serve: {exc}") from None
    return server.gunicorn_server(binds, args.workers, args.threads)


def cmd_worker(args: argparse.Namespace) -> int:
    import threading

    from engine.plugins import senders_for
    from engine.store.worker import Worker

    platform = _platform()
    worker = Worker(platform.db, senders_for(), clock=platform.clock)
    from engine.rules.log import pruner
    worker.periodic.append(pruner(platform))  # prune old rule runs (the pack's `keep runs`)
    from engine.rules.timers_fire import timer_hook
    worker.periodic.append(timer_hook(platform))  # fire due schedules and date-relative rules
    if args.once:
        print(f"processed {worker.run_once()} outbox rows")
        return 0
    stop = threading.Event()
    print("worker running; Ctrl+C stops it")
    try:
        worker.run_forever(stop, poll_seconds=args.poll)
    except KeyboardInterrupt:
        stop.set()
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from engine.definitions import check_pack

    errors, warnings = check_pack(args.pack), []
    if not errors:   # the pack loads: its rules and permissions must compile too
        from engine.definitions import load_pack
        from engine.errors import DefinitionErrors
        from engine.rules.tools import check_warnings
        from engine.runtime import compile_definitions

        try:
            warnings = check_warnings(compile_definitions([load_pack(args.pack)]))
        except DefinitionErrors as exc:
            errors = list(exc.errors)
    for err in errors:
        print(err, file=sys.stderr)
    if errors:
        print(f"{len(errors)} error(s) in {args.pack}", file=sys.stderr)
        return 1
    for warning in warnings:    # trigger cycles, decision-table gaps and overlaps
        print(warning, file=sys.stderr)
    print(f"{args.pack}: ok" + (f", {len(warnings)} warning(s)" if warnings else ""))
    return 0


def _publish(platform: Any, name: Optional[str], path: str, migrations: dict[str, str]) -> Any:
    from engine.errors import DefinitionErrors, SchemaChangeRefused

    try:
        result = platform.publish(path, migrations=migrations, by="cli")
    except DefinitionErrors as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(1) from None
    except SchemaChangeRefused as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(1) from None
    if name and result.pack != name:
        print(f"warning: {path} holds pack '{result.pack}', not '{name}'", file=sys.stderr)
    state = "published" if result.changed else "unchanged"
    print(f"{result.pack} {result.version}: revision {result.revision} {state}")
    for change in result.schema_changes:
        print(f"  {change}")
    return result


def cmd_import(args: argparse.Namespace) -> int:
    _publish(_platform(), args.name, args.dir, _migrations(args.migration))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    files = _platform().export(args.name, args.dir, args.revision)
    print(f"wrote {len(files)} files to {args.dir}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    platform = _platform()
    packs = args.packs or [DEFAULT_PACK]
    for path in packs:
        _publish(platform, None, path, _migrations(args.migration))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from engine.definitions import load_pack
    from engine.demo import install_demo

    platform = _platform()
    _publish(platform, None, args.pack, {})
    users = install_demo(platform, load_pack(args.pack))
    print("demo users (username / password / roles):")
    for user in users:
        print(f"  {user['username']:<10} {user.get('password', ''):<12} {', '.join(user.get('roles') or [])}")
    from apps.server import DEFAULT_HOST, DEFAULT_PORT

    base = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
    print(f"database: {platform.db.describe()} (DATABASE_URL chooses another)")
    print(f"next: python run.py serve, then open {base}/login (the API is at {base}/api/v1)")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    platform = _platform()
    password = args.password
    if password is None:
        password = getpass.getpass(f"password for {args.name}: ")
        if password != getpass.getpass("again: "):
            print("the passwords differ", file=sys.stderr)
            return 1
    defs = platform.definitions()
    unknown = [r for r in args.role if r not in defs.roles]
    if unknown:
        print(f"unknown role(s): {', '.join(unknown)} (known: {', '.join(sorted(defs.roles))})", file=sys.stderr)
        return 1
    with platform.db.begin() as conn:
        user = platform.users.add(conn, args.name, password, args.role, email=args.email,
                                  customer_id=args.customer)
    print(f"user {user.username} (id {user.id}) with roles {', '.join(sorted(user.roles))}")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    platform = _platform()
    with platform.db.connect() as conn:
        for user in platform.users.all(conn):
            print(f"{user.id:>4} {user.username:<16} {', '.join(sorted(user.roles))}")
    return 0


def cmd_user_logins(args: argparse.Namespace) -> int:
    from engine.security.throttle import attempts

    platform = _platform()
    with platform.db.connect() as conn:
        rows = attempts(conn, username=args.name, limit=args.limit)
    for a in rows:
        lock = f"  locked {a['locked']} until {a['locked_until']:%Y-%m-%d %H:%M:%S}Z" if a["locked"] else ""
        print(f"{a['at']:%Y-%m-%d %H:%M:%S}Z {a['scope']:<6} {a['outcome']:<9} {a['username']:<16} "
              f"{a['address']}{lock}")
    return 0


def cmd_user_unlock(args: argparse.Namespace) -> int:
    from engine.security.throttle import unlock

    platform = _platform()
    with platform.db.begin() as conn:
        cleared = unlock(conn, args.name)
    print(f"{args.name}: failures and lock cleared" if cleared else f"{args.name}: nothing to clear")
    return 0


def _database() -> Any:
    from engine.store.db import Database, default_url

    return Database(os.environ.get("DATABASE_URL") or default_url())


def _code_tables() -> Any:
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

    db = _database()
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

    db = _database()
    try:
        with db.connect() as conn:
            at = migrate.current(conn)
    finally:
        db.dispose()
    if not at:
        print(f"{db.describe()}: no migration applied (a new database, or one made before migrations); "
              "`run.py db upgrade` or any start brings it to the head")
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


_NO_MIGRATION = ("a change to the lc_* tables needs a migration: run `python run.py db revision -m \"what changed\"`, "
                 "review the file it writes under engine/store/migrations/versions/, and commit it with the change")


def cmd_db_check(args: argparse.Namespace) -> int:
    from engine.store import migrate

    db, tables = _database(), _code_tables()
    try:
        with db.connect() as conn:
            at, diffs = migrate.current(conn), migrate.differences(conn, tables)
    finally:
        db.dispose()
    if set(at) != set(migrate.heads()):
        print(f"{db.describe()} is at {', '.join(at) or 'no revision'}, not the head "
              f"{', '.join(migrate.heads())}: run `run.py db upgrade` first", file=sys.stderr)
        return 1
    for diff in diffs:
        print(f"  {diff}", file=sys.stderr)
    if diffs:
        print(f"{len(diffs)} difference(s) between the code's lc_* tables and the migrations' head; "
              + _NO_MIGRATION, file=sys.stderr)
        return 1
    print(f"{db.describe()}: the lc_* tables match the code at {', '.join(at)}")
    return 0


def cmd_db_revision(args: argparse.Namespace) -> int:
    import tempfile

    from engine.store import migrate
    from engine.store.db import Database

    tables = _code_tables()
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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run.py", description="Lowcode platform command line. "
                                "Settings come from the environment: DATABASE_URL (default: SQLite file "
                                "instance/lowcode.db), SECRET_KEY.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("serve", help="serve the web application and the API (gunicorn; see docs/deploy.md)",
                       description="Serve with gunicorn: every worker process builds the app (apps:create_app()). "
                       "Other gunicorn settings come from GUNICORN_CMD_ARGS, e.g. '--access-logfile - --timeout 120'.")
    s.add_argument("--bind", action="append", metavar="ADDRESS",
                   help="HOST:PORT or unix:PATH to listen on, repeatable (default 127.0.0.1:5000)")
    s.add_argument("--host", help="alias: --host H --port P is --bind H:P")
    s.add_argument("--port", type=int)
    s.add_argument("--workers", type=int, help="worker processes (default $WEB_CONCURRENCY or 2)")
    s.add_argument("--threads", type=int, help="threads per worker process (default 4)")
    s.add_argument("--dev", "--debug", action="store_true",
                   help="Werkzeug's development server with the reloader and debugger instead (one process)")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("worker", help="send outbox messages (notifications, webhooks) after commit")
    s.add_argument("--once", action="store_true", help="process what is due, then exit")
    s.add_argument("--poll", type=float, default=1.0, help="seconds between polls")
    s.set_defaults(func=cmd_worker)

    s = sub.add_parser("check", help="validate a pack folder; exit 1 on errors")
    s.add_argument("pack", help="the pack folder, e.g. definitions/oms")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("migrate", help="create the platform tables and publish pack folders")
    s.add_argument("packs", nargs="*", help=f"pack folders (default {os.path.relpath(DEFAULT_PACK)})")
    s.add_argument("--migration", action="append", metavar="FORM.FIELD=drop|convert",
                   help="allow a destructive change to a field that holds data")
    s.set_defaults(func=cmd_migrate)

    s = sub.add_parser("demo", help="install a pack with demo data and one user per role")
    s.add_argument("--pack", default=DEFAULT_PACK)
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("export", help="write an installed pack back to a folder")
    s.add_argument("name", help="pack name, e.g. oms")
    s.add_argument("dir", help="target folder")
    s.add_argument("--revision", type=int, help="an older revision (default: the active one)")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("import", help="publish a pack folder as a new version")
    s.add_argument("name", help="pack name, e.g. oms")
    s.add_argument("dir", help="the pack folder")
    s.add_argument("--migration", action="append", metavar="FORM.FIELD=drop|convert",
                   help="allow a destructive change to a field that holds data")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("user", help="manage users")
    usub = s.add_subparsers(dest="user_command", metavar="ACTION")
    u = usub.add_parser("add", help="add a user")
    u.add_argument("name")
    u.add_argument("--role", action="append", required=True, help="a role from roles.yaml (repeatable)")
    u.add_argument("--password", help="prompted for when left out")
    u.add_argument("--email")
    u.add_argument("--customer", type=int, help="customer record id, for portal users")
    u.set_defaults(func=cmd_user_add)
    u = usub.add_parser("list", help="list users")
    u.set_defaults(func=cmd_user_list)
    u = usub.add_parser("logins", help="the login audit: checked attempts, newest first")
    u.add_argument("name", nargs="?", help="only this user name (as typed, whether or not the user exists)")
    u.add_argument("--limit", type=int, default=50)
    u.set_defaults(func=cmd_user_logins)
    u = usub.add_parser("unlock", help="clear a user name's failed logins and lock (its address locks stay)")
    u.add_argument("name")
    u.set_defaults(func=cmd_user_unlock)
    s.set_defaults(func=lambda a, help_of=s: (help_of.print_help(), 2)[1])

    s = sub.add_parser("db", help="the platform's own lc_* tables: upgrade, current, check, revision",
                       description="The lc_* tables have their own migrations (Alembic; see docs/deploy.md). "
                       "Every start (serve, worker, migrate, ...) upgrades them to the head first.")
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

    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not getattr(args, "func", None):
        p.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
