"""Ours in bench_flows: the flow machine in memory and the FlowEngine through the platform.

A placeholder until the runtime (engine/flows/machine.py, engine/flows/engine.py) and the
flow loader land: ``build`` returns None and ``missing`` says what is not there yet.
"""

from __future__ import annotations

from typing import Any, Optional


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
