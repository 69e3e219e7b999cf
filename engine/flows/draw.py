"""A flow drawn: SVG (for the workspace and ``run.py flows draw``) and Mermaid text.

Pure functions of a :class:`~engine.flows.model.FlowSpec`. Nodes stand where their ``at`` says;
the others are laid out in layers, left to right, by networkx's topological generations of the
graph without its back edges (a loop back to an earlier node is drawn, but does not push the
layers). A ``path`` of visited node ids and the ``current`` nodes are highlighted, so the
workspace can show where an instance went and where it stands.
"""

from __future__ import annotations

from html import escape
from typing import Collection, Mapping, Sequence

import networkx as nx

from engine.flows.model import EdgeSpec, FlowSpec, NodeSpec

Point = tuple[float, float]
LAYER_GAP, ROW_GAP, MARGIN = 190.0, 110.0, 60.0
BOX_W, BOX_H, DIAMOND, CIRCLE = 130.0, 54.0, 30.0, 22.0
_GATEWAY_MARK = {"exclusive": "×", "inclusive": "○", "parallel": "+"}
_KIND_TAG = {
    "approval": "审批",
    "task": "任务",
    "state": "状态",
    "cc": "抄送",
    "timer": "定时",
    "set": "赋值",
    "action": "动作",
    "subflow": "子流程",
}
_KIND_TAG_EN = {k: k for k in _KIND_TAG}
_STYLE = (
    "text{font-family:sans-serif;font-size:13px}"
    ".node rect,.node circle,.node polygon{fill:#fff;stroke:#555;stroke-width:1.5}"
    ".node.end circle{stroke-width:3.5}"
    ".node.visited rect,.node.visited circle,.node.visited polygon{fill:#e6f4ea;stroke:#2e7d32}"
    ".node.current rect,.node.current circle,.node.current polygon{fill:#fff4e5;stroke:#ef6c00;stroke-width:3}"
    ".edge path{fill:none;stroke:#777;stroke-width:1.5}"
    ".edge.visited path{stroke:#2e7d32;stroke-width:2.5}"
    ".edge text{fill:#333;font-size:12px}"
    ".tag{fill:#888;font-size:11px}"
)


def layout(flow: FlowSpec, locale: str = "zh-CN") -> dict[str, Point]:
    """Where each node's centre stands: its ``at`` when given, else its layer and row (a layer is
    as wide as its widest node, in ``locale``)."""
    g: nx.DiGraph[str] = nx.DiGraph()
    g.add_nodes_from(flow.nodes)
    g.add_edges_from((e.source, e.target) for e in flow.edges if e.source != e.target)
    dag = _without_back_edges(g, flow)
    out: dict[str, Point] = {}
    left = MARGIN
    for ids in nx.topological_generations(dag):
        ordered = sorted(ids, key=list(flow.nodes).index)
        wide = max(2 * _half_width(flow.nodes[n], locale) for n in ordered)
        for row, nid in enumerate(ordered):
            out[nid] = (left + wide / 2, MARGIN + BOX_H / 2 + row * ROW_GAP)
        left += wide + LAYER_GAP - BOX_W
    for nid, node in flow.nodes.items():
        if node.at is not None:
            out[nid] = node.at
    return out


def _without_back_edges(g: nx.DiGraph[str], flow: FlowSpec) -> nx.DiGraph[str]:
    """``g`` without the edges that close a cycle, found by a depth-first walk from the start."""
    dag = g.copy()
    roots = [n for n, spec in flow.nodes.items() if spec.kind == "start"] + list(flow.nodes)
    seen: set[str] = set()
    for root in roots:
        if root in seen:
            continue
        on_stack: set[str] = set()
        stack: list[tuple[str, list[str]]] = [(root, list(g.successors(root)))]
        seen.add(root)
        on_stack.add(root)
        while stack:
            node, todo = stack[-1]
            if not todo:
                stack.pop()
                on_stack.discard(node)
                continue
            nxt = todo.pop(0)
            if nxt in on_stack:
                dag.remove_edge(node, nxt)
            elif nxt not in seen:
                seen.add(nxt)
                on_stack.add(nxt)
                stack.append((nxt, list(g.successors(nxt))))
    return dag


def _label(node: NodeSpec, locale: str) -> str:
    return node.label.get(locale) or node.id


def _edge_label(edge: EdgeSpec, locale: str) -> str:
    if edge.label is not None:
        return edge.label.get(locale)
    if edge.default:
        return "默认" if locale.startswith("zh") else "default"
    return edge.condition_text or edge.action or ""


def _visited_edges(path: Sequence[str]) -> set[tuple[str, str]]:
    return {(a, b) for a, b in zip(path, path[1:])}


def svg(
    flow: FlowSpec,
    *,
    locale: str = "zh-CN",
    path: Sequence[str] = (),
    current: Collection[str] = (),
) -> str:
    """The flow as an SVG document; ``path`` (visited node ids, in order) and ``current`` highlighted."""
    where = layout(flow, locale)
    xs = [p[0] + _half_width(flow.nodes[n], locale) - BOX_W / 2 for n, p in where.items()] or [0.0]
    ys = [p[1] for p in where.values()] or [0.0]
    width = max(xs) + BOX_W / 2 + MARGIN
    height = max(ys) + BOX_H / 2 + MARGIN
    walked = _visited_edges(path)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" class="flow-graph" data-flow="{escape(flow.name)}">',
        f"<title>{escape(flow.label.get(locale) or flow.name)}</title>",
        f"<style>{_STYLE}</style>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#777"/></marker></defs>',
    ]
    for edge in flow.edges:
        parts.append(_svg_edge(flow, edge, where, locale, (edge.source, edge.target) in walked))
    for node in flow.nodes.values():
        state = "current" if node.id in current else "visited" if node.id in path else ""
        parts.append(_svg_node(node, where[node.id], locale, state))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _box_width(node: NodeSpec, locale: str) -> float:
    """A box wide enough for its label (a CJK character is about twice a latin one)."""
    units = sum(2 if ord(ch) > 0x2E80 else 1 for ch in _label(node, locale))
    return max(BOX_W, units * 7.5 + 24)


def _half_width(node: NodeSpec, locale: str) -> float:
    if node.kind in ("start", "end", "timer"):
        return CIRCLE
    if node.kind in _GATEWAY_MARK:
        return DIAMOND
    return _box_width(node, locale) / 2


def _svg_edge(flow: FlowSpec, edge: EdgeSpec, where: Mapping[str, Point], locale: str, visited: bool) -> str:
    (x1, y1), (x2, y2) = where[edge.source], where[edge.target]
    a, b = flow.nodes[edge.source], flow.nodes[edge.target]
    if x2 > x1:  # forward: right side to left side
        sx, sy, tx, ty = x1 + _half_width(a, locale), y1, x2 - _half_width(b, locale), y2
        mid = (sx + tx) / 2
        d = f"M{sx:.0f},{sy:.0f} C{mid:.0f},{sy:.0f} {mid:.0f},{ty:.0f} {tx:.0f},{ty:.0f}"
        lx, ly = mid, (sy + ty) / 2 - 6
    else:  # back (or straight down): round under the nodes
        low = max(y1, y2) + BOX_H / 2 + 24
        sx, tx = x1, x2
        sy, ty = y1 + BOX_H / 2, y2 + BOX_H / 2
        d = f"M{sx:.0f},{sy:.0f} C{sx:.0f},{low:.0f} {tx:.0f},{low:.0f} {tx:.0f},{ty:.0f}"
        lx, ly = (sx + tx) / 2, low - 4
    text = _edge_label(edge, locale)
    cls = "edge visited" if visited else "edge"
    out = (
        f'<g class="{cls}" data-from="{escape(edge.source)}" data-to="{escape(edge.target)}">'
        f'<path d="{d}" marker-end="url(#arrow)"/>'
    )
    if text:
        out += f'<text x="{lx:.0f}" y="{ly:.0f}" text-anchor="middle">{escape(text)}</text>'
    return out + "</g>"


def _svg_node(node: NodeSpec, at: Point, locale: str, state: str) -> str:
    x, y = at
    cls = " ".join(c for c in ("node", node.kind, state) if c)
    head = f'<g class="{cls}" data-node="{escape(node.id)}"><title>{escape(node.id)}</title>'
    label = escape(_label(node, locale))
    if node.kind in ("start", "end", "timer"):
        shape = f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{CIRCLE:.0f}"/>'
        if node.kind == "timer":
            shape += f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{CIRCLE - 5:.0f}"/>'
        text = f'<text x="{x:.0f}" y="{y + CIRCLE + 16:.0f}" text-anchor="middle">{label}</text>'
        return head + shape + text + "</g>"
    if node.kind in _GATEWAY_MARK:
        d = DIAMOND
        points = f"{x:.0f},{y - d:.0f} {x + d:.0f},{y:.0f} {x:.0f},{y + d:.0f} {x - d:.0f},{y:.0f}"
        mark = (
            f'<text x="{x:.0f}" y="{y + 6:.0f}" text-anchor="middle" font-size="20">{_GATEWAY_MARK[node.kind]}</text>'
        )
        text = f'<text x="{x:.0f}" y="{y + d + 16:.0f}" text-anchor="middle">{label}</text>' if node.label.texts else ""
        return head + f'<polygon points="{points}"/>' + mark + text + "</g>"
    rx = 12 if node.kind in ("approval", "task", "state") else 3
    w = _box_width(node, locale)
    tags = _KIND_TAG if locale.startswith("zh") else _KIND_TAG_EN
    tag = tags.get(node.kind, node.kind) + (f" · {node.state}" if node.state else "")
    return (
        head + f'<rect x="{x - w / 2:.0f}" y="{y - BOX_H / 2:.0f}" width="{w:.0f}" height="{BOX_H:.0f}" '
        f'rx="{rx}"/>'
        f'<text class="tag" x="{x:.0f}" y="{y - 8:.0f}" text-anchor="middle">{escape(tag)}</text>'
        f'<text x="{x:.0f}" y="{y + 12:.0f}" text-anchor="middle">{label}</text></g>'
    )


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", " ")


def mermaid(
    flow: FlowSpec,
    *,
    locale: str = "zh-CN",
    path: Sequence[str] = (),
    current: Collection[str] = (),
) -> str:
    """The flow as Mermaid ``flowchart LR`` text (node ids prefixed ``n_``: ``end`` is a keyword there)."""
    lines = ["flowchart LR"]
    for node in flow.nodes.values():
        t = _mermaid_text(_label(node, locale))
        shape = {
            "start": f'(("{t}"))',
            "end": f'((("{t}")))',
            "exclusive": f'{{"{t} ×"}}',
            "inclusive": f'{{"{t} ○"}}',
            "parallel": f'{{"{t} +"}}',
            "timer": f'(["{t}"])',
            "subflow": f'[["{t}"]]',
            "approval": f'("{t}")',
            "task": f'("{t}")',
            "state": f'("{t}")',
        }.get(node.kind, f'["{t}"]')
        lines.append(f"    n_{node.id}{shape}")
    for edge in flow.edges:
        text = _edge_label(edge, locale)
        arrow = f' -->|"{_mermaid_text(text)}"| ' if text else " --> "
        lines.append(f"    n_{edge.source}{arrow}n_{edge.target}")
    walked = [i for i, e in enumerate(flow.edges) if (e.source, e.target) in _visited_edges(path)]
    if path or current:
        lines.append("    classDef visited fill:#e6f4ea,stroke:#2e7d32")
        lines.append("    classDef current fill:#fff4e5,stroke:#ef6c00,stroke-width:3px")
        done = [n for n in dict.fromkeys(path) if n in flow.nodes and n not in current]
        if done:
            lines.append("    class " + ",".join(f"n_{n}" for n in done) + " visited")
        now = [n for n in current if n in flow.nodes]
        if now:
            lines.append("    class " + ",".join(f"n_{n}" for n in now) + " current")
        if walked:
            lines.append("    linkStyle " + ",".join(map(str, walked)) + " stroke:#2e7d32,stroke-width:2.5px")
    return "\n".join(lines) + "\n"
