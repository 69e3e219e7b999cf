"""Ours in bench_flows: the flow machine in memory and the FlowEngine through the platform.

The flow is bench/order_approval.flow.yaml, copied into a throwaway pack (:func:`write_pack`)
beside a form ``bench_order`` (``amount``, ``checked``) and the roles its nodes name, and
compiled the way the platform compiles every pack (the loader and ``compile_definitions``).

A placeholder until the runtime (engine/flows/machine.py, engine/flows/engine.py) and the
flow loader land: ``build`` returns None and ``missing`` says what is not there yet.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Optional

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


class InMemory:
    missing = "engine/flows/machine.py and the flow loader are not merged yet"

    @classmethod
    def build(cls) -> Optional[Any]:
        return None


class Persisted:
    missing = "engine/flows/engine.py (FlowEngine) and engine/inbox.py are not merged yet"

    @classmethod
    def build(cls, work: str) -> Optional[Any]:
        return None
