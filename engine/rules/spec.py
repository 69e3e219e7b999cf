"""Compiled rules: frozen specs, the trigger model and the dispatch index."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping, Optional

from engine.errors import Position
from engine.expr.compiled import CompiledExpr

#: record event kinds
CREATED, UPDATED, DELETED = "created", "updated", "deleted"
DEFAULT_DEPTH = 8
DEFAULT_RETENTION = dt.timedelta(days=90)


@dataclass(frozen=True)
class Trigger:
    """When a rule runs. Record triggers carry the event kinds they listen to.

    kind: created | updated | deleted | saved (created or updated) | changed (fields) |
    schedule | relative | webhook | flow.
    """

    kind: str
    events: frozenset[str] = frozenset()
    fields: tuple[str, ...] = ()  # changed: any of these fields changed (old != new)
    timer: Optional["TimerTrigger"] = None
    flow: Optional[str] = None  # flow triggers: flow name, node, enter|leave
    node: Optional[str] = None
    direction: Optional[str] = None
    webhook: Optional[str] = None  # webhook triggers: an optional hook name
    channel: Optional[str] = None  # webhook triggers: the channel adapting the payload
    outcome: Optional[str] = None  # flow X ended <outcome> (direction "ended"); None: any outcome

    def describe(self) -> str:
        if self.kind == "changed":
            return f"{', '.join(self.fields)} changed"
        if self.kind == "saved":
            return "created or updated"
        if self.timer is not None:
            return self.timer.describe()
        if self.kind == "flow" and self.direction == "ended":
            return f"flow {self.flow} ended" + (f" {self.outcome}" if self.outcome else "")
        if self.kind == "flow":
            return f"flow {self.flow} {self.direction} {self.node}"
        if self.kind == "webhook":
            return (
                "webhook"
                + (f" {self.webhook}" if self.webhook else "")
                + (f" channel {self.channel}" if self.channel else "")
            )
        return self.kind


@dataclass(frozen=True)
class TimerTrigger:
    """A time-based trigger, for the timer engine (rows indexed by due time, fired by the worker).

    * ``kind == "schedule"``: ``every`` is ``day``/``hour``/``week``/``month``/``monday``..
      ``sunday``/``workday`` with ``at`` (local time of day, the pack's ``timezone``), or
      ``interval`` (``every 2h``).
    * ``kind == "relative"``: fire ``offset`` before (negative) or after (positive) the value
      of the date/datetime field at ``path`` of each record of the rule's form
      (``72h before due_date`` -> offset = -72h, path = ("due_date",)).

    The timer engine computes due times with :meth:`next_after` (schedules) or
    ``record value + offset`` (relative), stores one row per (rule, record or slot), and
    calls :meth:`engine.rules.engine.RuleEngine.fire` when a row is due.
    """

    kind: str
    every: Optional[str] = None
    at: Optional[dt.time] = None
    interval: Optional[dt.timedelta] = None
    offset: Optional[dt.timedelta] = None
    path: tuple[str, ...] = ()
    timezone: str = "Asia/Shanghai"

    def describe(self) -> str:
        if self.kind == "relative":
            assert self.offset is not None
            word = "before" if self.offset < dt.timedelta(0) else "after"
            return f"{_dur(abs(self.offset))} {word} {'.'.join(self.path)}"
        if self.interval is not None:
            return f"every {_dur(self.interval)}"
        return f"every {self.every}" + (f" at {self.at.strftime('%H:%M')}" if self.at else "")

    def next_after(self, when: dt.datetime) -> dt.datetime:
        """The first slot strictly after ``when`` (UTC in, UTC out) for a schedule."""
        from zoneinfo import ZoneInfo

        if self.interval is not None:
            return when + self.interval
        tz = ZoneInfo(self.timezone)
        local = when.astimezone(tz)
        at = self.at or dt.time(0, 0)
        if self.every == "hour":
            cand = local.replace(minute=at.minute, second=0, microsecond=0)
            while cand <= local:
                cand += dt.timedelta(hours=1)
            return cand.astimezone(dt.timezone.utc)
        cand = dt.datetime.combine(local.date(), at, tz)
        for _ in range(0, 400):
            if cand > local and self._matches(cand):
                return cand.astimezone(dt.timezone.utc)
            cand = dt.datetime.combine(cand.date() + dt.timedelta(days=1), at, tz)
        raise AssertionError("no slot within 400 days")  # pragma: no cover

    def _matches(self, day: dt.datetime) -> bool:
        if self.every in (None, "day"):
            return True
        if self.every == "workday":
            return day.weekday() < 5
        if self.every == "week":
            return day.weekday() == 0
        if self.every == "month":
            return day.day == 1
        return WEEKDAYS.index(self.every) == day.weekday()


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PERIODS = ("day", "hour", "week", "month", "workday") + WEEKDAYS


def _dur(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Write:
    """What an action may write, for the static cycle check: records of ``form``, causing
    ``event``; ``fields`` names the fields an update changes (empty: any field)."""

    form: str
    event: str
    fields: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Action:
    """A compiled action: ``run(state) -> summary`` of its effect; ``position`` in the file."""

    kind: str
    position: Position
    run: Callable[[Any], str] = field(compare=False)
    effects: tuple[Write, ...] = ()  # what it may write (for the static cycle check)
    reads: frozenset[str] = frozenset()  # fields of the record it decides on (``decide``: the inputs)
    tags: tuple[str, ...] = ()  # field paths the tags of the flags it sets show (a loop's: its actions')

    @property
    def writes(self) -> tuple[str, ...]:
        """The forms it may write."""
        return tuple(dict.fromkeys(w.form for w in self.effects))


@dataclass(frozen=True)
class RuleSpec:
    """One compiled rule, immutable for its definitions version."""

    pack: str
    form: str
    name: str
    trigger: Trigger
    condition: Optional[CompiledExpr]
    actions: tuple[Action, ...]
    position: Position
    pack_version: str = ""
    revision: int = 0
    short: bool = False

    @property
    def key(self) -> str:
        return f"{self.form}:{self.name}"

    @cached_property
    def reads(self) -> frozenset[str]:
        """The fields of its record whose change may change what the rule does: those its
        trigger names and its condition (and a ``decide`` table) reads. A write within the same
        change that touches none of them does not trigger the rule again on that record."""
        names: set[str] = set(self.trigger.fields)
        for name in self.condition.names if self.condition is not None else ():
            parts = name.split(".")
            names.add(parts[1] if parts[0] in ("old", "this") and len(parts) > 1 else parts[0])
        for action in self.actions:
            names |= action.reads
        return frozenset(names)


@dataclass(frozen=True)
class RuleSet:
    """Every rule of the active definitions, indexed for dispatch.

    ``by_event[(form, kind)]``: rules on any created/updated/deleted event of that kind;
    ``by_field[(form, field)]``: ``<field> changed`` rules; ``watched[form]``: those fields.
    """

    rules: tuple[RuleSpec, ...] = ()
    by_event: Mapping[tuple[str, str], tuple[RuleSpec, ...]] = field(default_factory=dict)
    by_field: Mapping[tuple[str, str], tuple[RuleSpec, ...]] = field(default_factory=dict)
    watched: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    by_flow: Mapping[tuple[str, str, str], tuple[RuleSpec, ...]] = field(default_factory=dict)
    max_depth: int = DEFAULT_DEPTH
    retention: dt.timedelta = DEFAULT_RETENTION

    def named(self, name: str, form: Optional[str] = None) -> Optional[RuleSpec]:
        for rule in self.rules:
            if rule.name == name and (form is None or rule.form == form):
                return rule
        return None

    @property
    def timers(self) -> tuple[RuleSpec, ...]:
        """Rules with a schedule or date-relative trigger (for the timer engine)."""
        return tuple(r for r in self.rules if r.trigger.timer is not None)

    @property
    def webhooks(self) -> tuple[RuleSpec, ...]:
        return tuple(r for r in self.rules if r.trigger.kind == "webhook")


def build_index(
    rules: tuple[RuleSpec, ...], max_depth: int = DEFAULT_DEPTH, retention: dt.timedelta = DEFAULT_RETENTION
) -> RuleSet:
    by_event: dict[tuple[str, str], list[RuleSpec]] = {}
    by_field: dict[tuple[str, str], list[RuleSpec]] = {}
    by_flow: dict[tuple[str, str, str], list[RuleSpec]] = {}
    for rule in rules:
        t = rule.trigger
        if t.kind == "changed":
            for f in t.fields:
                by_field.setdefault((rule.form, f), []).append(rule)
        elif t.kind == "flow":
            by_flow.setdefault((t.flow or "", t.direction or "", t.node or ""), []).append(rule)
        for kind in t.events if t.kind != "changed" else ():
            by_event.setdefault((rule.form, kind), []).append(rule)
    watched: dict[str, list[str]] = {}
    for form, f in by_field:
        watched.setdefault(form, []).append(f)
    return RuleSet(
        rules,
        {k: tuple(v) for k, v in by_event.items()},
        {k: tuple(v) for k, v in by_field.items()},
        {k: tuple(v) for k, v in watched.items()},
        {k: tuple(v) for k, v in by_flow.items()},
        max_depth,
        retention,
    )
