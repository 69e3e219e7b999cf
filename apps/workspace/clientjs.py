"""The browser side of a form's conditions and formulas, compiled once per definitions version.

For each form: ``visible_if`` / ``required_if`` / ``readonly_if`` and formulas of the form and
of its sub-tables, through the JavaScript back end (:mod:`engine.expr.jscompile`). Expressions
that need the server (links, other forms, functions without a browser version) are listed
under ``server``; the page asks ``POST /w/<form>/compute`` for them.
"""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any, Optional

from engine.definitions.model import FieldSpec
from engine.expr import compile_expression
from engine.expr.jscompile import NeedsServer, kind, to_js
from engine.expr.scope import Scope
from engine.expr.types import ExprType as T
from engine.runtime import Definitions

KEYS = ("visible_if", "required_if", "readonly_if", "formula")


@dataclass(frozen=True)
class Module:
    text: str
    version: str


def definitions_version(defs: Definitions) -> str:
    """A short tag for the active definitions (part of the module's URL)."""
    versions = sorted((name, scope.version) for name, scope in defs.scopes.items())
    return hashlib.sha256(repr((defs.key, versions)).encode()).hexdigest()[:12]


def expression_of(spec: FieldSpec, key: str) -> Optional[str]:
    """The source of one condition or formula (rollups as their aggregate, lookups written as a path)."""
    if key != "formula":
        return getattr(spec, key, None)
    if spec.formula:
        return spec.formula
    lookup = spec.prop("lookup")
    if isinstance(lookup, str):
        return lookup
    rollup = spec.prop("rollup")
    if isinstance(rollup, str):
        return rollup
    if isinstance(rollup, dict) and rollup.get("of"):
        inner = rollup["of"] + (f" where {rollup['where']}" if rollup.get("where") else "")
        return f"{rollup.get('fn', 'sum')}({inner})"
    return None


def compiled(scope: Scope, spec: FieldSpec, key: str) -> Any:
    """The CompiledExpr of a field's condition or formula (the pack's own compile cache)."""
    source = expression_of(spec, key)
    if source is None:
        return None
    info = scope.fields.get(spec.name)
    expect = T.BOOLEAN if key != "formula" else (info.type if info is not None and info.type != T.ANY else None)
    pos = spec.expr_positions.get(key, spec.position)
    return compile_expression(source, scope, expect=expect, file=pos.file, line=pos.line or 1,
                              column=pos.column or 1)


def _entries(scope: Scope, fields: tuple[FieldSpec, ...], prefix: str,
             server: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for spec in fields:
        entry: dict[str, Any] = {}
        for key in KEYS:
            ce = compiled(scope, spec, key)
            if ce is None:
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


def build_module(defs: Definitions, form: str) -> str:
    """The JavaScript that registers ``form``'s compiled conditions and formulas."""
    spec = defs.forms[form]
    scope = defs.scopes[form]
    server: list[str] = []
    fields = _entries(scope, spec.fields, "", server)
    tables = {}
    for f in spec.fields:
        info = scope.fields.get(f.name)
        if f.fields and info is not None and info.children is not None:
            tables[f.name] = _entries(info.children, f.fields, f.name + ".", server)
    tables_js = "{" + ", ".join(f"{json.dumps(k)}: {_js_object(v)}" for k, v in tables.items()) + "}"
    return (f"// generated from the definitions of {form} ({definitions_version(defs)}); do not edit\n"
            f"(function (L) {{\nLowcodeForms.define({json.dumps(form)}, {{\n"
            f"fields: {_js_object(fields)},\ntables: {tables_js},\nserver: {json.dumps(server)}\n}});\n"
            f"}})(LowcodeExpr);\n")


_cache: dict[tuple[Any, str, str], Module] = {}
_lock = threading.Lock()


def module_for(defs: Definitions, form: str) -> Module:
    """The form's module, built once per (definitions version, form)."""
    key = (defs.key, defs.scopes[form].version, form)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    module = Module(build_module(defs, form), definitions_version(defs))
    with _lock:
        if len(_cache) > 500:
            _cache.clear()
        return _cache.setdefault(key, module)
