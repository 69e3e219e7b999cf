"""``run.py check | migrate | demo | export | import``: packs checked, published, written back."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Optional

from apps.cli import common
from engine.errors import DefinitionErrors, SchemaChangeRefused
from engine.platform import Platform
from engine.versions import PublishResult


def cmd_check(args: argparse.Namespace) -> int:
    from engine.checks import check_folder

    errors, warnings = check_folder(args.pack)
    for err in errors:
        print(err, file=sys.stderr)
    if errors:
        print(f"{len(errors)} error(s) in {args.pack}", file=sys.stderr)
        return 1
    for warning in warnings:  # trigger cycles, decision-table gaps and overlaps
        print(warning, file=sys.stderr)
    print(f"{args.pack}: ok" + (f", {len(warnings)} warning(s)" if warnings else ""))
    return 0


def publish(platform: Platform, name: Optional[str], path: str, migrations: dict[str, str]) -> PublishResult:
    """Publish the pack folder ``path`` and say what changed; a refused pack exits 1."""
    try:
        result = platform.publish(path, migrations=migrations, by="cli")
    except (DefinitionErrors, SchemaChangeRefused) as exc:
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
    publish(common.platform(), args.name, args.dir, common.migrations(args.migration))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    files = common.platform().export(args.name, args.dir, args.revision)
    print(f"wrote {len(files)} files to {args.dir}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    platform = common.platform()
    for path in args.packs or [common.DEFAULT_PACK]:
        publish(platform, None, path, common.migrations(args.migration))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from apps.server import DEFAULT_HOST, DEFAULT_PORT
    from engine.demo import install_demo

    platform = common.platform()
    publish(platform, None, args.pack, {})
    users = install_demo(platform, args.pack)
    print("demo users (username / password / roles):")
    for user in users:
        print(f"  {user['username']:<10} {user.get('password', ''):<12} {', '.join(user.get('roles') or [])}")
    base = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
    print(f"database: {platform.db.describe()} (DATABASE_URL chooses another)")
    print(f"next: python run.py serve, then open {base}/login (the API is at {base}/api/v1)")
    return 0


def register(sub: Any) -> None:
    """Add ``check``, ``migrate``, ``demo``, ``export`` and ``import`` to run.py's subparsers."""
    s = sub.add_parser("check", help="validate a pack folder; exit 1 on errors")
    s.add_argument("pack", help="the pack folder, e.g. definitions/oms")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("migrate", help="create the platform tables and publish pack folders")
    s.add_argument("packs", nargs="*", help=f"pack folders (default {os.path.relpath(common.DEFAULT_PACK)})")
    s.add_argument(
        "--migration",
        action="append",
        metavar="FORM.FIELD=drop|convert",
        help="allow a destructive change to a field that holds data",
    )
    s.set_defaults(func=cmd_migrate)

    s = sub.add_parser("demo", help="install a pack with demo data and one user per role")
    s.add_argument("--pack", default=common.DEFAULT_PACK)
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("export", help="write an installed pack back to a folder")
    s.add_argument("name", help="pack name, e.g. oms")
    s.add_argument("dir", help="target folder")
    s.add_argument("--revision", type=int, help="an older revision (default: the active one)")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("import", help="publish a pack folder as a new version")
    s.add_argument("name", help="pack name, e.g. oms")
    s.add_argument("dir", help="the pack folder")
    s.add_argument(
        "--migration",
        action="append",
        metavar="FORM.FIELD=drop|convert",
        help="allow a destructive change to a field that holds data",
    )
    s.set_defaults(func=cmd_import)
