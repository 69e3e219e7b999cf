"""A form as an older revision defines it, run on today's data.

Whatever is pinned to revision N of a pack (a flow instance, a print, a change request)
keeps running by revision N after N+1 is published: its forms, validation, formulas and
conditions are revision N's, compiled once (:meth:`engine.active.ActiveDefinitions.definitions_at`).
The data is where it is now: records are read through the active revision's tables, and
a field that a later revision dropped comes from the record's journal
(:mod:`engine.store.retired`). Who may do what is decided by the active roles, and a field
hidden by either revision stays hidden. Writes go through the active revision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Protocol

from sqlalchemy.engine import Connection

from engine.context import RunContext
from engine.definitions.model import FormSpec
from engine.errors import NotFound, PermissionDenied
from engine.field_errors import render
from engine.rules.flags import distinct, flag_rows
from engine.runtime import Definitions
from engine.security.fields import blocked_in, without_hidden
from engine.store.access import ConnAccess
from engine.store.records import RecordStore
from engine.store.retired import as_revision
from engine.store.serialize import dump_record

_RANK = {"hidden": 0, "readonly": 1}


class Revisions(Protocol):
    """Where an older revision comes from (:class:`engine.active.ActiveDefinitions` is one):
    the definitions with a pack at a revision, and the store of compiled definitions."""

    def definitions_at(self, pack: str, revision: int) -> Definitions: ...

    def store_of(self, defs: Definitions) -> RecordStore: ...


def refuse_unwritable(spec: FormSpec, blocked: frozenset[str], data: Any, locale: str) -> None:
    """PermissionDenied naming each field and sub-table column of ``data`` in ``blocked``."""
    if not isinstance(data, Mapping):
        return
    denied = {path: [render("readonly", locale)] for path in blocked_in(spec, data, blocked)}
    if denied:
        raise PermissionDenied(f"you may not write {', '.join(sorted(denied))}", denied)


@dataclass(frozen=True)
class AtRevision:
    """One form of one revision, over the active definitions' tables and roles."""

    active: Definitions
    pinned: Definitions
    form: str
    revision: int
    store: RecordStore  # the active store: what the tables hold now

    @classmethod
    def of(cls, revisions: Revisions, active: Definitions, form: str, revision: int) -> "AtRevision":
        """``form`` as revision ``revision`` of its pack defines it; NotFound when that
        revision is not installed or does not define the form."""
        pack = active.pack_of(form)
        if pack is None:
            raise NotFound(f"no form named '{form}'")
        pinned = revisions.definitions_at(pack, revision)
        if form not in pinned.forms:
            raise NotFound.said("not_in_revision", form=form, pack=pack, revision=revision)
        return cls(active, pinned, form, revision, revisions.store_of(active))

    @property
    def spec(self) -> FormSpec:
        return self.pinned.forms[self.form]

    def access(self, ctx: RunContext) -> dict[str, str]:
        """Field access by path (``hidden`` / ``readonly``): the stricter of the two revisions'."""
        out = dict(self.pinned.policy.field_access(ctx, self.form))
        for path, access in self.active.policy.field_access(ctx, self.form).items():
            if _RANK[access] < _RANK.get(out.get(path, ""), 2):
                out[path] = access
        return out

    def hidden(self, ctx: RunContext) -> frozenset[str]:
        return frozenset(p for p, a in self.access(ctx).items() if a == "hidden")

    def read(self, conn: Connection, ctx: RunContext, records: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Records read through the active store, as the revision sees them: its fields (those
        dropped since from the journal) and its live fields computed by its own logic."""
        return self._live(conn, ctx, as_revision(conn, self.spec, self.store.tables, records))

    def _live(self, conn: Connection, ctx: RunContext, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        logic = self.pinned.logic(self.form)
        if logic.live:
            access = ConnAccess(conn, self.store)
            for record in records:
                logic.fill_live(access, ctx, record)
        return records

    def answer(self, conn: Connection, ctx: RunContext, record: Mapping[str, Any]) -> dict[str, Any]:
        """A record read for the revision, as JSON for ``ctx``: hidden fields left out, flags on."""
        flags = flag_rows(self.active, ctx, conn, self.form, [record["id"]])
        return {
            **without_hidden(self.spec, dump_record(self.spec, record), self.hidden(ctx)),
            "flags": distinct(flags.get(record["id"], ())),
        }

    def check(
        self, conn: Connection, ctx: RunContext, record: Mapping[str, Any], changes: Optional[Mapping[str, Any]] = None
    ) -> dict[str, Any]:
        """The record (read for the revision) with ``changes``, validated and computed by the
        revision: every field checked as on a create, then its conditions, formulas and
        checks; ValidationError with every problem. Nothing is written."""
        spec = self.spec
        data = dump_record(spec, record)
        given = {f.name: data[f.name] for f in spec.fields if f.name in data}
        clean = self.pinned.validators[self.form].validate({**given, **(changes or {})}, locale=ctx.locale)
        values = self.pinned.logic(self.form).prepare(ConnAccess(conn, self.store), ctx, clean, record)
        return self._live(conn, ctx, [{**{k: record[k] for k in record if spec.field(k) is None}, **values}])[0]
