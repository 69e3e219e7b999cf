"""The contenders of bench_flows beside ours: SpiffWorkflow (a BPMN engine) and the dict limit.

Each contender runs the bench's order approval (check → amount > 50,000: director approval,
else manager approval → finance confirm → end) and offers the same four things:

* ``start(amount)``: a new instance run up to its first human task (it then waits);
* ``act(instance)``: the waiting human task completed (approved); returns the task's node, or
  None when nothing was waiting (the instance has ended);
* ``serialize(instance)``: the bytes that would be stored for it;
* ``persisted(amounts, path)``: every instance to completion, the case written to an SQLite
  file after each step (one commit per step); returns each instance's path.

The path of an instance is the list of human nodes the driver completed, in order
(``["director", "finance"]``): the contenders must agree on it for every instance.
Both persist with the standard library's ``sqlite3`` on a WAL file with
``synchronous=NORMAL``, the platform's settings (engine/store/db.py).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Callable, Optional

BPMN = Path(__file__).resolve().parent / "order_approval.bpmn"
THRESHOLD = 50_000

Path_ = list[str]


def open_sqlite(path: str) -> sqlite3.Connection:
    """An SQLite file with the platform's pragmas and one table of cases."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS flow_case (id INTEGER PRIMARY KEY, amount INTEGER, state TEXT NOT NULL)")
    return db


def run_persisted(
    amounts: list[int],
    path: str,
    start: Callable[[int], Any],
    act: Callable[[Any], Optional[str]],
    dump: Callable[[Any], str],
    load: Optional[Callable[[str], Any]] = None,
) -> list[Path_]:
    """Every instance to completion, its case written after each step, one commit per step.

    With ``load``, each step after the first reads the case back from the table and
    deserializes it first (as a server handling one request per step would); without it the
    live object is kept between steps and only written.
    """
    db = open_sqlite(path)
    out: list[Path_] = []
    try:
        for amount in amounts:
            case = start(amount)
            db.execute("BEGIN")
            case_id = db.execute("INSERT INTO flow_case (amount, state) VALUES (?, ?)", (amount, dump(case))).lastrowid
            db.execute("COMMIT")
            walked: Path_ = []
            while True:
                if load is not None:
                    (text,) = db.execute("SELECT state FROM flow_case WHERE id = ?", (case_id,)).fetchone()
                    case = load(text)
                node = act(case)
                if node is None:
                    break
                walked.append(node)
                db.execute("BEGIN")
                db.execute("UPDATE flow_case SET state = ? WHERE id = ?", (dump(case), case_id))
                db.execute("COMMIT")
            out.append(walked)
    finally:
        db.close()
    return out


def persist_waiting(amounts: list[int], path: str, start: Callable[[int], Any], dump: Callable[[Any], str]) -> None:
    """Every instance started and written once, waiting at its first human task."""
    db = open_sqlite(path)
    try:
        for amount in amounts:
            case = start(amount)
            db.execute("BEGIN")
            db.execute("INSERT INTO flow_case (amount, state) VALUES (?, ?)", (amount, dump(case)))
            db.execute("COMMIT")
    finally:
        db.close()


# ---- SpiffWorkflow ----------------------------------------------------------------------------


class Spiff:
    """SpiffWorkflow 3 over bench/order_approval.bpmn: its BPMN parser (the spiff flavour),
    ``BpmnWorkflow`` with its Python script engine (the gateway condition and the check
    script), user tasks completed programmatically, and its JSON serializer."""

    name = "SpiffWorkflow"

    def __init__(self) -> None:
        from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
        from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
        from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
        from SpiffWorkflow.util.task import TaskState

        parser = SpiffBpmnParser()
        parser.add_bpmn_file(str(BPMN))
        self.spec = parser.get_spec("order_approval")
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        self._workflow = BpmnWorkflow
        self._ready = TaskState.READY

    @staticmethod
    def version() -> str:
        from importlib.metadata import version

        return version("SpiffWorkflow")

    def start(self, amount: int) -> Any:
        wf = self._workflow(self.spec)
        wf.get_next_task(state=self._ready).data["amount"] = amount
        wf.do_engine_steps()
        return wf

    def act(self, wf: Any) -> Optional[str]:
        task = wf.get_next_task(state=self._ready, manual=True)
        if task is None:
            return None
        task.run()
        wf.do_engine_steps()
        return str(task.task_spec.name)

    def dump(self, wf: Any) -> str:
        return str(self.serializer.serialize_json(wf))

    def load(self, text: str) -> Any:
        return self.serializer.deserialize_json(text)

    def serialize(self, wf: Any) -> bytes:
        return self.dump(wf).encode()

    def completed(self, wf: Any) -> bool:
        return bool(wf.is_completed())

    def persisted(self, amounts: list[int], path: str, reload: bool = False) -> list[Path_]:
        return run_persisted(amounts, path, self.start, self.act, self.dump, self.load if reload else None)

    def waiting(self, amounts: list[int], path: str) -> None:
        persist_waiting(amounts, path, self.start, self.dump)


# ---- the limit: a hand-written dict state machine ---------------------------------------------

#: node -> (kind, what): "auto" runs ``what(data)`` and goes on; "route" picks the next node
#: by ``what(data)``; "human" waits, then goes to ``what``; "end" ends.
GRAPH: dict[str, tuple[str, Any]] = {
    "start": ("auto", ("check", None)),
    "check": ("auto", ("route", lambda d: d.__setitem__("checked", d["amount"] > 0))),
    "route": ("route", lambda d: "director" if d["amount"] > THRESHOLD else "manager"),
    "director": ("human", "finance"),
    "manager": ("human", "finance"),
    "finance": ("human", "end"),
    "end": ("end", None),
}


class DictMachine:
    """The limit: the instance is a dict ``{"node": ..., "data": {...}}`` moved over ``GRAPH``."""

    name = "dict state machine"

    @staticmethod
    def _run(inst: dict[str, Any], node: str) -> dict[str, Any]:
        data = inst["data"]
        while True:
            kind, what = GRAPH[node]
            if kind == "auto":
                node, fn = what
                if fn is not None:
                    fn(data)
            elif kind == "route":
                node = what(data)
            else:
                inst["node"] = node
                return inst

    def start(self, amount: int) -> dict[str, Any]:
        return self._run({"node": "start", "data": {"amount": amount}}, "start")

    def act(self, inst: dict[str, Any]) -> Optional[str]:
        node = inst["node"]
        kind, after = GRAPH[node]
        if kind != "human":
            return None
        self._run(inst, after)
        return node

    def dump(self, inst: dict[str, Any]) -> str:
        return json.dumps(inst, separators=(",", ":"))

    def load(self, text: str) -> dict[str, Any]:
        return json.loads(text)  # type: ignore[no-any-return]

    def serialize(self, inst: dict[str, Any]) -> bytes:
        return self.dump(inst).encode()

    def completed(self, inst: dict[str, Any]) -> bool:
        return bool(inst["node"] == "end")

    def persisted(self, amounts: list[int], path: str, reload: bool = False) -> list[Path_]:
        return run_persisted(amounts, path, self.start, self.act, self.dump, self.load if reload else None)

    def waiting(self, amounts: list[int], path: str) -> None:
        persist_waiting(amounts, path, self.start, self.dump)
