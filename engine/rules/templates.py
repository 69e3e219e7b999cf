"""Message templates of rule actions: ``{field}`` placeholders, checked when the rule compiles.

A placeholder names a field of the record (or its label, ``{库存}``), or of the loop row
(``{line.qty}``); nothing else is interpreted. Shared by the actions (``notify``, ``flag``)
and the set-based ones (``update ... else refuse "..."``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Mapping, Optional

from engine.rules.compiler import PLACEHOLDER as _PLACEHOLDER
from engine.rules.compiler import Loop, RuleCompiler
from engine.rules.said import Said


def render(template: str, values: Mapping[str, Any], loop: Optional[Loop] = None) -> Said:
    """``{field}`` placeholders filled from ``values``; nothing else is interpreted. Each
    filled part names the field it shows (``{line.qty}`` in a loop over ``lines``: ``lines.qty``)."""
    parts: list[tuple[str, Optional[str]]] = []
    last = 0
    for m in _PLACEHOLDER.finditer(template):
        key = m.group(1).strip().replace(".", "__")
        parts += [(template[last : m.start()], None), (_cell(values.get(key)), _path(key, loop))]
        last = m.end()
    parts.append((template[last:], None))
    return Said(parts)


def _path(key: str, loop: Optional[Loop]) -> str:
    """The field path a placeholder's key shows: ``customer``, ``line__qty`` in a loop -> ``lines.qty``."""
    if loop is not None and key.startswith(loop.var + "__"):
        return f"{loop.table}.{key[len(loop.var) + 2 :]}"
    return key.replace("__", ".")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    return str(value)


def label_keys(cc: RuleCompiler, form: str, template: Optional[str], loop: Optional[Loop]) -> dict[str, str]:
    """Placeholder text -> field name (labels such as {库存} resolve to the field)."""
    out: dict[str, str] = {}
    for m in _PLACEHOLDER.finditer(template or ""):
        raw = m.group(1).strip()
        parts = raw.split(".")
        if loop is not None and len(parts) == 2 and parts[0] == loop.var:
            info = loop.scope.resolve(parts[1])
            if info is not None:
                out[raw] = f"{loop.var}__{info.name}"
        elif len(parts) == 1:
            info = cc.scope(form).resolve(parts[0])
            if info is not None:
                out[raw] = info.name
    return out


def template(
    cc: RuleCompiler, form: str, text: Optional[str], position: Any, loop: Optional[Loop]
) -> Callable[[Mapping[str, Any]], str]:
    """The template checked against the form (unknown fields are compile errors), as a
    function of the record's values."""
    cc.template(text, form, position, loop)
    if not text:
        return lambda values: ""
    normal = normalised(cc, form, text, loop)
    return lambda values: render(normal, values, loop)


def normalised(cc: RuleCompiler, form: str, text: str, loop: Optional[Loop]) -> str:
    """A template with its placeholders written as field keys (``{库存}`` -> ``{stock}``)."""
    keys = label_keys(cc, form, text, loop)
    return _PLACEHOLDER.sub(lambda m: "{" + keys.get(m.group(1).strip(), m.group(1).strip()) + "}", text)


def shown(cc: RuleCompiler, form: str, text: Optional[str], loop: Optional[Loop]) -> tuple[str, ...]:
    """The field paths a template's placeholders show (``{line.unit_price}`` -> ``lines.unit_price``)."""
    normal = normalised(cc, form, text or "", loop)
    return tuple(
        dict.fromkeys(_path(m.group(1).strip().replace(".", "__"), loop) for m in _PLACEHOLDER.finditer(normal))
    )
