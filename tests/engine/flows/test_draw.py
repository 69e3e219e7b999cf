"""Drawing a flow: the layered layout, SVG shapes and highlights, Mermaid text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from engine.definitions import load_pack
from engine.flows.draw import layout, mermaid, svg
from engine.flows.model import FlowSpec
from engine.runtime import compile_definitions
from tests.engine.flows.conftest import OMS, load_with

NS = {"s": "http://www.w3.org/2000/svg"}
LOOP = """
name: loop
label: {zh-CN: 返工循环, en: Rework loop}
form: sales_order
nodes:
  - {id: start, kind: start}
  - {id: x, kind: exclusive}
  - {id: fix, kind: task, label: {zh-CN: "返工 <急>", en: Rework}, assignee: {role: sales}}
  - {id: p, kind: parallel}
  - {id: a, kind: approval, assignee: {role: manager}}
  - {id: b, kind: timer, wait: 2h}
  - {id: j, kind: parallel}
  - {id: end, kind: end}
edges:
  - {from: start, to: x}
  - {from: x, to: fix, if: "total > 100", label: {zh-CN: 太贵, en: too dear}}
  - {from: x, to: p, default: true}
  - {from: fix, to: x}
  - {from: p, to: a}
  - {from: p, to: b}
  - {from: a, to: j}
  - {from: b, to: j}
  - {from: j, to: end}
"""


def loop_flow() -> FlowSpec:
    return compile_definitions([load_with({"loop": LOOP})]).flows["loop"]


def test_layers_follow_the_graph_without_its_back_edges() -> None:
    where = layout(loop_flow())
    x = {n: p[0] for n, p in where.items()}
    assert x["start"] < x["x"] < x["fix"] == x["p"] < x["a"] == x["b"] < x["j"] < x["end"]
    assert where["a"][1] != where["b"][1]  # two rows of one layer


def test_at_is_used_when_given() -> None:
    flow = compile_definitions([load_pack(OMS)]).flows["order_approval"]
    assert layout(flow)["director"] == (360.0, 60.0) and layout(flow)["start"] == (40.0, 200.0)


def test_svg_shapes_labels_and_highlights() -> None:
    text = svg(loop_flow(), path=["start", "x", "p", "a"], current=["a", "b"])
    root = ET.fromstring(text)  # well-formed, the label's "<" escaped
    nodes = {g.get("data-node"): g for g in root.iterfind(".//s:g[@data-node]", NS)}
    assert list(nodes) == ["start", "x", "fix", "p", "a", "b", "j", "end"]
    assert nodes["start"].find("s:circle", NS) is not None and nodes["x"].find("s:polygon", NS) is not None
    assert nodes["fix"].find("s:rect", NS) is not None and len(nodes["b"].findall("s:circle", NS)) == 2
    assert [t.text for t in nodes["fix"].findall("s:text", NS)] == ["任务", "返工 <急>"]
    assert nodes["x"].get("class") == "node exclusive visited" and nodes["a"].get("class") == "node approval current"
    assert nodes["b"].get("class") == "node timer current" and nodes["j"].get("class") == "node parallel"
    edges = {(g.get("data-from"), g.get("data-to")): g for g in root.iterfind(".//s:g[@data-from]", NS)}
    assert len(edges) == 9
    assert edges[("x", "p")].get("class") == "edge visited" and edges[("x", "fix")].get("class") == "edge"
    assert edges[("x", "fix")].findtext("s:text", namespaces=NS) == "太贵"
    assert edges[("x", "p")].findtext("s:text", namespaces=NS) == "默认"
    english = ET.fromstring(svg(loop_flow(), locale="en"))
    assert english.findtext("s:title", namespaces=NS) == "Rework loop"
    assert "too dear" in svg(loop_flow(), locale="en") and "default" in svg(loop_flow(), locale="en")


def test_mermaid_text() -> None:
    assert mermaid(loop_flow(), path=["start", "x", "p"], current=["p"]) == (
        "flowchart LR\n"
        '    n_start(("start"))\n'
        '    n_x{"x ×"}\n'
        '    n_fix("返工 <急>")\n'
        '    n_p{"p +"}\n'
        '    n_a("a")\n'
        '    n_b(["b"])\n'
        '    n_j{"j +"}\n'
        '    n_end((("end")))\n'
        "    n_start --> n_x\n"
        '    n_x -->|"太贵"| n_fix\n'
        '    n_x -->|"默认"| n_p\n'
        "    n_fix --> n_x\n"
        "    n_p --> n_a\n"
        "    n_p --> n_b\n"
        "    n_a --> n_j\n"
        "    n_b --> n_j\n"
        "    n_j --> n_end\n"
        "    classDef visited fill:#e6f4ea,stroke:#2e7d32\n"
        "    classDef current fill:#fff4e5,stroke:#ef6c00,stroke-width:3px\n"
        "    class n_start,n_x visited\n"
        "    class n_p current\n"
        "    linkStyle 0,2 stroke:#2e7d32,stroke-width:2.5px\n"
    )
    assert "classDef" not in mermaid(loop_flow())
