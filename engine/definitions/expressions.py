"""Compile every expression of a pack once at load, to report its errors in place.

The expression language lives in :mod:`engine.expr`; if it cannot be imported (it is
optional while it is being built) expression checking is skipped.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional

from engine.definitions.model import FieldSpec, FormSpec, RoleSpec
from engine.errors import DefinitionError, DefinitionErrors, Position
from engine.expr.scope import Scope
from engine.expr.types import ExprType


def compiler() -> Optional[Callable[..., Any]]:
    """``engine.expr.compile_expression`` or None when the expression package is not ready."""
    try:
        from engine.expr import compile_expression
    except ImportError:
        return None
    return compile_expression


def check_expressions(
    forms: Mapping[str, FormSpec],
    roles: Mapping[str, RoleSpec],
    scopes: Mapping[str, Scope],
    errors: list[DefinitionError],
) -> bool:
    """Compile formulas, conditions, checks and row filters; False if checking was skipped."""
    compile_ = compiler()
    if compile_ is None:
        return False
    seen: set[tuple[str, str, int, int]] = set()

    def run(src: str, scope: Scope, expect: ExprType, pos: Position) -> None:
        try:
            compile_(src, scope, expect=expect, file=pos.file, line=pos.line, column=pos.column)
        except DefinitionErrors as many:
            found = list(many.errors)
        except DefinitionError as one:
            found = [one]
        else:
            return
        for e in found:
            key = (e.message, e.position.file, e.position.line, e.position.column)
            if key not in seen:
                seen.add(key)
                errors.append(e)

    for form in forms.values():
        scope = scopes[form.name]
        for field in form.fields:
            _field_exprs(field, scope, run)
            child = scope.fields[field.name].children if field.name in scope.fields else None
            for sub in field.fields:
                if child is not None:
                    _field_exprs(sub, child, run)
        for chk in form.checks:
            run(chk.expr, scope, ExprType.BOOLEAN, chk.position)
    for role in roles.values():
        for form_name, grant in role.forms.items():
            if not grant.rows:
                continue
            targets = scopes.values() if form_name == "*" else [scopes[form_name]] if form_name in scopes else []
            for scope in targets:
                run(grant.rows, scope, ExprType.BOOLEAN, grant.rows_position)
    return True


def _field_exprs(field: FieldSpec, scope: Scope, run: Callable[..., None]) -> None:
    for key in ("visible_if", "required_if", "readonly_if"):
        src = getattr(field, key)
        if src:
            run(src, scope, ExprType.BOOLEAN, field.expr_positions.get(key, field.position))
    if field.formula:
        info = scope.fields.get(field.name)
        expect = info.type if info is not None else ExprType.ANY
        run(field.formula, scope, expect, field.expr_positions.get("formula", field.position))
