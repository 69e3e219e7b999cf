"""The import layers of docs/architecture.md hold: the contracts of .importlinter (what CI runs
as ``lint-imports``), and no circle among the engine's modules, listed one by one."""

from __future__ import annotations

import configparser
from pathlib import Path

import grimp
import networkx as nx
import pytest
from importlinter import configuration
from importlinter.application.use_cases import lint_imports

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".importlinter"


def test_the_import_contracts_hold(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    configuration.configure()
    passed = lint_imports(str(CONFIG), cache_dir=None, no_logo=True)
    out = capsys.readouterr().out
    assert passed, out
    assert "Contracts: 4 kept, 0 broken." in out


def test_no_circle_among_engine_modules() -> None:
    graph = grimp.build_graph("engine", cache_dir=None)
    ignored = _ignored("engine-acyclic")
    edges = nx.DiGraph()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            if (importer, imported) not in ignored:
                edges.add_edge(importer, imported)
    circles = sorted(" -> ".join(sorted(c)) for c in nx.strongly_connected_components(edges) if len(c) > 1)
    assert circles == []


def test_the_layers_list_every_top_level_module_of_the_engine() -> None:
    names = {p.stem for p in (ROOT / "engine").glob("*.py") if p.stem != "__init__"}
    names |= {p.parent.name for p in (ROOT / "engine").glob("*/__init__.py")}
    layers = _option("engine-layers", "layers")
    declared = {part.strip().strip("()") for line in layers.splitlines() for part in line.split("|")}
    assert names <= declared, f"give these a layer in .importlinter: {sorted(names - declared)}"


def _option(contract: str, key: str) -> str:
    parser = configparser.ConfigParser(inline_comment_prefixes=None)
    parser.read(CONFIG)
    return parser.get(f"importlinter:contract:{contract}", key)


def _ignored(contract: str) -> set[tuple[str, str]]:
    pairs = set()
    for line in _option(contract, "ignore_imports").splitlines():
        if "->" in line and not line.strip().startswith("#"):
            importer, imported = (part.strip() for part in line.split("->"))
            pairs.add((importer, imported))
    return pairs
