"""Ours in bench_flows: the flow machine in memory and the FlowEngine through the platform.

The flow is bench/order_approval.flow.yaml, copied into a throwaway pack (:func:`write_pack`)
beside a form ``bench_order`` (``amount``, ``checked``) and the roles its nodes name, and
compiled the way the platform compiles every pack (the loader and ``compile_definitions``).

A placeholder until the runtime (engine/flows/machine.py, engine/flows/engine.py) and the
flow loader land: ``build`` returns None and ``missing`` says what is not there yet.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional

HERE = Path(__file__).resolve().parent
FLOW = HERE / "order_approval.flow.yaml"
PACK = "benchflows"

PACK_YAML = """\
name: benchflows
version: "1.0.0"
label: {zh-CN: 流程基准, en: Flow bench}
depends: []
"""

FORM_YAML = """\
name: bench_order
label: {zh-CN: 基准订单, en: Bench order}
fields:
  - {name: amount, type: integer, label: {zh-CN: 金额, en: Amount}, required: true}
  - {name: checked, type: boolean, label: {zh-CN: 已检查, en: Checked}}
"""

ROLES_YAML = """\
roles:
  admin:
    label: {zh-CN: 管理员, en: Administrator}
    superuser: true
""" + "".join(
    f"""\
  {role}:
    label: {{zh-CN: {zh}, en: {en}}}
    forms:
      bench_order:
        actions: [read, update, approve]
"""
    for role, zh, en in (
        ("director", "总监", "Director"),
        ("manager", "经理", "Manager"),
        ("finance", "财务", "Finance"),
    )
)

#: the tables the flow engine writes (their pages per instance: bench_flows' on-disk size)
FLOW_TABLES = ("lc_flow_instance", "lc_flow_task", "lc_flow_event")

#: who approves each human node of the flow (a user with the node's role)
APPROVERS = {"director": "director1", "manager": "manager1", "finance": "finance1"}


def write_pack(root: str) -> str:
    """The bench pack under ``root``; returns its folder."""
    pack = Path(root) / PACK
    (pack / "forms").mkdir(parents=True, exist_ok=True)
    (pack / "flows").mkdir(exist_ok=True)
    (pack / "pack.yaml").write_text(PACK_YAML, encoding="utf-8")
    (pack / "roles.yaml").write_text(ROLES_YAML, encoding="utf-8")
    (pack / "forms" / "bench_order.yaml").write_text(FORM_YAML, encoding="utf-8")
    shutil.copy(FLOW, pack / "flows" / "order_approval.yaml")
    return str(pack)


def _open_task_query() -> Any:
    """The open task of a record's running instance: (task id, node)."""
    import sqlalchemy as sa

    from engine.flows.tables import instances, tasks

    i, t = instances.c, tasks.c
    return (
        sa.select(t.id, t.node)
        .join(instances, i.id == t.instance_id)
        .where(i.form == sa.bindparam("form"), i.record_id == sa.bindparam("record"), t.status == "open")
        .order_by(t.id)
        .limit(1)
    )


def load_flow(root: str) -> tuple[Any, str]:
    """The compiled order approval: from the YAML through the pack loader and
    ``compile_definitions``; (spec, how it was built)."""
    from engine.definitions import load_pack_files
    from engine.definitions.loader import read_pack_files
    from engine.runtime import compile_definitions

    pack = write_pack(root)
    defs = compile_definitions([load_pack_files(read_pack_files(pack), root=pack)], ((PACK, 1),))
    flows = getattr(defs, "flows", None)
    if flows is not None:
        return flows["order_approval"], "loaded from bench/order_approval.flow.yaml"
    return _by_hand(defs), "built by hand (Definitions has no flows yet: the loader is not merged)"


def _by_hand(defs: Any) -> Any:
    """The FlowSpec of the YAML, built directly (only while the loader is not merged)."""
    from types import MappingProxyType

    from engine.definitions.model import Labels
    from engine.errors import Position
    from engine.expr import compile_expression
    from engine.flows.model import Assignee, EdgeSpec, FlowSpec, NodeSpec

    scope = defs.scopes["bench_order"]
    here = Position()

    def node(nid: str, kind: str, **kw: Any) -> NodeSpec:
        return NodeSpec(id=nid, kind=kind, label=Labels(default=nid), position=here, **kw)  # type: ignore[arg-type]

    def edge(a: str, b: str, cond: Optional[str] = None, default: bool = False) -> EdgeSpec:
        c = compile_expression(cond, scope) if cond else None
        return EdgeSpec(a, b, here, condition=c, condition_text=cond, default=default)

    nodes = [
        node("start", "start"),
        node("check", "set", set=MappingProxyType({"checked": compile_expression("amount > 0", scope)})),
        node("route", "exclusive"),
        node("director", "approval", assignee=Assignee(role="director")),
        node("manager", "approval", assignee=Assignee(role="manager")),
        node("finance", "task", assignee=Assignee(role="finance")),
        node("end", "end"),
    ]
    edges = [
        edge("start", "check"),
        edge("check", "route"),
        edge("route", "director", "amount > 50000"),
        edge("route", "manager", default=True),
        edge("director", "finance"),
        edge("manager", "finance"),
        edge("finance", "end"),
    ]
    return FlowSpec(
        "order_approval",
        Labels(default="order_approval"),
        "bench_order",
        "flows/order_approval.yaml",
        here,
        nodes=MappingProxyType({n.id: n for n in nodes}),
        edges=tuple(edges),
    )


class InMemory:
    """The pure machine (engine/flows/machine.py): an instance is ``[state, record, status]``,
    the machine's JSON-able state and the record's values (its ``set`` effects applied, as the
    engine writes them to the record)."""

    name = "ours (machine)"
    missing = ""

    def __init__(self, spec: Any, how: str) -> None:
        from engine.context import RunContext
        from engine.flows.effects import SetFields
        from engine.flows.machine import machine_of

        self.machine = machine_of(spec)
        self.how = how
        self.ctx = RunContext(user_id=1)
        self.kinds = {n: s.kind for n, s in spec.nodes.items()}
        self._set = SetFields

    @classmethod
    def build(cls) -> Optional["InMemory"]:
        try:
            import engine.flows.machine  # noqa: F401
        except ImportError as exc:
            cls.missing = f"engine/flows/machine.py is not there ({exc})"
            return None
        with tempfile.TemporaryDirectory() as root:
            spec, how = load_flow(root)
        return cls(spec, how)

    def _apply(self, inst: list[Any], step: Any) -> None:
        inst[0] = step.state
        for e in step.effects:
            if type(e) is self._set:
                inst[1].update(e.values)
        if step.status is not None:
            inst[2] = step.status

    def start(self, amount: int) -> list[Any]:
        record = {"amount": amount}
        inst: list[Any] = [None, record, None]
        self._apply(inst, self.machine.start(record, self.ctx))
        return inst

    def act(self, inst: list[Any]) -> Optional[str]:
        waiting = inst[0]["w"]
        if not waiting:
            return None
        node = next(iter(waiting))
        m = self.machine
        if self.kinds[node] == "approval":
            step = m.approve(inst[0], node, inst[1], self.ctx)
        else:
            step = m.complete(inst[0], node, inst[1], self.ctx)
        self._apply(inst, step)
        return node

    def serialize(self, inst: list[Any]) -> bytes:
        """What the engine keeps of the instance's progress (``lc_flow_instance.state``)."""
        return json.dumps(inst[0], separators=(",", ":")).encode()

    def completed(self, inst: list[Any]) -> bool:
        return bool(inst[2] == "completed")


class Persisted:
    """The platform on an SQLite file: the bench pack published, one user per approving role,
    the records created beforehand (untimed, one ``create_many``); timed: each instance
    started (``Inbox.start``) and its open task approved by the user of its node's role
    (``Inbox.approve``) until it ends, every step one transaction of the platform."""

    name = "ours (FlowEngine on SQLite)"
    missing = ""

    def __init__(self, work: str) -> None:
        self.pack = write_pack(work)
        spec, _ = load_flow(str(Path(work) / "spec"))
        self.kinds = {n: s.kind for n, s in spec.nodes.items()}
        self.platforms: list[Any] = []

    @classmethod
    def build(cls, work: str) -> Optional["Persisted"]:
        try:
            import engine.flows.engine  # noqa: F401
            import engine.inbox  # noqa: F401
        except ImportError as exc:
            cls.missing = f"the FlowEngine or the Inbox is not there ({exc})"
            return None
        return cls(work)

    def _platform(self, values: list[int], path: str) -> tuple[Any, Any, Any, dict[str, Any], list[int]]:
        """A platform on a new SQLite file with the pack, the users and one record per amount:
        (platform, inbox, the admin's context, the approvers' contexts by node, record ids)."""
        from engine.inbox import Inbox
        from engine.platform import Platform
        from engine.store.db import Database
        from engine.store.writer import Writer

        platform = Platform(Database("sqlite:///" + path))
        self.platforms.append(platform)
        platform.publish(self.pack)
        with platform.db.begin() as conn:
            platform.users.add(conn, "admin", None, ["admin"])
            for role, user in APPROVERS.items():
                platform.users.add(conn, user, None, [role])
        admin = platform.user_context("admin")
        users = {node: platform.user_context(user) for node, user in APPROVERS.items()}
        with platform.db.begin() as conn:
            created = platform.store().create_many(
                conn, admin, "bench_order", [{"amount": a} for a in values], writer=Writer.importer(admin)
            )
        return platform, Inbox(platform), admin, users, [r["id"] for r in created]

    def waiting(self, values: list[int], path: str) -> None:
        """Every instance started (waiting at its first human task)."""
        _, inbox, admin, _, ids = self._platform(values, path)
        for record_id in ids:
            inbox.start(admin, "bench_order", record_id, "order_approval")

    def prepare(self, values: list[int], path: str) -> Callable[[], list[list[str]]]:
        platform, inbox, admin, users, ids = self._platform(values, path)
        kinds = dict(self.kinds)

        def run() -> list[list[str]]:
            out = []
            for record_id in ids:
                inst = inbox.start(admin, "bench_order", record_id, "order_approval")
                walked = []
                while True:
                    todo = [t for t in inst["tasks"] if t["status"] == "open"]
                    if not todo:
                        break
                    node = todo[0]["node"]
                    action = "approve" if kinds[node] == "approval" else "submit"
                    inst = inbox.act(users[node], todo[0]["id"], action)["instance"]
                    walked.append(node)
                if inst["status"] != "completed":
                    raise SystemExit(f"ours: instance {inst['id']} ended {inst['status']}: {walked}")
                out.append(walked)
            return out

        return run

    def close(self) -> None:
        for p in self.platforms:
            p.db.dispose()
