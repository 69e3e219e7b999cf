"""The YAML text of a drafted form, with comments for the person who reviews it.

PyYAML writes no comments, so the text is put together here key by key (each value written
by ``yaml.safe_dump``): a field's notes go above the key they are about (the Excel formula
above ``formula:``) or after its keys (the hints, which are commented-out keys such as
``# unique: true``). The line of each ``formula:`` is kept, so that an error the loader
reports there can be traced back to its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml


@dataclass
class Draft:
    """One field of the draft: its keys in order, comments, and (for a sub-table) its fields."""

    props: dict[str, Any]
    above: dict[str, list[str]] = field(default_factory=dict)  # key -> comment lines above it
    hints: list[tuple[str, str]] = field(default_factory=list)  # (commented-out key: value, why)
    children: list["Draft"] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.props["name"])

    def note(self, key: str, text: str) -> None:
        """A comment line above ``key``."""
        self.above.setdefault(key, []).append(text)


def _value(key: str, value: Any) -> str:
    """``key: value`` on one line (collections in flow style: ``label: {zh-CN: 数量}``)."""
    if isinstance(value, (dict, list)):
        flow = yaml.safe_dump(value, allow_unicode=True, sort_keys=False, default_flow_style=True, width=10**6)
        return f"{key}: {flow.strip()}"
    text = yaml.safe_dump({key: value}, allow_unicode=True, sort_keys=False, default_flow_style=False, width=10**6)
    return text.rstrip("\n")


def _comment(text: str) -> str:
    return "# " + " ".join(text.split())


def dump(header: list[str], top: dict[str, Any], fields: list[Draft]) -> tuple[str, dict[int, Draft]]:
    """(the text, {line number of a ``formula:`` key: its field})."""
    lines = [_comment(h) for h in header]
    for key, value in top.items():
        lines.append(_value(key, value))
    lines.append("fields:")
    formulas: dict[int, Draft] = {}
    for draft in fields:
        _field(draft, "  ", lines, formulas)
    return "\n".join(lines) + "\n", formulas


def _field(draft: Draft, indent: str, lines: list[str], formulas: dict[int, Draft]) -> None:
    first = True
    for key, value in draft.props.items():
        for text in draft.above.get(key, []):
            lines.append(f"{indent}  {_comment(text)}" if not first else f"{indent}{_comment(text)}")
        if key == "formula":
            formulas[len(lines) + 1] = draft
        body = _value(key, value).split("\n")
        lead = f"{indent}- " if first else f"{indent}  "
        lines.append(lead + body[0])
        lines.extend(f"{indent}  {line}" for line in body[1:])
        first = False
    for setting, why in draft.hints:
        lines.append(f"{indent}  # {setting}    {_comment(why)}")
    if draft.children:
        lines.append(f"{indent}  fields:")
        for child in draft.children:
            _field(child, indent + "    ", lines, formulas)
