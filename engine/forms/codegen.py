"""Generate one Python function per row validator (fastjsonschema style).

The generated ``run`` does exactly what :meth:`RowValidator.interpret` does, with the
common cases inlined: a plain text, a whole number in range, an option given by its value
or label, a yes/no. Anything else calls the field type's own parser (``FieldType.fast``),
so the generated code only decides *when* to call it, never *what* a value means. Only
field names (identifiers checked by the loader) and our own constants reach the source,
and those through ``repr``.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Callable, Mapping

from engine.forms.messages import FieldError, render
from engine.forms.types_basic import Boolean, DecimalNumber, Integer, Text
from engine.forms.types_choice import Select, json_safe

_EMPTY_TYPES = (str, list, dict)


def generate(rows: Any) -> Callable[..., dict[str, Any]]:
    """The compiled ``run(data, errors, prefix, *, partial, locale, allowed_extra)`` of ``rows``."""
    from engine.forms.fieldtype import FIELD_TYPES

    env: dict[str, Any] = {"Mapping": Mapping, "FieldError": FieldError, "render": render, "_E": _EMPTY_TYPES,
                           "_MISSING": object(), "NAMES": rows.names, "json_safe": json_safe, "str": str,
                           "type": type, "dict": dict, "int": int, "bool": bool, "len": len, "sorted": sorted,
                           "map": map, "isinstance": isinstance, "frozenset": frozenset, "list": list,
                           "ROWS": rows._rows, "DEC": Decimal,
                           "KEEP_ID": frozenset({"id"})}
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
        ftype = FIELD_TYPES[spec.type]
        env[f"P{i}"], env[f"D{i}"], env[f"S{i}"], env[f"G{i}"] = parse, default, sub, group
        env[f"SPEC{i}"] = spec
        key = repr(name)
        out += [f"    v = get({key}, _MISSING)",
                "    if v is _MISSING and not partial:",
                f"        v = D{i}",
                "    if v is _MISSING:",
                "        pass"]
        if sub is not None:
            out += ["    elif type(v) is list and v:",
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
                    "    else:",
                    f"        out[{key}] = ROWS(S{i}, {required!r}, v, errors, prefix + {key}, locale)"]
            continue
        out += ["    elif not v and (v is None or type(v) in _E):"]
        if required:
            out += [f"        errors.setdefault(prefix + {key}, []).append(render('required', locale))"]
        out += [f"        out[{key}] = None"]
        if group is not None:
            out += ["    else:",
                    "        before = len(errors)",
                    f"        inner = G{i}.run(v, errors, prefix + {key} + '.', partial=False, locale=locale)",
                    "        if len(errors) == before:",
                    f"            out[{key}] = json_safe(SPEC{i}, inner)"]
            continue
        fast = _inline(i, ftype, spec, env)
        if fast:
            out += [f"    elif {fast[0]}:", f"        out[{key}] = {fast[1]}"]
        out += ["    else:",
                "        try:",
                f"            out[{key}] = P{i}(v)",
                "        except FieldError as exc:",
                f"            errors.setdefault(prefix + {key}, []).append(exc.render(locale))"]
    out.append("    return out")
    source = "\n".join(out)
    namespace: dict[str, Any] = dict(env)
    namespace["__builtins__"] = {}
    exec(compile(source, "<row validator>", "exec"), namespace)  # noqa: S102 - our own generated code
    fn = namespace["run"]
    fn.source = source  # type: ignore[attr-defined]
    fn.positional = namespace["run_p"]  # type: ignore[attr-defined]
    return fn  # type: ignore[no-any-return]


def _inline(i: int, ftype: Any, spec: Any, env: dict[str, Any]) -> tuple[str, str] | None:
    """(condition, value) of an inlined fast path, or None."""
    kind = type(ftype)
    if kind is Text and not spec.prop("pattern"):
        lo, hi = spec.prop("min_length"), spec.prop("max_length")
        cond = "type(v) is str"
        size = []
        if lo is not None:
            size.append(f"{int(lo)} <= len(s)")
        if hi is not None:
            size.append(f"len(s) <= {int(hi)}")
        if size:
            cond += " and ((s := v.strip()) is not None) and " + " and ".join(size)
            return cond, "s"
        return cond, "v.strip()"
    if kind is Integer:
        lo, hi = spec.prop("min"), spec.prop("max")
        cond = "type(v) is int"
        if lo is not None:
            env[f"LO{i}"] = lo
            cond += f" and v >= LO{i}"
        if hi is not None:
            env[f"HI{i}"] = hi
            cond += f" and v <= HI{i}"
        return cond, "v"
    if kind in (Select,) or (issubclass(kind, Select) and kind.parse is Select.parse):
        values = {o.value: o.value for o in spec.options}
        for o in reversed(spec.options):
            for label in o.label.all():
                values.setdefault(label, o.value)
        env[f"OPT{i}"] = values
        return f"type(v) is str and (h := OPT{i}.get(v)) is not None", "h"
    if kind is Boolean:
        return "type(v) is bool", "v"
    if issubclass(kind, DecimalNumber) and kind.parse is DecimalNumber.parse:
        # a plain decimal text with at most ``scale`` places: exact, no rounding needed
        scale = ftype.scale(spec)
        env[f"RX{i}"] = re.compile(r"-?[0-9]{1,20}(?:\.[0-9]{1,%d})?" % scale if scale else r"-?[0-9]{1,20}")
        env[f"Q{i}"] = Decimal(1).scaleb(-scale)
        cond = f"type(v) is str and RX{i}.fullmatch(v) is not None and ((d := DEC(v).quantize(Q{i})) is not None)"
        for bound, op in (("min", ">="), ("max", "<=")):
            if spec.prop(bound) is not None:
                env[f"B{bound}{i}"] = Decimal(str(spec.prop(bound)))
                cond += f" and d {op} B{bound}{i}"
        return cond, "d"
    return None
