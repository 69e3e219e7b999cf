"""``run.py org dept add | set | list``, ``org user-dept``, ``org heads`` and ``run.py delegate
add | list | revoke``: the organisation flows climb and delegate in (engine.security.org).

Departments and users are named (a department by its ``name``, a user by user name); dates
are ISO dates or date-times in the pack's time zone (an end date includes that day). Messages
are in the pack's language, or ``--lang``'s.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, Optional

from sqlalchemy.engine import Connection

from apps.cli import common
from engine.errors import LowcodeError, ValidationError
from engine.platform import Platform
from engine.security import org


def _settings(platform: Platform, lang: Optional[str]) -> tuple[str, str]:
    """(time zone, language): the published pack's, else UTC and zh-CN; ``lang`` wins."""
    try:
        defs = platform.definitions()
        zone, locale = defs.timezone, defs.locale
    except LowcodeError:  # nothing published yet: the organisation works without a pack
        zone, locale = "UTC", "zh-CN"
    return zone, lang or locale


def _run(args: argparse.Namespace, work: Callable[[Connection, Platform, str, str], None], write: bool) -> int:
    platform = common.platform()
    zone, locale = _settings(platform, args.lang)
    try:
        with platform.db.begin() if write else platform.db.connect() as conn:
            work(conn, platform, zone, locale)
    except ValidationError as exc:
        for field, messages in exc.fields.items():
            print(f"error: {field}: {'; '.join(messages)}", file=sys.stderr)
        return 1
    except LowcodeError as exc:
        print(f"error: {exc.text(locale)}", file=sys.stderr)
        return 1
    return 0


def _label(args: argparse.Namespace) -> Optional[dict[str, str]]:
    label = {k: v for k, v in (("zh-CN", args.zh), ("en", args.en)) if v}
    return label or None


def _dept_id(conn: Connection, name: Optional[str]) -> Optional[int]:
    return None if name in (None, "", "-") else org.department_by_name(conn, str(name)).id


def _user_id(conn: Connection, name: Optional[str]) -> Optional[int]:
    return None if name in (None, "", "-") else org.user_id_by_name(conn, str(name))


def _show(d: org.Department, depth: int = 0) -> str:
    label = " / ".join(d.label.values()) if d.label else ""
    head = f"  head {d.head}" if d.head else "  (no head)"
    return f"{d.id:>4} {'  ' * depth}{d.name}{f' ({label})' if label else ''}{head}"


def cmd_dept_add(args: argparse.Namespace) -> int:
    def work(conn: Connection, _p: Platform, _zone: str, locale: str) -> None:
        values: dict[str, Any] = {"name": args.name, "label": _label(args)}
        values["parent_id"] = _dept_id(conn, args.parent)
        values["head_id"] = _user_id(conn, args.head)
        print(f"department {_show(org.add_department(conn, values, locale=locale)).strip()}")

    return _run(args, work, write=True)


def cmd_dept_set(args: argparse.Namespace) -> int:
    def work(conn: Connection, _p: Platform, _zone: str, locale: str) -> None:
        dept = org.department_by_name(conn, args.name)
        changes: dict[str, Any] = {}
        if args.rename:
            changes["name"] = args.rename
        if args.zh or args.en:
            changes["label"] = {**(dept.label or {}), **(_label(args) or {})}
        if args.parent is not None:
            changes["parent_id"] = _dept_id(conn, args.parent)
        if args.head is not None:
            changes["head_id"] = _user_id(conn, args.head)
        print(f"department {_show(org.update_department(conn, dept.id, changes, locale=locale)).strip()}")

    return _run(args, work, write=True)


def cmd_dept_list(args: argparse.Namespace) -> int:
    def work(conn: Connection, _p: Platform, _zone: str, _locale: str) -> None:
        every = org.departments(conn)
        below: dict[Optional[int], list[org.Department]] = {}
        for d in every:
            below.setdefault(d.parent_id if d.parent_id in {x.id for x in every} else None, []).append(d)
        names = {u: n for u, n in _usernames(conn).items()}

        def tree(parent: Optional[int], depth: int, seen: set[int]) -> None:
            for d in below.get(parent, []):
                if d.id in seen:
                    continue
                seen.add(d.id)
                people = ", ".join(names[m] for m in org.members(conn, d.id))
                print(_show(d, depth) + (f"  members {people}" if people else ""))
                tree(d.id, depth + 1, seen)

        tree(None, 0, set())
        if not every:
            print("no departments yet: run.py org dept add NAME [--parent NAME] [--head USER]")

    return _run(args, work, write=False)


def cmd_user_dept(args: argparse.Namespace) -> int:
    def work(conn: Connection, _p: Platform, _zone: str, locale: str) -> None:
        user = org.user_id_by_name(conn, args.user)
        dept = org.set_user_department(conn, user, _dept_id(conn, args.dept), locale=locale)
        print(f"{args.user}: {'in ' + dept.name if dept else 'in no department'}")

    return _run(args, work, write=True)


def cmd_heads(args: argparse.Namespace) -> int:
    def work(conn: Connection, _p: Platform, _zone: str, _locale: str) -> None:
        names = _usernames(conn)
        heads = org.heads_above(conn, org.user_id_by_name(conn, args.user), args.levels)
        print(f"{args.user}: " + (" -> ".join(names[h] for h in heads) if heads else "no heads above"))

    return _run(args, work, write=False)


def _usernames(conn: Connection) -> dict[int, str]:
    import sqlalchemy as sa

    from engine.store.system import users

    return {int(r.id): str(r.username) for r in conn.execute(sa.select(users.c.id, users.c.username))}


def _show_delegation(d: org.Delegation, zone: str) -> str:
    """One delegation on a line, its times in the pack's time zone."""
    flows = ", ".join(d.flows) if d.flows is not None else "every flow"
    state = f"  revoked {org.local(d.revoked_at, zone)}" if d.revoked_at else ""
    window = f"{org.local(d.starts_at, zone)} .. {org.local(d.ends_at, zone)}"
    return f"{d.id:>4} {d.from_name} -> {d.to_name}  {window}  {flows}{state}"


def cmd_delegate_add(args: argparse.Namespace) -> int:
    def work(conn: Connection, p: Platform, zone: str, locale: str) -> None:
        values = {
            "from_id": org.user_id_by_name(conn, args.giver),
            "to_id": org.user_id_by_name(conn, args.taker),
            "starts_at": args.starts,
            "ends_at": args.ends,
            "flows": args.flow or None,
        }
        made = org.add_delegation(conn, values, now=p.clock.now(), created_by="cli", timezone=zone, locale=locale)
        print(f"delegation {_show_delegation(made, zone).strip()}")

    return _run(args, work, write=True)


def cmd_delegate_list(args: argparse.Namespace) -> int:
    def work(conn: Connection, p: Platform, zone: str, _locale: str) -> None:
        user = org.user_id_by_name(conn, args.user) if args.user else None
        found = org.delegations(conn, user_id=user, at=p.clock.now() if args.active else None)
        for d in found:
            print(_show_delegation(d, zone))
        if not found:
            print("no delegations")

    return _run(args, work, write=False)


def cmd_delegate_revoke(args: argparse.Namespace) -> int:
    def work(conn: Connection, p: Platform, zone: str, _locale: str) -> None:
        print(f"revoked {_show_delegation(org.revoke_delegation(conn, args.id, p.clock.now()), zone).strip()}")

    return _run(args, work, write=True)


def _help(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def show(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def register(sub: Any) -> None:
    """Add ``org`` and ``delegate`` to run.py's subparsers."""
    lang = argparse.ArgumentParser(add_help=False)
    lang.add_argument("--lang", choices=("zh-CN", "en"), help="the language of the messages (default: the pack's)")
    o = sub.add_parser("org", help="departments, their heads, users' departments")
    osub = o.add_subparsers(dest="org_command", metavar="ACTION")
    d = osub.add_parser("dept", help="departments: add, set, list")
    dsub = d.add_subparsers(dest="dept_command", metavar="ACTION")
    for name, func, helptext in (("add", cmd_dept_add, "add a department"), ("set", cmd_dept_set, "change one")):
        a = dsub.add_parser(name, help=helptext, parents=[lang])
        a.add_argument("name", help="the department's unique name, e.g. sales")
        a.add_argument("--zh", help="its label in Chinese, e.g. 销售部")
        a.add_argument("--en", help="its label in English, e.g. Sales")
        a.add_argument("--parent", help="the department above ('-': none)")
        a.add_argument("--head", help="the user who heads it ('-': none)")
        if name == "set":
            a.add_argument("--rename", help="a new name")
        a.set_defaults(func=func)
    a = dsub.add_parser("list", help="the departments as a tree, with heads and members", parents=[lang])
    a.set_defaults(func=cmd_dept_list)
    d.set_defaults(func=_help(d))
    a = osub.add_parser("user-dept", help="put a user in a department ('-': in none)", parents=[lang])
    a.add_argument("user")
    a.add_argument("dept")
    a.set_defaults(func=cmd_user_dept)
    a = osub.add_parser("heads", help="the heads an approval chain climbs for a user", parents=[lang])
    a.add_argument("user")
    a.add_argument("--levels", type=int, default=3)
    a.set_defaults(func=cmd_heads)
    o.set_defaults(func=_help(o))

    g = sub.add_parser("delegate", help="delegations: a user's tasks go to another for a time")
    gsub = g.add_subparsers(dest="delegate_command", metavar="ACTION")
    a = gsub.add_parser("add", help="FROM delegates to TO from one date to another", parents=[lang])
    a.add_argument("giver", metavar="FROM", help="the user away")
    a.add_argument("taker", metavar="TO", help="the user who takes their tasks")
    a.add_argument("--from", dest="starts", required=True, help="first day (YYYY-MM-DD) or moment (ISO 8601)")
    a.add_argument("--to", dest="ends", required=True, help="last day (included) or the moment it ends")
    a.add_argument("--flow", action="append", help="only this flow (repeatable; default: every flow)")
    a.set_defaults(func=cmd_delegate_add)
    a = gsub.add_parser("list", help="delegations, newest last", parents=[lang])
    a.add_argument("--user", help="only those this user gave or took")
    a.add_argument("--active", action="store_true", help="only those in force now")
    a.set_defaults(func=cmd_delegate_list)
    a = gsub.add_parser("revoke", help="end a delegation now", parents=[lang])
    a.add_argument("id", type=int)
    a.set_defaults(func=cmd_delegate_revoke)
    g.set_defaults(func=_help(g))
