"""Compiled definitions: everything derived from a set of pack revisions, built once.

One :class:`Definitions` is compiled per key ``((pack, revision), ...)`` by
:func:`compile_definitions` and shared by every caller: validation, the write-time form
logic (conditions, formulas, checks), rules, listing and the workspace's JavaScript. What is
derived from it later (a form's :class:`~engine.forms.compute.FormLogic`, a JavaScript module)
is built once, on first use, and kept on it (:meth:`Definitions.memo`), so it goes away with
the revision when the cache of revisions (:mod:`engine.revisions`) lets it go.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence, TypeVar

from engine.definitions.model import FormSpec, PackSpec, RoleSpec
from engine.definitions.scopes import scope_version, scopes_for
from engine.errors import DefinitionError, DefinitionErrors, Position
from engine.expr.scope import Scope
from engine.flows.loader import compile_flows
from engine.flows.model import FlowSpec
from engine.forms.compute import FormLogic
from engine.forms.validate import FormValidator
from engine.rules.compiler import compile_rules
from engine.rules.decision import DecisionTable
from engine.rules.decision_files import compile_pack_decisions, select_options
from engine.rules.spec import RuleSet
from engine.security.policy import Policy
from engine.store.tables import FormTables

EMPTY: Mapping[str, Any] = MappingProxyType({})
Key = tuple[tuple[str, int], ...]
T = TypeVar("T")

#: how often each key was compiled in this process (what the "compiled once" tests count)
COMPILATIONS: Counter[Key] = Counter()
_count_lock = threading.Lock()


class _Memo:
    """What is derived from one compiled revision on first use; one build per key, even
    when threads ask at once."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._values: dict[Any, Any] = {}

    def get(self, key: Any, build: Callable[[], T]) -> T:
        try:
            return self._values[key]  # type: ignore[no-any-return]
        except KeyError:
            pass
        with self._lock:  # re-entrant: a build may ask for another value (a store, its logic)
            if key not in self._values:
                self._values[key] = build()
            return self._values[key]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Definitions:
    """A set of pack revisions, compiled. Immutable; the platform keeps one per key."""

    key: tuple[tuple[str, int], ...]  # ((pack, revision), ...)
    packs: Mapping[str, PackSpec]
    forms: Mapping[str, FormSpec]
    roles: Mapping[str, RoleSpec]
    scopes: Mapping[str, Scope]
    tables: FormTables
    validators: Mapping[str, FormValidator]
    policy: Policy
    timezone: str
    locale: str
    rules: RuleSet  # the compiled rules/*.rules
    decisions: Mapping[str, DecisionTable] = field(default_factory=lambda: EMPTY)  # by table name
    flows: Mapping[str, FlowSpec] = field(default_factory=lambda: EMPTY)  # by flow name, every pack's
    _memo: _Memo = field(default_factory=_Memo, repr=False, compare=False)

    def form(self, name: str) -> FormSpec | None:
        return self.forms.get(name)

    def memo(self, key: Any, build: Callable[[], T]) -> T:
        """``build()``, once for these definitions (a store, a form's JavaScript, ...)."""
        return self._memo.get(key, build)

    def logic(self, form: str) -> FormLogic:
        """The write-time logic of ``form`` (conditions, defaults, computed fields, checks),
        compiled on first use; the one every caller shares (store, rules, workspace)."""
        spec, scope = self.forms[form], self.scopes[form]
        return self.memo(("logic", form), lambda: FormLogic(spec, scope))

    def flows_of(self, form: str) -> tuple[FlowSpec, ...]:
        """The flows bound to ``form``, by name."""
        return tuple(f for _, f in sorted(self.flows.items()) if f.form == form)

    def revision(self, pack: str) -> int | None:
        """The revision of ``pack`` these definitions were compiled from (None: not among them)."""
        return dict(self.key).get(pack)

    def pack_of(self, form: str) -> str | None:
        """The name of the pack that defines ``form``."""
        for name, pack in self.packs.items():
            if form in pack.forms:
                return name
        return None


def compile_definitions(packs: Sequence[PackSpec], key: Key = ()) -> Definitions:
    """Check that packs fit together and compile them (tables, validators, scopes, policy, rules)."""
    with _count_lock:
        COMPILATIONS[key] += 1
    forms: dict[str, FormSpec] = {}
    roles: dict[str, RoleSpec] = {}
    errors: list[DefinitionError] = []
    for pack in packs:
        for name, form in pack.forms.items():
            if name in forms:
                errors.append(DefinitionError(f"form '{name}' is defined by two packs", form.position))
            forms[name] = form
        for name, role in pack.roles.items():
            roles.setdefault(name, role)
    if errors:
        raise DefinitionErrors(errors)
    # one scope per form over every pack's forms (links across packs resolve); a single pack's
    # version is the one its loader checked the expressions with, so they compile once
    scopes: dict[str, Scope] = scopes_for(forms.values(), "+".join(scope_version(p) for p in packs))
    tables = FormTables(forms)
    policy = Policy(roles, scopes, tables, forms)
    decisions = compile_decisions(packs, forms, scopes)
    rules = compile_rules(packs, forms, scopes, roles, key, decisions=decisions)
    flows = compile_flows(packs, forms, scopes, roles, decisions)
    first: Any = packs[0] if packs else None
    return Definitions(
        key=key,
        packs={p.name: p for p in packs},
        forms=forms,
        roles=roles,
        scopes=scopes,
        tables=tables,
        validators={n: FormValidator(f, frozenset(roles)) for n, f in forms.items()},
        policy=policy,
        timezone=first.timezone if first else "Asia/Shanghai",
        locale=first.locale if first else "zh-CN",
        rules=rules,
        decisions=MappingProxyType(decisions),
        flows=MappingProxyType(flows),
    )


def compile_decisions(
    packs: Sequence[PackSpec], forms: Mapping[str, FormSpec], scopes: Mapping[str, Scope]
) -> dict[str, DecisionTable]:
    """Every pack's decision tables (``rules/*.decision.yaml``) by name; all errors at once."""
    options = select_options(forms.values())
    tables: dict[str, DecisionTable] = {}
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
                errors.append(
                    DefinitionError(f"decision table '{name}' is defined by two packs", Position(display("rules")))
                )
                continue
            tables[name] = table
    if errors:
        raise DefinitionErrors(errors)
    return tables
