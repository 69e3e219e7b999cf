"""Who a ``notify`` action reaches: one ``SELECT`` over the users, its WHERE built at compile time.

The target of ``notify`` is compiled once, with the rule, into :class:`Recipients`: a fixed
statement over ``lc_user`` whose only moving parts are bound lists (user ids, user names,
portal account ids), and a function that reads those lists off the firing record. Firing
runs the one statement, whatever the number of users.

- ``notify user wang`` / ``notify role buyer``: the user by name / every user with the role;
- ``notify <expression>``: what the expression yields, checked when the rule is compiled:
  a user (a ``user`` field, ``owner``, ``created_by``, ``updated_by``), a user name (text),
  a list of ids or names, or a link to a record of the pack's ``portal_form`` (pack.yaml):
  that record's portal users (``lc_user.customer_id``), e.g. ``notify customer``;
- on the portal form itself, ``notify <its name>`` is the record's own portal users;
- a bare name that is no field of the form is a role (``notify buyer``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from engine.definitions.model import FieldSpec
from engine.expr import nodes as n
from engine.expr.types import ExprType
from engine.rules import syntax as sx
from engine.rules.compiler import Loop, RuleCompiler, did_you_mean
from engine.store.system import users

#: system columns of every record that hold a user id
USER_COLUMNS = frozenset({"owner", "created_by", "updated_by"})
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
Bound = dict[str, list[Any]]


@dataclass(frozen=True)
class Recipients:
    """A compiled ``notify`` target: ``fetch(conn, state)`` is one SELECT of active users."""

    statement: sa.Select[Any]
    bind: Callable[[Any], Bound]  # the run state -> values of the statement's bound lists

    def fetch(self, conn: Connection, state: Any) -> list[RowMapping]:
        return list(conn.execute(self.statement, self.bind(state)).mappings())


def _select(where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return (
        sa.select(users.c.id, users.c.username, users.c.email)
        .where(users.c.active.is_(True), where)
        .order_by(users.c.id)
    )


def _in(column: sa.Column[Any], name: str) -> sa.ColumnElement[bool]:
    return column.in_(sa.bindparam(name, expanding=True))


def has_role(role: str) -> sa.ColumnElement[bool]:
    """Users whose JSON list of roles holds ``role`` (a role name is an identifier: ``"buyer"``
    appears quoted in the list's text, on SQLite and PostgreSQL alike)."""
    return sa.cast(users.c.roles, sa.Text).contains(f'"{role}"', autoescape=True)


def _fixed(where: sa.ColumnElement[bool]) -> Recipients:
    return Recipients(_select(where), lambda st: {})


def compile_recipients(cc: RuleCompiler, node: sx.ActionNode, form: str, loop: Optional[Loop]) -> Optional[Recipients]:
    """The target of a ``notify`` action, or None after reporting why at its position."""
    a = node.args
    if a["to"] == "user":
        return _fixed(users.c.username == a["who"])
    if a["to"] == "role":
        cc.role(a["who"], a["who_pos"])
        return _fixed(has_role(a["who"]))
    e: sx.Expr = a["expr"]
    text = e.text.strip()
    if _IDENT.match(text) and cc.scope(form).resolve(text) is None and text != "id":
        return _bare_name(cc, text, e, form)
    compiled = cc.expr(e, form, loop)
    if compiled is None:
        return None
    kind = _kind(cc, compiled.tree, form, loop, e)
    if kind is None:
        return None
    evaluate = compiled.evaluate
    if kind == "accounts":

        def accounts(st: Any) -> Bound:
            return {"accounts": _ids(_many(evaluate(st.values(), st.ctx, old=st.old, data=st.data)))}

        return Recipients(_select(_in(users.c.customer_id, "accounts")), accounts)

    def people(st: Any) -> Bound:
        values = _many(evaluate(st.values(), st.ctx, old=st.old, data=st.data))
        return {"ids": _ids(values), "names": [v for v in values if isinstance(v, str)]}

    return Recipients(_select(sa.or_(_in(users.c.id, "ids"), _in(users.c.username, "names"))), people)


def _bare_name(cc: RuleCompiler, name: str, e: sx.Expr, form: str) -> Optional[Recipients]:
    portal = cc.pack.portal_form
    if portal is not None and name == portal and form == portal:
        return Recipients(
            _select(users.c.customer_id == sa.bindparam("account")), lambda st: {"account": st.record.get("id")}
        )
    if name in cc.roles:
        return _fixed(has_role(name))
    scope = cc.scope(form)
    candidates = [*scope.fields, *cc.roles]
    cc.error(
        f"notify {name}: '{name}' is neither a field of {form} nor a role",
        e.position,
        did_you_mean(name, candidates) or "write notify role <role>, notify user <name> or a field",
    )
    return None


def _many(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _ids(values: Sequence[Any]) -> list[int]:
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


def _kind(cc: RuleCompiler, tree: n.Node, form: str, loop: Optional[Loop], e: sx.Expr) -> Optional[str]:
    """``accounts`` (portal account ids) or ``people`` (user ids and names); an error otherwise."""
    t = tree.t
    if t in (ExprType.STRING, ExprType.LIST, ExprType.ANY, ExprType.NULL):
        return "people"
    where, spec = _field_of(cc, tree, form, loop)
    shown = f"'{e.text.strip()}'"
    portal = cc.pack.portal_form
    if t == ExprType.RECORD:
        target = spec.form if spec is not None else None
        if portal is None:
            cc.error(
                f"notify {e.text.strip()}: a link reaches the portal users of a record of the pack's "
                f"portal form, and {cc.pack.name}/pack.yaml names none",
                e.position,
                "declare it in pack.yaml, e.g. portal_form: customer",
            )
            return None
        if target != portal:
            cc.error(
                f"notify {e.text.strip()}: {shown} is a link to {target or 'a record'}, "
                f"not to {portal} (the pack's portal_form)",
                e.position,
                f"name a user field, or a link to {portal}",
            )
            return None
        return "accounts"
    if t == ExprType.INTEGER and (where in USER_COLUMNS or (spec is not None and spec.is_user)):
        return "people"
    what = f"{where} is {_a(spec.type)} field" if spec is not None else f"{shown} is {_a(t.value)}"
    cc.error(
        f"notify {e.text.strip()}: {what}, not a user",
        e.position,
        "notify a user field, owner, a user name, a list of them" + (f", or a link to {portal}" if portal else ""),
    )
    return None


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _field_of(
    cc: RuleCompiler, tree: n.Node, form: str, loop: Optional[Loop]
) -> tuple[Optional[str], Optional[FieldSpec]]:
    """The field a path expression ends at, as (what to call it, its spec): None for other expressions."""
    if isinstance(tree, n.LinkRef):
        spec = cc.forms.get(tree.target_form)
        return f"{tree.target_form}.{tree.name}", spec.field(tree.name) if spec is not None else None
    if not isinstance(tree, n.FieldRef):
        return None, None
    if tree.name in USER_COLUMNS:
        return tree.name, None
    owner = cc.forms.get(form)
    if loop is not None and tree.name.startswith(loop.var + "__"):
        table = owner.field(loop.table) if owner is not None else None
        name = tree.name[len(loop.var) + 2 :]
        child = next((f for f in (table.fields if table is not None else ()) if f.name == name), None)
        return f"{loop.var}.{name}", child
    return tree.name, owner.field(tree.name) if owner is not None else None
