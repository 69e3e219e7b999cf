"""``run.py flows handover FROM TO`` and ``run.py flows migrate FLOW --to N [--map old=new ...]
[--dry-run]``: the administrator's flow operations (registered from apps/cli/flows.py).

``handover`` gives every open task of user FROM (who left) to user TO, each with a history
event naming both (:mod:`engine.flows.handover`). ``migrate`` moves the waiting instances of
FLOW to revision N of its pack by a node mapping, checked first: every problem is printed and
nothing changes when there is one (:mod:`engine.flows.migrate`). Messages are in the pack's
language, or ``--lang``'s.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Optional

from apps.cli import common
from engine.context import RunContext
from engine.errors import LowcodeError, ValidationError
from engine.flows.handover import hand_over, user_by_name
from engine.flows.migrate import MigrationRefused, migrate, parse_map
from engine.platform import Platform


def _locale(platform: Platform, lang: Optional[str]) -> str:
    if lang:
        return lang
    try:
        return platform.definitions().locale
    except LowcodeError:  # nothing published yet
        return "zh-CN"


def _admin(platform: Platform, locale: str) -> RunContext:
    """The command line acts as the system administrator (its history events say so)."""
    return RunContext(
        username="admin (cli)", roles=frozenset({"system"}), clock=platform.clock, superuser=True, locale=locale
    )


def _error(exc: LowcodeError, locale: str) -> int:
    if isinstance(exc, ValidationError) and exc.fields:
        for field, messages in exc.fields.items():
            print(f"error: {field}: {'; '.join(messages)}", file=sys.stderr)
    else:
        print(f"error: {exc.text(locale)}", file=sys.stderr)
    return 1


def cmd_handover(args: argparse.Namespace) -> int:
    platform = common.platform()
    locale = _locale(platform, args.lang)
    try:
        with platform.db.begin() as conn:
            giver = user_by_name(conn, args.from_user)
            if giver is None:
                print(f"error: FROM: no user named '{args.from_user}'", file=sys.stderr)
                return 1
            done = hand_over(conn, _admin(platform, locale), giver, args.to_user)
    except LowcodeError as exc:
        return _error(exc, locale)
    ids = ", ".join(str(i) for i in done["tasks"]) or "-"
    print(f"handed over {done['count']} task(s) from {done['from']['username']} to {done['to']['username']}: {ids}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    platform = common.platform()
    locale = _locale(platform, args.lang)
    try:
        mapping = parse_map(args.map or (), locale)
        plan = migrate(platform, _admin(platform, locale), args.flow, args.to, mapping, dry_run=args.dry_run)
    except MigrationRefused as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{len(exc.problems)} problem(s): nothing was migrated", file=sys.stderr)
        return 1
    except LowcodeError as exc:
        return _error(exc, locale)
    head = "would move" if args.dry_run else "moved"
    print(
        f"{head} {len(plan.instances)} instance(s) of {plan.flow} from revision(s) "
        f"{', '.join(str(r) for r in plan.revisions_from) or '-'} to {plan.revision}"
    )
    for line in plan.lines():
        print(f"  {line}")
    return 0


def register(fs: Any) -> None:
    """Add ``handover`` and ``migrate`` to ``run.py flows``' subcommands."""
    h = fs.add_parser("handover", help="give every open task of a user (who left) to another user")
    h.add_argument("from_user", metavar="FROM", help="the user name whose tasks are handed over")
    h.add_argument("to_user", metavar="TO", help="the user name who takes them")
    h.add_argument("--lang", help="the language of the messages (zh-CN, en)")
    h.set_defaults(func=cmd_handover)
    m = fs.add_parser("migrate", help="move a flow's waiting instances to another revision of its pack")
    m.add_argument("flow")
    m.add_argument("--to", type=int, required=True, metavar="N", help="the pack revision to move to")
    m.add_argument("--map", action="append", metavar="OLD=NEW", help="a node renamed (repeat for more)")
    m.add_argument("--dry-run", action="store_true", help="check and print the plan, change nothing")
    m.add_argument("--lang", help="the language of the messages (zh-CN, en)")
    m.set_defaults(func=cmd_migrate)
