"""Action summaries that show field values, read back without what is hidden from the reader.

An action's summary (``set cost = 72.00, status = 'approved'``, a notification's text) is
logged once but read by users with different field permissions. A :class:`Said` is the
summary's text made of parts, each naming the field (``cost``) or sub-table column
(``lines.unit_price``) whose value it shows; the log keeps the parts beside the text, and
:func:`for_reader` tells each reader the summary without the values hidden from them.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from engine.security.fields import reads_hidden

Part = tuple[str, Optional[str]]  # (text, the field path whose value it shows, or None)


class Said(str):
    """A summary: its full text, with ``parts`` (``sep`` joins adjacent parts that show a value)."""

    parts: tuple[Part, ...]
    sep: str

    def __new__(cls, parts: Iterable[Part], sep: str = "") -> "Said":
        parts = tuple(parts)
        self = super().__new__(cls, told(parts, sep))
        self.parts, self.sep = parts, sep
        return self

    @property
    def shows(self) -> bool:
        """True when some part shows a field's value."""
        return any(path is not None for _, path in self.parts)

    def around(self, before: str, after: str = "") -> "Said":
        """This summary inside a longer one (``notified ann: <text>``)."""
        return Said([(before, None), *self.parts, (after, None)], self.sep)


def told(parts: Iterable[Part], sep: str, hidden: frozenset[str] = frozenset()) -> str:
    """The text of ``parts`` without those that show a value in ``hidden``."""
    out: list[str] = []
    values: list[str] = []
    for text, path in parts:
        if path is None:
            if values:
                out.append(sep.join(values))
                values = []
            out.append(text)
        elif not reads_hidden(path, hidden):
            values.append(text)
    if values:
        out.append(sep.join(values))
    return "".join(out)


def entry(summary: str) -> dict[str, Any]:
    """The log entry's keys for a summary: the text, and its parts when it shows values."""
    if isinstance(summary, Said) and summary.shows:
        return {"summary": str(summary), "parts": [list(p) for p in summary.parts], "sep": summary.sep}
    return {"summary": str(summary)}


def for_reader(actions: Any, hidden: frozenset[str]) -> Any:
    """A run's logged actions as a reader sees them: each summary without the values of the
    fields and columns in ``hidden`` (the rule's form's), the parts themselves left out."""
    if not isinstance(actions, list):
        return actions
    out = []
    for item in actions:
        if isinstance(item, Mapping) and "parts" in item:
            parts = [(str(text), path) for text, path in item["parts"]]
            sep = str(item.get("sep") or "")
            item = {k: v for k, v in item.items() if k not in ("parts", "sep")}
            item["summary"] = told(parts, sep, hidden)
        out.append(item)
    return out
