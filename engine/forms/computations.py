"""The computed fields of a form: which fields the server sets, one :class:`Computation` each,
their order (each after what it reads; a circle is a definition error) and when an input changed."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional

from engine.definitions.model import FieldSpec, FormSpec
from engine.errors import DefinitionError
from engine.expr.scope import Scope
from engine.expr.types import ExprType
from engine.forms.fieldtype import FIELD_TYPES

EMPTY_VALUES: tuple[Any, ...] = (None, "", [])


def is_computed(spec: FieldSpec) -> bool:
    """True when the server sets this field (formula, rollup, lookup, auto number)."""
    return FIELD_TYPES[spec.type].computed or bool(spec.formula) or spec.prop("lookup") is not None


def is_live(spec: FieldSpec) -> bool:
    """True for computed fields that are not stored but computed when read."""
    return bool(spec.prop("live")) and is_computed(spec)


@dataclass
class Computation:
    """One computed field: where it lives, how to compute it, and when."""

    name: str
    table: Optional[str]  # the sub-table it belongs to (None: the record itself)
    spec: FieldSpec
    evaluate: Callable[..., Any]
    reads: frozenset[str]  # names read, as the expression wrote them (``parent.customer``)
    copy: bool  # a lookup copied at save: only for new rows / changed inputs
    live: bool
    tree: Any = None  # the checked expression (formulas, rollups, lookup expressions)

    @property
    def inputs(self) -> frozenset[str]:
        """Fields of the same row read (first segments)."""
        return heads(n for n in self.reads if path_of(n)[0] != "parent")

    @property
    def parent_inputs(self) -> frozenset[str]:
        """Fields of the parent record a sub-table row's computation reads (``parent.x``)."""
        return frozenset(p[1] for p in map(path_of, self.reads) if p[0] == "parent" and len(p) > 1)

    @property
    def key(self) -> str:
        return f"{self.table}.{self.name}" if self.table else self.name


def expected_type(scope: Scope, f: FieldSpec) -> Optional[ExprType]:
    info = scope.fields.get(f.name)
    if info is None or info.type in (ExprType.ANY, ExprType.JSON, ExprType.LIST, ExprType.TABLE):
        return None
    return info.type


def path_of(name: str) -> list[str]:
    parts = name.split(".")
    return parts[1:] if parts[0] == "this" and len(parts) > 1 else parts


def heads(names: Iterable[str]) -> frozenset[str]:
    return frozenset(path_of(name)[0] for name in names)


def differs(new: Any, old: Any) -> bool:
    if new in EMPTY_VALUES and old in EMPTY_VALUES:
        return False
    if (
        isinstance(new, list)
        and isinstance(old, list)
        and len(new) == len(old)
        and all(isinstance(a, Mapping) for a in new)
    ):
        return any(any(o.get(k) != v for k, v in a.items() if k not in ("id", "parent")) for a, o in zip(new, old))
    return bool(new != old)


def inputs_changed(inputs: frozenset[str], new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    return any(differs(new.get(k), old.get(k)) for k in inputs if k not in ("parent", "me", "my", "id"))


def in_order(comps: list[Computation], form: FormSpec, errors: list[DefinitionError]) -> list[Computation]:
    """Computations sorted so that each runs after those it reads (networkx topological sort)."""
    import networkx as nx  # imported when a form is compiled

    by_key = {c.key: c for c in comps}
    tables = {f.name for f in form.fields if f.is_table}
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(by_key)
    for c in comps:
        for name in c.reads:
            parts = path_of(name)
            if c.table is None:
                deps = (
                    (
                        [f"{parts[0]}.{parts[1]}"]
                        if len(parts) > 1
                        else [k for k in by_key if k.startswith(parts[0] + ".")]
                    )
                    if parts[0] in tables
                    else [parts[0]]
                )
            elif parts[0] == "parent":
                deps = parts[1:2]
            else:
                deps = [f"{c.table}.{parts[0]}"]
            for d in deps:
                if d in by_key:
                    graph.add_edge(d, c.key)
    try:
        return [by_key[k] for k in nx.topological_sort(graph)]
    except nx.NetworkXUnfeasible:
        cycle = [a for a, _ in nx.find_cycle(graph)]
        first = by_key[cycle[0]]
        errors.append(
            DefinitionError(
                "computed fields depend on each other in a circle: " + " -> ".join([*cycle, cycle[0]]),
                first.spec.expr_positions.get("formula", first.spec.position),
                "break the circle",
                f"fields.{first.key}",
            )
        )
        return comps


_counter = itertools.count(1)


def new_version() -> str:
    """A scope version no other compiled definitions share (the expression cache key)."""
    return f"forms-{next(_counter)}"
