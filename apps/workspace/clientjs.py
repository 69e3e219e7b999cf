"""The browser side of a form's conditions and formulas, made once per compiled revision.

For each form: ``visible_if`` / ``required_if`` / ``readonly_if`` and formulas of the form and
of its sub-tables, through the JavaScript back end (:mod:`engine.expr.jscompile`). Expressions
that need the server (links, other forms, functions without a browser version) are listed
under ``server``; the page asks ``POST /w/<form>/compute`` for them.

A module is built for what its user may see: a hidden field or sub-table column has no entry,
and an expression that reads one is left out (the field shows the value the server computed
when it saved), so the page never needs a hidden value as an input.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Optional

from engine.definitions.model import FieldSpec
from engine.expr.jscompile import NeedsServer, kind, to_js
from engine.expr.types import ExprType as T
from engine.runtime import Definitions
from engine.security.fields import reads_hidden

KEYS = ("visible_if", "required_if", "readonly_if", "formula")


@dataclass(frozen=True)
class Module:
    text: str
    version: str


def definitions_version(defs: Definitions) -> str:
    """A short tag for the active definitions (part of the module's URL)."""
    versions = sorted((name, scope.version) for name, scope in defs.scopes.items())
    return hashlib.sha256(repr((defs.key, versions)).encode()).hexdigest()[:12]


def compiled(defs: Definitions, form: str, table: Optional[str], spec: FieldSpec, key: str) -> Any:
    """The CompiledExpr of a field's (or a sub-table column's) condition or formula: the one
    the form's write-time logic compiled (rollups as their aggregate, lookups as a path)."""
    return defs.logic(form).expression(table, spec.name, key)


def withheld(ce: Any, hidden: frozenset[str], table: Optional[str] = None) -> bool:
    """True when an expression (of a sub-table row when ``table`` is given) reads a field or
    column hidden from the user: it is not computed for them while they type."""
    for name in ce.names:
        path = (
            name[len("parent.") :] if table and name.startswith("parent.") else (f"{table}.{name}" if table else name)
        )
        if reads_hidden(path, hidden):
            return True
    return False


def unseen(defs: Definitions, form: str, hidden: frozenset[str]) -> frozenset[str]:
    """``hidden`` and the computed fields and columns whose values follow from it (``amount =
    qty * unit_price`` when ``unit_price`` is hidden; ``total = sum(lines.amount)`` then too):
    the browser cannot compute them without a hidden input."""
    if not hidden:
        return hidden
    out = set(hidden)
    fields: list[tuple[Optional[str], FieldSpec]] = [(None, f) for f in defs.forms[form].fields]
    fields += [(f.name, c) for f in defs.forms[form].fields if f.is_table for c in f.fields]
    grew = True
    while grew:
        grew = False
        for table, spec in fields:
            path = f"{table}.{spec.name}" if table else spec.name
            ce = compiled(defs, form, table, spec, "formula") if path not in out else None
            if ce is not None and withheld(ce, frozenset(out), table):
                out.add(path)
                grew = True
    return frozenset(out)


def _entries(
    defs: Definitions,
    form: str,
    fields: tuple[FieldSpec, ...],
    table: Optional[str],
    server: list[str],
    hidden: frozenset[str],
    blind: frozenset[str],
) -> dict[str, dict[str, Any]]:
    prefix = f"{table}." if table else ""
    out: dict[str, dict[str, Any]] = {}
    for spec in fields:
        if prefix + spec.name in hidden:
            continue
        entry: dict[str, Any] = {}
        for key in KEYS:
            ce = compiled(defs, form, table, spec, key)
            if ce is None or withheld(ce, blind, table):
                continue
            try:
                entry[key] = to_js(ce)
            except NeedsServer:
                server.append(f"{key}:{prefix}{spec.name}")
                continue
            if key == "formula":
                entry["kind"] = "n0" if ce.type == T.INTEGER else kind(ce.type)
        if entry:
            out[spec.name] = entry
    return out


def _js_object(entries: dict[str, dict[str, Any]]) -> str:
    parts = []
    for name, entry in entries.items():
        inner = ", ".join(f"{json.dumps(k)}: {v if k != 'kind' else json.dumps(v)}" for k, v in entry.items())
        parts.append(f"{json.dumps(name)}: {{{inner}}}")
    return "{" + ",\n  ".join(parts) + "}"


def build_module(defs: Definitions, form: str, hidden: frozenset[str] = frozenset()) -> str:
    """The JavaScript that registers ``form``'s compiled conditions and formulas, for a user
    from whom the fields and sub-table columns in ``hidden`` are hidden."""
    spec = defs.forms[form]
    server: list[str] = []
    blind = unseen(defs, form, hidden)
    fields = _entries(defs, form, spec.fields, None, server, hidden, blind)
    tables = {
        f.name: _entries(defs, form, f.fields, f.name, server, hidden, blind)
        for f in spec.fields
        if f.is_table and f.name not in hidden
    }
    tables_js = "{" + ", ".join(f"{json.dumps(k)}: {_js_object(v)}" for k, v in tables.items()) + "}"
    return (
        f"// generated from the definitions of {form} ({definitions_version(defs)}); do not edit\n"
        f"(function (L) {{\nLowcodeForms.define({json.dumps(form)}, {{\n"
        f"fields: {_js_object(fields)},\ntables: {tables_js},\nserver: {json.dumps(server)}\n}});\n"
        f"}})(LowcodeExpr);\n"
    )


def module_for(defs: Definitions, form: str, hidden: frozenset[str] = frozenset()) -> Module:
    """The form's module for users who may not see ``hidden``, built once per (compiled
    revision, form, hidden) and kept with the revision; its version tells the modules of
    different revisions and access apart."""

    def build() -> Module:
        version = definitions_version(defs)
        if hidden:
            version = hashlib.sha256(repr((version, sorted(hidden))).encode()).hexdigest()[:12]
        return Module(build_module(defs, form, hidden), version)

    return defs.memo(("js", form, hidden), build)
