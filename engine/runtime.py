"""Compiled definitions: everything derived from the active pack versions, built once."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Sequence

from engine.definitions.model import FormSpec, PackSpec, RoleSpec
from engine.errors import DefinitionError, DefinitionErrors, Position
from engine.expr.scope import Scope
from engine.forms.validate import FormValidator
from engine.security.policy import Policy
from engine.store.tables import FormTables

EMPTY: Mapping[str, Any] = MappingProxyType({})


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
    decisions: Mapping[str, Any] = field(default_factory=lambda: EMPTY)  # table name -> engine.rules.decision.DecisionTable

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
    decisions = compile_decisions(packs, forms, scopes)
    from engine.rules.compiler import compile_rules
    rules = compile_rules(packs, forms, scopes, roles, key, decisions=decisions)
    first: Any = packs[0] if packs else None
    return Definitions(
        key=key, packs={p.name: p for p in packs}, forms=forms, roles=roles, scopes=scopes,
        tables=tables, validators={n: FormValidator(f, frozenset(roles)) for n, f in forms.items()}, policy=policy,
        timezone=first.timezone if first else "Asia/Shanghai",
        locale=first.locale if first else "zh-CN", rules=rules, decisions=MappingProxyType(decisions),
    )


def compile_decisions(packs: Sequence[PackSpec], forms: Mapping[str, FormSpec],
                      scopes: Mapping[str, Scope]) -> dict[str, Any]:
    """Every pack's decision tables (``rules/*.decision.yaml``) by name; all errors at once."""
    from engine.rules.decision import compile_pack_decisions, select_options

    options = select_options(forms.values())
    tables: dict[str, Any] = {}
    errors: list[DefinitionError] = []
    for pack in packs:
        def display(rel: str, root: str = pack.root) -> str:
            return f"{root}/{rel}" if root else rel
        try:
            found = compile_pack_decisions(pack.files, scopes, display=display, options=options)
        except DefinitionErrors as exc:
            errors.extend(exc.errors)
            continue
        for name, table in found.items():
            if name in tables:
                errors.append(DefinitionError(f"decision table '{name}' is defined by two packs",
                                              Position(display("rules"))))
                continue
            tables[name] = table
    if errors:
        raise DefinitionErrors(errors)
    return tables
