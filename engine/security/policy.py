"""Form, field and row permissions, compiled once per definitions version.

A user's roles combine: an action is allowed if any role grants it; a field is as open as
the most open role makes it; rows are the union of what each granting role may see.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import sqlalchemy as sa

from engine.context import RunContext
from engine.definitions.model import FormGrant, RoleSpec
from engine.errors import DefinitionError, PermissionDenied
from engine.expr.scope import Scope, SqlTables
from engine.expr.types import ExprType

_RANK = {"hidden": 0, "readonly": 1, "editable": 2}
_DENY = object()  # a "*" row filter that cannot apply to a form: that role sees none of its rows


def _rank(fields: Mapping[str, str], path: str) -> int:
    """How open one grant leaves a field or a sub-table column (never more than its table)."""
    table, _, column = path.partition(".")
    rank = _RANK[fields.get(table, "editable")]
    return min(rank, _RANK[fields.get(path, "editable")]) if column else rank


class Policy:
    """Answers: may this context do X on form F, which fields does it see, which rows."""

    def __init__(
        self, roles: Mapping[str, RoleSpec], scopes: Mapping[str, Scope], tables: SqlTables, forms: Mapping[str, Any]
    ) -> None:
        from engine.expr import compile_expression

        self.roles = roles
        self.tables = tables
        self.forms = forms
        self._rows: dict[tuple[str, str], Any] = {}
        for role in roles.values():
            for form, grant in role.forms.items():
                if not grant.rows:
                    continue
                # A "*" grant's row filter applies to every form the role has no own grant for.
                targets = [form] if form != "*" else [f for f in scopes if f not in role.forms]
                for target in targets:
                    if target not in scopes:
                        continue
                    pos = grant.rows_position
                    try:
                        self._rows[(role.name, target)] = compile_expression(
                            grant.rows,
                            scopes[target],
                            expect=ExprType.BOOLEAN,
                            file=pos.file,
                            line=pos.line or 1,
                            column=pos.column or 1,
                        )
                    except DefinitionError:
                        if form != "*":
                            raise
                        self._rows[(role.name, target)] = _DENY  # filter names fields this form lacks

    def is_superuser(self, ctx: RunContext) -> bool:
        return ctx.superuser or any(self.roles[r].superuser for r in ctx.roles if r in self.roles)

    def _grants(self, ctx: RunContext, form: str) -> list[tuple[str, FormGrant]]:
        out = []
        for name in sorted(ctx.roles):
            role = self.roles.get(name)
            if role is None:
                continue
            grant = role.forms.get(form) or role.forms.get("*")
            if grant is not None:
                out.append((name, grant))
        return out

    def can(self, ctx: RunContext, form: str, action: str) -> bool:
        if self.is_superuser(ctx):
            return True
        return any(action in g.actions for _, g in self._grants(ctx, form))

    def require(self, ctx: RunContext, form: str, action: str) -> None:
        if not self.can(ctx, form, action):
            raise PermissionDenied(f"you may not {action} {form}")

    def field_access(self, ctx: RunContext, form: str) -> dict[str, str]:
        """Access for every field that is not plainly editable: ``hidden`` or ``readonly``, by
        path: a field (``cost``) or a sub-table column (``lines.unit_price``). A column is
        listed when it is stricter than its sub-table (a column of a hidden table is hidden)."""
        if self.is_superuser(ctx):
            return {}
        grants = [g.fields for _, g in self._grants(ctx, form) if "read" in g.actions]
        if not grants:
            return {}
        out: dict[str, str] = {}
        for name in sorted(set().union(*(g.keys() for g in grants))):
            best = max(_rank(g, name) for g in grants)
            table, _, column = name.partition(".")
            if column and best >= max(_rank(g, table) for g in grants):
                continue
            if best < 2:
                out[name] = "hidden" if best == 0 else "readonly"
        return out

    def hidden(self, ctx: RunContext, form: str) -> frozenset[str]:
        return frozenset(n for n, a in self.field_access(ctx, form).items() if a == "hidden")

    def not_writable(self, ctx: RunContext, form: str) -> frozenset[str]:
        return frozenset(self.field_access(ctx, form))

    def row_clause(self, ctx: RunContext, form: str, action: str = "read") -> Optional[sa.ColumnElement[bool]]:
        """The SQL condition for the rows ``ctx`` may ``action``; None means all rows."""
        if self.is_superuser(ctx):
            return None
        clauses = []
        for role, grant in self._grants(ctx, form):
            if action not in grant.actions:
                continue
            compiled = self._rows.get((role, form))
            if compiled is None:
                if grant.rows:  # a filter exists but could not apply here: fail closed
                    continue
                return None
            if compiled is _DENY:
                continue
            clauses.append(compiled.to_sql(self.tables, ctx))
        if not clauses:
            return sa.false()
        return clauses[0] if len(clauses) == 1 else sa.or_(*clauses)

    def acting_clause(self, ctx: RunContext, form: str, action: str) -> Optional[sa.ColumnElement[bool]]:
        """The SQL condition for the rows ``ctx`` may both read and ``action``; None means all rows."""
        parts = [c for c in (self.row_clause(ctx, form, "read"), self.row_clause(ctx, form, action)) if c is not None]
        return None if not parts else (parts[0] if len(parts) == 1 else sa.and_(*parts))

    def all_within(self, conn: Any, ctx: RunContext, form: str, ids: Sequence[int], action: str) -> bool:
        """Whether every record of ``ids`` is among the rows ``ctx`` may ``action`` (one query)."""
        clause = self.row_clause(ctx, form, action)
        if clause is None or not ids:
            return True
        table = self.tables.table(form)
        count = conn.execute(sa.select(sa.func.count()).select_from(table).where(table.c.id.in_(list(ids)), clause))
        return int(count.scalar_one()) == len(set(ids))
