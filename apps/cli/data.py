"""``run.py data import|export`` and ``run.py forms from-excel``.

The data commands act as a named user (``--user``; default: the first superuser), so the
same permissions, validation and rules apply as in the API.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any, Optional

from apps.cli import common
from engine.context import RunContext
from engine.errors import LowcodeError
from engine.io.form_from_excel import form_from_excel  # a draft from a file: no platform
from engine.listing import ListQuery
from engine.platform import Platform
from engine.service import Records


def register(sub: Any) -> None:
    """Add the ``data`` and ``forms`` commands to run.py's subparsers."""
    data = sub.add_parser("data", help="import records from .xlsx/.csv, export a list to .xlsx/.csv")
    dsub = data.add_subparsers(dest="data_command", metavar="ACTION")
    p = dsub.add_parser("import", help="import a spreadsheet into a form (prints the report as JSON)")
    p.add_argument("form")
    p.add_argument("file", help=".xlsx or .csv")
    p.add_argument("--mode", default="all-or-nothing", choices=["all-or-nothing", "skip-invalid"])
    p.add_argument("--key", help="update records whose KEY field matches, create the others")
    p.add_argument("--user", help="act as this user (default: the first superuser)")
    p.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    p.add_argument("--lang", default=None, help="language of the messages: zh-CN or en")
    p.set_defaults(func=cmd_import)
    p = dsub.add_parser("export", help="export a form's records (what the user may see) to a file")
    p.add_argument("form")
    p.add_argument("file", help="target .xlsx or .csv")
    p.add_argument("--filter", help='an expression, e.g. status == "approved"')
    p.add_argument("--sort", help="e.g. -order_date,number")
    p.add_argument("--user", help="act as this user (default: the first superuser)")
    p.add_argument("--lang", default=None, help="language of the header row: zh-CN or en")
    p.set_defaults(func=cmd_export)
    data.set_defaults(func=lambda a: (data.print_help(), 2)[1])

    choices = getattr(sub, "choices", {}) or {}
    forms = choices.get("forms") or sub.add_parser("forms", help="form definitions")
    fsub = next((a for a in forms._actions if isinstance(a, argparse._SubParsersAction)), None)
    if fsub is None:
        fsub = forms.add_subparsers(dest="forms_command", metavar="ACTION")
        forms.set_defaults(func=lambda a: (forms.print_help(), 2)[1])
    p = fsub.add_parser("from-excel", help="draft a form definition (YAML) from an Excel template")
    p.add_argument("file", help="the .xlsx template: a header row, a few sample rows")
    p.add_argument("--name", help="form name (default: from the file name)")
    p.add_argument("--sheet", help="sheet name (default: the first)")
    p.add_argument("--out", help="write the YAML here instead of printing it")
    p.add_argument("--lang", default="zh-CN", choices=["zh-CN", "en"], help="language of the comments")
    p.set_defaults(func=cmd_from_excel)


def _context(platform: Platform, user: Optional[str], lang: Optional[str]) -> RunContext:
    if user:
        ctx = platform.user_context(user)
    else:
        defs = platform.definitions()
        with platform.db.connect() as conn:
            supers = [
                u for u in platform.users.all(conn) if any(defs.roles[r].superuser for r in u.roles if r in defs.roles)
            ]
        if not supers:
            raise SystemExit("no superuser exists: pass --user NAME (run.py user add ... --role admin)")
        ctx = platform.context(supers[0])
    if lang:
        ctx = dataclasses.replace(ctx, locale=lang)
    return ctx


def cmd_import(args: argparse.Namespace) -> int:
    platform = common.platform()
    try:
        ctx = _context(platform, args.user, args.lang)
        report = Records(platform).import_file(
            ctx, args.form, args.file, mode=args.mode, key=args.key, dry_run=args.dry_run
        )
    except (LowcodeError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    for skipped in report.skipped:
        print(skipped.message, file=sys.stderr)
    state = "written" if report.written else "not written"
    print(
        f"{args.form}: {report.created} created, {report.updated} updated, {report.failed} failed "
        f"({report.error_count} errors); {state}",
        file=sys.stderr,
    )
    return 0 if report.ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    platform = common.platform()
    params = {k: v for k, v in (("filter", args.filter), ("sort", args.sort)) if v}
    try:
        ctx = _context(platform, args.user, args.lang)
        count = Records(platform).export_file(ctx, args.form, ListQuery.from_params(params), args.file)
    except (LowcodeError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {count} rows to {args.file}")
    return 0


def cmd_from_excel(args: argparse.Namespace) -> int:
    try:
        text = form_from_excel(args.file, name=args.name, sheet=args.sheet, lang=args.lang)
    except (ValueError, OSError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {args.out}: review it, put it in a pack's forms/ folder, then run.py check / import")
    else:
        sys.stdout.write(text)
    return 0
