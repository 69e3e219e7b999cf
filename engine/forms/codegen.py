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

from engine.forms.messages import FieldError, render
from engine.forms.types_choice import json_dumper

_EMPTY_TYPES = (str, list, dict)


def generate(rows: Any) -> Callable[..., dict[str, Any]]:
    """The compiled ``run(data, errors, prefix, *, partial, locale, allowed_extra)`` of ``rows``.

    Each field starts with its type's inlined common case (:meth:`FieldType.inline`); only
    what fails it (missing, empty, unusual or wrong) takes the general path below it.
    """
    from engine.forms.fieldtype import FIELD_TYPES, INLINE_BUILTINS

    env: dict[str, Any] = {**INLINE_BUILTINS, "Mapping": Mapping, "FieldError": FieldError, "render": render,
                           "_E": _EMPTY_TYPES, "_MISSING": object(), "NAMES": rows.names, "sorted": sorted,
                           "map": map, "frozenset": frozenset, "ROWS": rows._rows, "KEEP_ID": frozenset({"id"}),
                           "NO_EXTRA": frozenset()}
    out = ["def run(data, errors, prefix, *, partial, locale, allowed_extra=frozenset()):",
           "    return run_p(data, errors, prefix, partial, locale, allowed_extra)",
           "def run_p(data, errors, prefix, partial, locale, allowed_extra):",
           "    if type(data) is not dict and not isinstance(data, Mapping):",
           "        errors.setdefault(prefix.rstrip('.') or '_', []).append(render('not_object', locale))",
           "        return {}",
           "    if not NAMES.issuperset(data):",
           "        for key in sorted(map(str, data.keys() - NAMES - allowed_extra)):",
           "            errors.setdefault(prefix + key, []).append(render('unknown_field', locale))",
           "    out = {}",
           "    get = data.get"]
    for i, (name, parse, required, default, sub, group) in enumerate(rows.plan):
        spec = rows.checks[name].spec
        env[f"P{i}"], env[f"D{i}"], env[f"S{i}"], env[f"G{i}"] = parse, default, sub, group
        key = repr(name)
        out.append(f"    v = get({key}, _MISSING)")
        if sub is not None:
            out += _table(i, key, required)
            continue

        def const(value: Any, _i: int = i) -> str:
            name = f"C{_i}_{sum(k.startswith(f'C{_i}_') for k in env)}"
            env[name] = value
            return name
        fast = None if group is not None else FIELD_TYPES[spec.type].fast_case(spec, const)
        if fast:
            out += [f"    if {fast[0]}:", f"        out[{key}] = {fast[1]}", "    else:"]
        else:
            out += ["    if True:"]
        out += _general(i, key, required, group is not None, spec, env)
    out.append("    return out")
    source = "\n".join(out)
    namespace: dict[str, Any] = dict(env)
    namespace["__builtins__"] = {}
    exec(compile(source, "<row validator>", "exec"), namespace)  # noqa: S102 - our own generated code
    fn = namespace["run"]
    fn.source = source  # type: ignore[attr-defined]
    fn.positional = namespace["run_p"]  # type: ignore[attr-defined]
    return fn  # type: ignore[no-any-return]


def _general(i: int, key: str, required: bool, group: bool, spec: Any, env: dict[str, Any]) -> list[str]:
    """The general path of one field (indented under the fast case's ``else``)."""
    out = ["        if v is _MISSING and not partial:",
           f"            v = D{i}",
           "        if v is _MISSING:",
           "            pass",
           "        elif not v and (v is None or type(v) in _E):"]
    if required:
        out += [f"            errors.setdefault(prefix + {key}, []).append(render('required', locale))"]
    out += [f"            out[{key}] = None"]
    if group:   # a nested object: its fields' errors as name.field
        env[f"J{i}"] = json_dumper(spec)
        return out + ["        else:",
                      "            before = len(errors)",
                      f"            inner = G{i}.run_p(v, errors, prefix + {key} + '.', False, locale, NO_EXTRA)",
                      "            if len(errors) == before:",
                      f"                out[{key}] = J{i}(inner)"]
    return out + ["        else:",
                  "            try:",
                  f"                out[{key}] = P{i}(v)",
                  "            except FieldError as exc:",
                  f"                errors.setdefault(prefix + {key}, []).append(exc.render(locale))"]


def _table(i: int, key: str, required: bool) -> list[str]:
    """A sub-table: each row by its own generated validator, rows numbered from 1."""
    return ["    if type(v) is list and v:",
            f"        sub = S{i}.run_p",
            f"        base = prefix + {key}",
            "        rows_out = []",
            "        n = 0",
            "        for row in v:",
            "            n += 1",
            "            clean = sub(row, errors, f'{base}[{n}].', False, locale, KEEP_ID)",
            "            if type(row) is dict:",
            "                rid = row.get('id')",
            "                if rid is not None:",
            "                    clean['id'] = rid",
            "            rows_out.append(clean)",
            f"        out[{key}] = rows_out",
            "    elif v is not _MISSING or not partial:",
            f"        out[{key}] = ROWS(S{i}, {required!r}, D{i} if v is _MISSING else v, errors, prefix + {key}, locale)"]
