"""``run.py rules log | rerun | check | test | replay``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from apps.cli import common
from engine.checks import load_for_check
from engine.errors import LowcodeError
from engine.platform import Platform
from engine.rules.errors import describe
from engine.rules.log import query_runs
from engine.rules.tools import check_warnings, dry_run, parse_since, replay, rerun
from engine.runtime import Definitions


def cmd_check(args: argparse.Namespace) -> int:
    defs, errors = load_for_check(args.target)
    for e in errors:
        print(e, file=sys.stderr)
    if errors or defs is None:
        print(f"{len(errors)} error{'s' if len(errors) != 1 else ''}", file=sys.stderr)
        return 1
    warnings = check_warnings(defs)
    for w in warnings:
        print(w, file=sys.stderr)
    print(f"ok: {len(defs.rules.rules)} rules" + (f", {_count(warnings, 'warning')}" if warnings else ""))
    return 0


def _count(items: list[Any], word: str) -> str:
    return f"{len(items)} {word}{'s' if len(items) != 1 else ''}"


def _defs_for(pack: str, platform: Platform) -> Definitions:
    if os.path.exists(pack):
        defs, errors = load_for_check(pack)
        if errors or defs is None:
            raise SystemExit("\n".join(str(e) for e in errors))
        return defs
    return platform.definitions()


def cmd_test(args: argparse.Namespace) -> int:
    p = common.platform()
    defs = _defs_for(args.pack, p)
    ctx = p.user_context(args.user) if args.user else p.system_context()
    result = dry_run(p.db, defs, args.rule, json.loads(args.record), ctx)
    print(
        json.dumps(
            {
                "rule": result.rule,
                "form": result.form,
                "event": result.event,
                "outcome": result.outcome,
                "would_fire": result.outcome == "fired",
                "error": result.error,
                "runs": result.runs,
            },
            ensure_ascii=False,
            indent=2,
            default=str,
        )
    )
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    p = common.platform()
    defs = _defs_for(args.pack, p)
    result = replay(p.db, defs, args.rule, parse_since(args.since, p.clock.now()), p.system_context())
    print(json.dumps(result.as_dict(), ensure_ascii=False))
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    p = common.platform()
    with p.db.connect() as conn:
        rows, total = query_runs(
            conn, rule=args.rule, form=args.form, record=args.record, outcome=args.outcome, limit=args.limit
        )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, default=str))
        return 0
    for r in rows:
        at = r["started_at"].strftime("%Y-%m-%d %H:%M:%S") if r["started_at"] else ""
        line = f"{r['id']:>6}  {at}  {r['outcome']:<10} {r['rule']}  {r['form']} {r['record_id'] or ''}  ({r['event']})"
        if r["error"]:
            line += f"\n        {r['error_position'] or ''} {r['error']}"
        print(line)
    print(f"{len(rows)} of {total} runs")
    return 0


def cmd_rerun(args: argparse.Namespace) -> int:
    p = common.platform()
    ctx = p.user_context(args.user) if args.user else p.system_context()
    row = rerun(p, args.run, ctx)
    print(
        json.dumps(
            {
                "run": row.get("id"),
                "outcome": row.get("outcome"),
                "error": row.get("error"),
                "actions": row.get("actions"),
            },
            ensure_ascii=False,
            default=str,
        )
    )
    return 0 if row.get("outcome") != "failed" else 1


def _friendly(fn: Any) -> Any:
    """Print a platform error (bad record, unknown rule) as one message and exit 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return int(fn(args) or 0)
        except LowcodeError as exc:
            print(f"error: {describe(exc)}", file=sys.stderr)
            return 1

    return run


def register(sub: Any) -> None:
    s = sub.add_parser("rules", help="business rules: log, rerun, check, test, replay")
    rs = s.add_subparsers(dest="rules_command", metavar="ACTION")
    c = rs.add_parser("check", help="check a pack's rule files (or one .rules file); exit 1 on errors")
    c.add_argument("target")
    c.set_defaults(func=_friendly(cmd_check))
    t = rs.add_parser("test", help="would RULE fire on this record, and what would it do (nothing is written)")
    t.add_argument("pack", help="a pack folder, or the name of an installed pack")
    t.add_argument("rule")
    t.add_argument("--record", required=True, help='the record as JSON; with "id" an update of that record')
    t.add_argument("--user")
    t.set_defaults(func=_friendly(cmd_test))
    r = rs.add_parser("replay", help="how often RULE would have fired over the stored history")
    r.add_argument("pack")
    r.add_argument("rule")
    r.add_argument("--since", default="30d", help="30d, 12h, 2w or a date (default 30d)")
    r.set_defaults(func=_friendly(cmd_replay))
    lg = rs.add_parser("log", help="recent rule runs, newest first")
    lg.add_argument("--rule")
    lg.add_argument("--form")
    lg.add_argument("--record", type=int)
    lg.add_argument("--outcome", choices=("fired", "skipped", "failed", "loop_guard"))
    lg.add_argument("--limit", type=int, default=50)
    lg.add_argument("--json", action="store_true")
    lg.set_defaults(func=_friendly(cmd_log))
    rr = rs.add_parser("rerun", help="run the rule of a logged run again on the current record")
    rr.add_argument("run", type=int)
    rr.add_argument("--user")
    rr.set_defaults(func=_friendly(cmd_rerun))
    s.set_defaults(func=lambda a: (s.print_help(), 2)[1])
