"""Auto numbers such as ``SO-202605-00042``, taken inside the caller's transaction.

A pattern mixes literal text with placeholders: ``{YYYY}`` ``{YY}`` ``{MM}`` ``{DD}`` (the
date in the given time zone) and exactly one ``{seq}`` or ``{seq:0N}`` (the counter, zero
padded to N digits). The counter restarts in every period the date placeholders imply:
per day with ``{DD}``, per month with ``{MM}``, per year with only a year, never without
dates. Counters live in ``lc_sequence`` keyed by (name, period).

The number is taken with one ``INSERT ... ON CONFLICT DO UPDATE SET value = value + 1
RETURNING value``; the row lock (PostgreSQL) or the write lock (SQLite's ``BEGIN
IMMEDIATE``) serialises concurrent takers until they commit. A transaction that rolls back
gives its number back, so numbers have no gaps but are only final at commit.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.errors import DefinitionError
from engine.store.dialect import insert_or_add
from engine.store.system import SYSTEM

sequences = sa.Table(
    "lc_sequence",
    SYSTEM,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("period", sa.String(16), primary_key=True),  # "" | "2026" | "2026-05" | "2026-05-17"
    sa.Column("value", sa.BigInteger, nullable=False, default=0),
)

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_SEQ = re.compile(r"seq(?::0([1-9][0-9]?))?$")
_DATES = {"YYYY": "%Y", "YY": "%y", "MM": "%m", "DD": "%d"}
_HELP = "use {YYYY}, {YY}, {MM}, {DD}, {seq} or {seq:0N}"


@dataclass(frozen=True)
class Pattern:
    """A checked pattern: literal and placeholder parts, and the reset period it implies."""

    parts: tuple[tuple[str, str], ...]  # ("text", s) | ("date", strftime code) | ("seq", width)
    period_format: str  # strftime format of the period key, "" = never resets

    def period(self, local: dt.datetime) -> str:
        """The counter's period key for a local date."""
        return local.strftime(self.period_format) if self.period_format else ""

    def format(self, local: dt.datetime, value: int) -> str:
        """The number for counter ``value`` taken at local time ``local``."""
        out = []
        for kind, arg in self.parts:
            if kind == "text":
                out.append(arg)
            elif kind == "date":
                out.append(local.strftime(arg))
            else:
                out.append(str(value).zfill(int(arg)))
        return "".join(out)


def parse_pattern(pattern: str) -> str | None:
    """The problem with ``pattern`` in words, or ``None`` when it is a valid pattern."""
    try:
        compile_pattern(pattern)
    except DefinitionError as exc:
        return exc.message
    return None


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Pattern:
    """Check and split a pattern once; raise :class:`DefinitionError` when it is invalid."""
    parts: list[tuple[str, str]] = []
    used: set[str] = set()
    pos = 0
    for match in _PLACEHOLDER.finditer(pattern):
        _text(parts, pattern, pos, match.start())
        name = match.group(1)
        column = match.start() + 1
        seq = _SEQ.match(name)
        if name in _DATES:
            parts.append(("date", _DATES[name]))
            used.add(name)
        elif seq:
            if "seq" in used:
                raise DefinitionError(f"{{seq}} appears twice in pattern {pattern!r} (column {column})")
            parts.append(("seq", seq.group(1) or "1"))
            used.add("seq")
        else:
            raise DefinitionError(
                f"unknown placeholder {{{name}}} in pattern {pattern!r} (column {column})",
                hint=_HELP,
            )
        pos = match.end()
    _text(parts, pattern, pos, len(pattern))
    if "seq" not in used:
        raise DefinitionError(f"pattern {pattern!r} has no {{seq}}", hint=_HELP)
    has_year = bool(used & {"YYYY", "YY"})
    if "MM" in used and not has_year:
        raise DefinitionError(
            f"pattern {pattern!r} has {{MM}} but no year, so numbers would repeat every year",
            hint="add {YYYY} or {YY}",
        )
    if "DD" in used and "MM" not in used:
        raise DefinitionError(
            f"pattern {pattern!r} has {{DD}} but no {{MM}}, so numbers would repeat every month",
            hint="add {MM}",
        )
    if "DD" in used:
        period = "%Y-%m-%d"
    elif "MM" in used:
        period = "%Y-%m"
    elif has_year:
        period = "%Y"
    else:
        period = ""
    return Pattern(tuple(parts), period)


def _text(parts: list[tuple[str, str]], pattern: str, start: int, end: int) -> None:
    text = pattern[start:end]
    for brace in "{}":
        if brace in text:
            column = start + text.index(brace) + 1
            raise DefinitionError(f"unmatched {brace!r} in pattern {pattern!r} (column {column})", hint=_HELP)
    if text:
        parts.append(("text", text))


def next_number(
    conn: Connection,
    name: str,
    pattern: str,
    now: dt.datetime,
    tz: str = "Asia/Shanghai",
) -> str:
    """Take the next number of sequence ``name`` inside the transaction ``conn`` is in.

    ``now`` (aware; naive is read as UTC) is turned into a date in ``tz``; that date picks
    the period and fills the date placeholders.
    """
    compiled = compile_pattern(pattern)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    local = now.astimezone(ZoneInfo(tz))
    period = compiled.period(local)
    return compiled.format(local, take(conn, name, period))


def take(conn: Connection, name: str, period: str = "") -> int:
    """Increment counter (name, period) and return its new value (1 for a new counter)."""
    stmt = insert_or_add(sequences, conn, ("name", "period"), "value")
    return int(conn.execute(stmt, {"name": name, "period": period}).scalar_one())
