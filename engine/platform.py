"""The composition root (:func:`compose`) and the platform facade the service layer offers.

:func:`compose` builds the parts bottom up (event bus, users, versions, compiled definitions
and their stores, rollups, rules; later flows, reports, prints) and hands each the typed
interfaces of the parts below it. :class:`Platform` is the facade over them that the apps,
the command line and the worker use; no part below gets it. Nothing here is tied to the web.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Optional

from engine.active import ActiveDefinitions
from engine.context import Clock, RunContext
from engine.definitions import load_pack_files
from engine.definitions.loader import read_pack_files
from engine.errors import NotFound
from engine.flows.engine import FlowEngine
from engine.flows.guards import NAME as STATUS_GUARD
from engine.flows.guards import StatusGuard
from engine.flows.parts import Definitions as FlowDefs
from engine.flows.timers import register as register_flow_timers
from engine.forms import FIELD_TYPES
from engine.registry import register_guards
from engine.revisions import DEFAULT_KEPT
from engine.rules.engine import RuleEngine
from engine.runtime import Definitions, compile_definitions
from engine.security import org as org_chart
from engine.security.users import User, Users
from engine.store.db import Database
from engine.store.dependents import Dependents
from engine.store.events import EventBus
from engine.store.records import RecordStore
from engine.store.senders import senders_for
from engine.store.sync import apply_sync, plan_sync
from engine.store.timers import TimerQueue
from engine.versions import PublishResult, VersionStore, write_pack_files

if TYPE_CHECKING:
    from engine.store.worker import Worker


@dataclass(frozen=True)
class Parts:
    """What the composition root builds, bottom up; each part got only what it needs."""

    db: Database
    clock: Clock
    bus: EventBus
    users: Users
    versions: VersionStore
    active: ActiveDefinitions
    rules: RuleEngine
    #: due timers by kind (the rules' ``rule``; the flows' ``flow.timer`` and ``flow.due``)
    timers: TimerQueue
    #: the flow engine: instances, tasks, the inbox (subscribed to the bus after the rules)
    flows: FlowEngine


def compose(
    db: Database, clock: Optional[Clock] = None, reload_seconds: float = 1.0, revisions_kept: int = DEFAULT_KEPT
) -> Parts:
    """The composition root: build the parts of a platform bottom up, handing each the typed
    interfaces of the parts below it (never the platform itself).

    The event bus and its write guards; users and versions (on the clock); the compiled
    definitions and their stores (:class:`ActiveDefinitions`: database, versions, bus); the
    stored aggregates over other forms and the rule engine, both subscribed to the bus and
    both running by the definitions a write under way uses. Later floors (flows, reports,
    prints) are built here too, after the rules.
    """
    clock = clock or Clock()
    bus = EventBus()
    register_guards(bus)  # the lowcode.guards entry points (bus.add_guard: others)
    versions = VersionStore(clock)
    active = ActiveDefinitions(db, versions, bus, reload_seconds, revisions_kept)
    bus.subscribe(Dependents(active))  # stored aggregates over the written form
    rules = RuleEngine(active, db, bus)
    bus.subscribe(rules)
    users, queue = Users(clock), TimerQueue(db)
    flows = FlowEngine(_FlowSource(active), users, rules, org=org_chart)  # heads, delegation
    bus.subscribe(flows)  # start on create; ``start flow`` of rules through rules.flow_starters
    bus.add_guard(StatusGuard(flows.parts), name=STATUS_GUARD)  # a flow's status field: the flow's only
    register_flow_timers(flows, queue)  # flow.timer, flow.due
    db.create_system_tables()
    return Parts(db, clock, bus, users, versions, active, rules, queue, flows)


class _FlowSource:
    """The active definitions as the flow engine sees them (:class:`engine.flows.parts.FlowDefinitions`)."""

    def __init__(self, active: ActiveDefinitions) -> None:
        self.active = active

    def definitions(self) -> Definitions:
        return self.active.definitions()

    def current(self) -> Definitions:
        return self.active.current()

    def definitions_at(self, pack: str, revision: int) -> Definitions:
        return self.active.definitions_at(pack, revision)

    def store_of(self, defs: FlowDefs) -> RecordStore:
        assert isinstance(defs, Definitions)  # the engine only hands back what it got from here
        return self.active.store_of(defs)


class Platform:
    """The service layer's facade over the composed parts: one per process; the apps and the
    command line use it. Holds caches keyed by definition revision and nothing else."""

    def __init__(
        self,
        db: Database,
        clock: Optional[Clock] = None,
        reload_seconds: float = 1.0,
        revisions_kept: int = DEFAULT_KEPT,
    ) -> None:
        parts = compose(db, clock, reload_seconds, revisions_kept)
        self.parts = parts
        self.db, self.clock, self.bus = parts.db, parts.clock, parts.bus
        self.users, self.versions, self.rules = parts.users, parts.versions, parts.rules
        self.active = parts.active
        self.flows = parts.flows
        #: every compiled revision of this process, by key ((pack, revision), ...)
        self.revisions = parts.active.revisions

    # ---- definitions ---------------------------------------------------------------

    def definitions(self) -> Definitions:
        """The active compiled definitions; reloaded when another process published."""
        return self.active.definitions()

    def current(self) -> Definitions:
        """The definitions last loaded, without asking the database whether another process
        published since (what a write under way keeps using until it ends)."""
        return self.active.current()

    def definitions_at(self, pack: str, revision: int) -> Definitions:
        """The definitions with ``pack`` at ``revision`` (the other packs at their active
        revisions), compiled once and shared: for whatever is pinned to that revision."""
        return self.active.definitions_at(pack, revision)

    def store(self) -> RecordStore:
        """The record store of the active definitions."""
        return self.active.store()

    def store_of(self, defs: Definitions) -> RecordStore:
        """The record store of compiled definitions (one per revision, on this platform's bus)."""
        return self.active.store_of(defs)

    def publish(
        self,
        path: str,
        files: Optional[Mapping[str, str]] = None,
        *,
        migrations: Optional[Mapping[str, str]] = None,
        by: Optional[str] = None,
    ) -> PublishResult:
        """Validate a pack, migrate the tables and make it the active version, in one transaction."""
        files = dict(files) if files is not None else read_pack_files(path)
        spec = load_pack_files(files, root=path.rstrip("/"))
        with self.db.begin() as conn:
            active = self.versions.active(conn)
            others = {p: load_pack_files(f, root=f"{p}@{r}") for p, r, f in active if p != spec.name}
            revision, changed = self.versions.record(conn, spec, files, by)
            key = self.versions.active_key(conn)
            defs = (None if changed else self.revisions.find(key)) or compile_definitions(
                [others.get(p, spec) for p, _ in key], key
            )
            plan = plan_sync(conn, defs.tables)
            done = apply_sync(conn, defs.tables, plan, migrations, self._converter(defs))
        # kept only once committed: a publish that failed leaves no revision behind
        self.active.activate(defs, checked=True)
        return PublishResult(spec.name, revision, spec.version, changed, done)

    def _converter(self, defs: Definitions) -> Any:
        def convert(table: str, column: str, value: Any) -> Any:
            name = table[2:]
            form, _, child = name.partition("__")
            spec = defs.forms[form].field(child) if child else defs.forms[form]
            assert spec is not None
            fspec = spec.child(column) if child else spec.field(column)  # type: ignore[union-attr]
            if fspec is None:
                return value
            return FIELD_TYPES[fspec.type].parse(fspec, value)

        return convert

    def export(self, pack: str, path: str, revision: Optional[int] = None) -> list[str]:
        """Write an installed pack version back to a folder; returns the files written."""
        with self.db.connect() as conn:
            files = self.versions.files(conn, pack, revision)
        write_pack_files(files, path)
        return sorted(files)

    # ---- users and contexts ----------------------------------------------------------

    def context(self, user: User, locale: Optional[str] = None) -> RunContext:
        defs = self.definitions()
        superuser = any(defs.roles[r].superuser for r in user.roles if r in defs.roles)
        return self.users.context(
            user, self.clock, superuser=superuser, timezone=defs.timezone, locale=locale or defs.locale
        )

    def system_context(self) -> RunContext:
        defs = self.definitions()
        return RunContext(
            username="system",
            roles=frozenset({"system"}),
            clock=self.clock,
            superuser=True,
            timezone=defs.timezone,
            locale=defs.locale,
        )

    def user_context(self, username: str) -> RunContext:
        with self.db.connect() as conn:
            user = self.users.by_name(conn, username)
        if user is None:
            raise NotFound(f"no user '{username}'")
        return self.context(user)

    def login_attempts(self, username: Optional[str] = None, limit: int = 50) -> list[dict[str, Any]]:
        """The login audit, newest first (of one user name, as typed, when given)."""
        from engine.security.throttle import attempts

        with self.db.connect() as conn:
            return attempts(conn, username=username, limit=limit)

    def unlock(self, username: str) -> int:
        """Clear a user name's failed logins and lock; how many counters were cleared."""
        from engine.security.throttle import unlock

        with self.db.begin() as conn:
            return unlock(conn, username)

    # ---- the worker ------------------------------------------------------------------

    def worker(self) -> "Worker":
        """The outbox worker of this platform: the channels' senders, and periodic hooks that
        prune old rule runs (the pack's ``keep runs``) and fire due schedules and timers."""
        from engine.rules.log import pruner
        from engine.rules.timers_fire import timer_hook
        from engine.store.worker import Worker

        worker = Worker(self.db, senders_for(), clock=self.clock)
        worker.periodic.append(pruner(self))
        worker.periodic.append(timer_hook(self, self.parts.timers))
        return worker
