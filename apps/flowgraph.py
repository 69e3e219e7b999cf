"""A flow as the web apps show it (the API and the workspace): visible to the caller or not,
a summary, its graph as SVG with an instance's path and current nodes marked."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from engine.context import RunContext
from engine.errors import NotFound
from engine.flows.model import FlowSpec
from engine.runtime import Definitions


def visible_flow(defs: Definitions, ctx: RunContext, name: str) -> FlowSpec:
    """The flow ``name`` when the caller may read its form; else NotFound (no hint it exists)."""
    flow = defs.flows.get(name)
    if flow is None or flow.form not in defs.forms or not defs.policy.can(ctx, flow.form, "read"):
        raise NotFound(f"no flow named '{name}'")
    return flow


def flow_summary(flow: FlowSpec, locale: str) -> dict[str, Any]:
    return {
        "name": flow.name,
        "label": flow.label.get(locale),
        "form": flow.form,
        "start_on": flow.start_on,
        "withdraw": flow.withdraw,
        "status_field": flow.status_field,
        "nodes": [
            {"id": n.id, "kind": n.kind, "label": n.label.get(locale) if n.label else n.id} for n in flow.nodes.values()
        ],
    }


def highlights(instance: Optional[Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """The nodes an instance went through (in order) and those it stands at now."""
    if not instance:
        return [], []
    path = [step if isinstance(step, str) else str(step.get("node")) for step in instance.get("path") or ()]
    current = [str(t["node"]) for t in instance.get("tasks") or () if t.get("status", "open") == "open"]
    current += [n for n in instance.get("current") or () if n not in current]
    return path, current


def graph_svg(flow: FlowSpec, locale: str, instance: Optional[Mapping[str, Any]] = None) -> str:
    """The flow drawn as SVG, with an instance's path and current nodes marked."""
    from engine.flows.draw import svg

    path, current = highlights(instance)
    return svg(flow, locale=locale, path=path, current=current)
