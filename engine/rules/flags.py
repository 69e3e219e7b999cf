"""The flags rules put on records (``flag red "..."``, table ``lc_flag``), as a reader may see them.

A tag is text the rule filled from the record's fields (``"{margin} below target"``): when the
tag may show a field hidden from the reader (the flag action's template names one, by field
or sub-table column, or its rule is no longer defined), the reader gets the flag without its
tag, as the field permissions say. A record's answer (API) carries its flags once per rule,
colour and tag, with the latest time (a rule that flags a record on every change does not
pile up copies); the raw rows are there for pages that show them their own way.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from engine.context import RunContext
from engine.rules.log import flags_for
from engine.rules.parts import Compiled
from engine.security.fields import reads_hidden


def flag_rows(
    defs: Compiled, ctx: RunContext, conn: Any, form: str, ids: Iterable[int]
) -> dict[int, list[dict[str, Any]]]:
    """``{record id: [{"colour", "tag", "rule", "at"}, ...]}`` oldest first, for records ``ctx``
    may read (the caller checked that); records without flags are left out."""
    hidden = defs.policy.hidden(ctx, form)
    withheld: dict[Optional[str], bool] = {}
    out: dict[int, list[dict[str, Any]]] = {}
    for record_id, rows in flags_for(conn, form, ids).items():
        for row in rows:
            rule = row["rule"]
            if rule not in withheld:
                withheld[rule] = bool(hidden) and tag_may_show(defs, form, rule, hidden)
            out.setdefault(record_id, []).append(
                {"colour": row["colour"], "tag": None if withheld[rule] else row["tag"], "rule": rule, "at": row["at"]}
            )
    return out


def tag_may_show(defs: Compiled, form: str, rule: Optional[str], hidden: frozenset[str]) -> bool:
    """Whether the tags of the flags ``rule`` sets may show a value of a field in ``hidden``:
    its template names one, or the rule is not in the active definitions (fail closed)."""
    found = defs.rules.named(rule, form) if defs.rules is not None and rule else None
    if found is None:
        return True
    return any(reads_hidden(path, hidden) for action in found.actions for path in action.tags)


def distinct(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """A record's flags as its answer carries them: one per rule, colour and tag, in the order
    first set, ``at`` the latest time (ISO 8601)."""
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row["rule"], row["colour"], row["tag"])
        found.setdefault(key, {"colour": row["colour"], "tag": row["tag"], "rule": row["rule"]})["at"] = row[
            "at"
        ].isoformat()
    return list(found.values())
