"""Generate one Python function per row validator (fastjsonschema style).

The generated ``run`` does exactly what :meth:`RowValidator.interpret` does, with each
field type's common case inlined (:meth:`FieldType.inline`: a plain text, a whole number in
range, an option given by its value or label, a yes/no, a plain decimal, an ISO date).
Anything else calls the field type's own parser (``FieldType.fast``). Only field names
(identifiers checked by the loader), the types' own fragments and constants bound by name
reach the source, names through ``repr``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from engine.field_errors import FieldError, render
from engine.forms.group_json import json_dumper

_EMPTY_TYPES = (str, list, dict)


def generate(rows: Any) -> Callable[..., dict[str, Any]]:
    """The compiled ``run(data, errors, prefix, *, partial, locale, allowed_extra)`` of ``rows``.

    Each field starts with its type's inlined common case (:meth:`FieldType.inline`); only
    what fails it (missing, empty, unusual or wrong) takes the general path below it.
    Sub-table rows are checked inline, in a loop, rather than by a call per row; their
    path prefix (``lines[3].``) is only built when a row has an error.
    """
    emit = _Emitter()
    emit.env["NAMES"] = rows.names
    emit.lines += [
        "def run(data, errors, prefix, *, partial, locale, allowed_extra=frozenset()):",
        "    return run_p(data, errors, prefix, partial, locale, allowed_extra)",
        "def run_p(data, errors, prefix, partial, locale, allowed_extra):",
        "    if type(data) is not dict and not isinstance(data, Mapping):",
        "        errors.setdefault(prefix.rstrip('.') or '_', []).append(render('not_object', locale))",
        "        return {}",
        "    if not NAMES.issuperset(data):",
        "        for key in sorted(map(str, data.keys() - NAMES - allowed_extra)):",
        "            errors.setdefault(prefix + key, []).append(render('unknown_field', locale))",
        "    out = {}",
        "    get = data.get",
    ]
    emit.fields(rows, 1, "get", "out", "prefix", "partial")
    emit.lines.append("    return out")
    source = "\n".join(emit.lines)
    namespace: dict[str, Any] = dict(emit.env)
    namespace["__builtins__"] = {}
    exec(compile(source, "<row validator>", "exec"), namespace)  # noqa: S102 - our own generated code
    fn = namespace["run"]
    fn.source = source  # type: ignore[attr-defined]
    fn.positional = namespace["run_p"]  # type: ignore[attr-defined]
    return fn  # type: ignore[no-any-return]


class _Emitter:
    """Source lines and the constants they name (``K<n>``), for one generated validator."""

    def __init__(self) -> None:
        from engine.forms.fieldtype import INLINE_BUILTINS

        self.env: dict[str, Any] = {
            **INLINE_BUILTINS,
            "Mapping": Mapping,
            "FieldError": FieldError,
            "render": render,
            "_E": _EMPTY_TYPES,
            "_MISSING": object(),
            "sorted": sorted,
            "map": map,
            "frozenset": frozenset,
            "KEEP_ID": frozenset({"id"}),
            "NO_EXTRA": frozenset(),
        }
        self.lines: list[str] = []
        self.level = 0

    def const(self, value: Any) -> str:
        name = f"K{len(self.env)}"
        self.env[name] = value
        return name

    def add(self, indent: int, *lines: str) -> None:
        pad = "    " * indent
        self.lines += [pad + line for line in lines]

    def fields(self, rows: Any, ind: int, get: str, out: str, prefix: str, partial: str) -> None:
        """Check every field of ``rows``: values from ``get``, clean values into ``out``.

        ``prefix`` is an expression for the error path prefix, ``partial`` one for partial mode.
        """
        from engine.forms.fieldtype import FIELD_TYPES

        for name, parse, required, default, sub, group in rows.plan:
            spec = rows.checks[name].spec
            key = repr(name)
            at = f"{prefix} + {key}"
            self.add(ind, f"v = {get}({key}, _MISSING)")
            if sub is not None:
                self.table(rows, sub, ind, key, required, default, out, at, partial)
                continue
            fast = None if group is not None else FIELD_TYPES[spec.type].fast_case(spec, self.const)
            body = ind  # the general path: under the fast case's else, when there is one
            if fast:
                self.add(ind, f"if {fast[0]}:", f"    {out}[{key}] = {fast[1]}", "else:")
                body = ind + 1
            self.add(
                body,
                f"if v is _MISSING and not {partial}:",
                f"    v = {self.const(default)}",
                "if v is _MISSING:",
                "    pass",
                "elif not v and (v is None or type(v) in _E):",
            )
            if required:
                self.add(body + 1, f"errors.setdefault({at}, []).append(render('required', locale))")
            self.add(body + 1, f"{out}[{key}] = None")
            if group is not None:  # a nested object: its fields' errors as name.field
                self.add(
                    body,
                    "else:",
                    "    before = len(errors)",
                    f"    inner = {self.const(group)}.run_p(v, errors, {at} + '.', False, locale, NO_EXTRA)",
                    "    if len(errors) == before:",
                    f"        {out}[{key}] = {self.const(json_dumper(spec))}(inner)",
                )
                continue
            self.add(
                body,
                "else:",
                "    try:",
                f"        {out}[{key}] = {self.const(parse)}(v)",
                "    except FieldError as exc:",
                f"        errors.setdefault({at}, []).append(exc.render(locale))",
            )

    def table(
        self, rows: Any, sub: Any, ind: int, key: str, required: bool, default: Any, out: str, at: str, partial: str
    ) -> None:
        """A sub-table: its rows checked in a loop, numbered from 1 as people count them."""
        self.level += 1
        n = self.level
        names = self.const(sub.names)
        row_at = f"(base{n} + '[' + str(n{n}) + ']')"
        self.add(ind, "if type(v) is list and v:")
        self.add(ind + 1, f"base{n} = {at}", f"rows{n} = []", f"n{n} = 0", f"for row{n} in v:")
        self.add(
            ind + 2,
            f"n{n} += 1",
            f"if type(row{n}) is not dict and not isinstance(row{n}, Mapping):",
            f"    errors.setdefault({row_at}, []).append(render('not_object', locale))",
            f"    rows{n}.append({{}})",
            "    continue",
            f"if not {names}.issuperset(row{n}):",
            f"    for key in sorted(map(str, row{n}.keys() - {names} - KEEP_ID)):",
            f"        errors.setdefault({row_at} + '.' + key, []).append(render('unknown_field', locale))",
            f"out{n} = {{}}",
            f"get{n} = row{n}.get",
        )
        self.fields(sub, ind + 2, f"get{n}", f"out{n}", f"{row_at} + '.'", "False")
        self.add(
            ind + 2,
            f"if type(row{n}) is dict:",
            f"    rid = row{n}.get('id')",
            "    if rid is not None:",
            f"        out{n}['id'] = rid",
            f"rows{n}.append(out{n})",
        )
        self.add(ind + 1, f"{out}[{key}] = rows{n}")
        self.add(
            ind,
            f"elif v is not _MISSING or not {partial}:",
            f"    {out}[{key}] = {self.const(rows._rows)}({self.const(sub)}, {required!r}, "
            f"{self.const(default)} if v is _MISSING else v, errors, {at}, locale)",
        )
