"""Compiled definitions: everything derived from the active pack versions, built once."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from engine.definitions.model import FormSpec, PackSpec, RoleSpec
from engine.errors import DefinitionError, DefinitionErrors
from engine.expr.scope import Scope
from engine.forms.validate import FormValidator
from engine.security.policy import Policy
from engine.store.tables import FormTables


@dataclass(frozen=True)
class Definitions:
    """The active definitions, compiled. Immutable; replaced whole on publish."""

    key: tuple[tuple[str, int], ...]          # ((pack, revision), ...)
    packs: Mapping[str, PackSpec]
    forms: Mapping[str, FormSpec]
    roles: Mapping[str, RoleSpec]
    scopes: Mapping[str, Scope]
    tables: FormTables
    validators: Mapping[str, FormValidator]
    policy: Policy
    timezone: str
    locale: str
    rules: Any = None                         # engine.rules.spec.RuleSet (compiled rules/*.rules)

    def form(self, name: str) -> FormSpec | None:
        return self.forms.get(name)


def compile_definitions(packs: Sequence[PackSpec], key: tuple[tuple[str, int], ...] = ()) -> Definitions:
    """Check that packs fit together and compile them (tables, validators, scopes, policy)."""
    from engine.definitions.scopes import build_scopes

    forms: dict[str, FormSpec] = {}
    roles: dict[str, RoleSpec] = {}
    errors: list[DefinitionError] = []
    scopes: dict[str, Scope] = {}
    for pack in packs:
        for name, form in pack.forms.items():
            if name in forms:
                errors.append(DefinitionError(f"form '{name}' is defined by two packs", form.position))
            forms[name] = form
        for name, role in pack.roles.items():
            roles.setdefault(name, role)
        scopes.update(build_scopes(pack))
    if errors:
        raise DefinitionErrors(errors)
    tables = FormTables(forms)
    policy = Policy(roles, scopes, tables, forms)
    from engine.rules.compiler import compile_rules
    rules = compile_rules(packs, forms, scopes, roles, key)
    first: Any = packs[0] if packs else None
    return Definitions(
        key=key, packs={p.name: p for p in packs}, forms=forms, roles=roles, scopes=scopes,
        tables=tables, validators={n: FormValidator(f, frozenset(roles)) for n, f in forms.items()}, policy=policy,
        timezone=first.timezone if first else "Asia/Shanghai",
        locale=first.locale if first else "zh-CN", rules=rules,
    )
