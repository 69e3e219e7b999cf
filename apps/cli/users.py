"""``run.py user add | list | logins | unlock``."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from apps.cli import common


def cmd_user_add(args: argparse.Namespace) -> int:
    platform = common.platform()
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
        user = platform.users.add(conn, args.name, password, args.role, email=args.email, customer_id=args.customer)
    print(f"user {user.username} (id {user.id}) with roles {', '.join(sorted(user.roles))}")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    platform = common.platform()
    with platform.db.connect() as conn:
        for user in platform.users.all(conn):
            print(f"{user.id:>4} {user.username:<16} {', '.join(sorted(user.roles))}")
    return 0


def cmd_user_logins(args: argparse.Namespace) -> int:
    for a in common.platform().login_attempts(args.name, args.limit):
        lock = f"  locked {a['locked']} until {a['locked_until']:%Y-%m-%d %H:%M:%S}Z" if a["locked"] else ""
        print(
            f"{a['at']:%Y-%m-%d %H:%M:%S}Z {a['scope']:<6} {a['outcome']:<9} {a['username']:<16} {a['address']}{lock}"
        )
    return 0


def cmd_user_unlock(args: argparse.Namespace) -> int:
    cleared = common.platform().unlock(args.name)
    print(f"{args.name}: failures and lock cleared" if cleared else f"{args.name}: nothing to clear")
    return 0


def register(sub: Any) -> None:
    """Add ``user`` and its actions to run.py's subparsers."""
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
