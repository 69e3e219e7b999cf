"""Small helpers shared by the builders: labels, names, frozen mappings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Optional, TypeVar

from engine.definitions.model import Labels

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
V = TypeVar("V")


@dataclass
class Broken:
    """What failed to load, so that references to it are not reported a second time."""

    forms: set[str] = field(default_factory=set)  # forms that failed entirely
    fields: dict[str, set[str]] = field(default_factory=dict)  # form -> fields that failed
    roles: set[str] = field(default_factory=set)  # "*": the whole roles file

    def form(self, name: str) -> bool:
        return name in self.forms

    def field(self, form: str, name: str) -> bool:
        return form in self.forms or name in self.fields.get(form, ())

    def role(self, name: str) -> bool:
        return name in self.roles or "*" in self.roles


def frozen(mapping: Mapping[str, V]) -> Mapping[str, V]:
    """A read-only copy of ``mapping`` (order kept)."""
    return MappingProxyType(dict(mapping))


def to_labels(value: Any, locale: str, default: str = "") -> Labels:
    """A label as written (a text, or texts by language) -> Labels.

    A plain text is taken to be in the pack's ``locale``; ``default`` is what ``get``
    falls back to when no text exists (usually the field or form name).
    """
    if isinstance(value, str):
        return Labels(frozen({locale: value}), default or value)
    if isinstance(value, dict) and value:
        texts = {str(k): str(v) for k, v in value.items()}
        return Labels(frozen(texts), default or next(iter(texts.values())))
    return Labels(frozen({}), default)


def opt_labels(value: Any, locale: str) -> Optional[Labels]:
    """Like :func:`to_labels` but None when the definition gave nothing."""
    return None if value is None else to_labels(value, locale)
