"""The composition root hands every part typed interfaces: no parameter named for a part
(platform, store, defs, rules, ...) is annotated ``Any``, nothing fakes a platform with
``SimpleNamespace``, and the command line lives in apps/cli/ only."""

from __future__ import annotations

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARTS = {
    "platform",
    "store",
    "defs",
    "definitions",
    "rules",
    "engine",
    "running",
    "records",
    "revisions",
    "db",
    "bus",
    "active",
}


def _sources() -> list[str]:
    found = [os.path.join(ROOT, "run.py")]
    for top in ("engine", "apps"):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            found += [os.path.join(folder, f) for f in files if f.endswith(".py")]
    return sorted(found)


def _is_any(annotation: ast.expr | None) -> bool:
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):  # "Any"
        return annotation.value.strip() in ("Any", "typing.Any", "Optional[Any]")
    if (
        isinstance(annotation, ast.Subscript)
        and isinstance(annotation.value, ast.Name)
        and annotation.value.id == "Optional"
    ):
        return _is_any(annotation.slice)
    return (isinstance(annotation, ast.Name) and annotation.id == "Any") or (
        isinstance(annotation, ast.Attribute) and annotation.attr == "Any"
    )


def test_no_part_is_passed_as_any() -> None:
    found = []
    for path in _sources():
        rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), rel)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            a = node.args
            for arg in a.posonlyargs + a.args + a.kwonlyargs:
                if arg.arg in PARTS and _is_any(arg.annotation):
                    found.append(f"{rel}:{arg.lineno}: {node.name}({arg.arg}: Any)")
    assert found == [], f"{found}: give the part a Protocol of what it uses (see docs/architecture.md)"


def test_the_checker_sees_an_any_part() -> None:
    tree = ast.parse("def f(platform: Any, store: 'Any', defs: Optional[Any], ok: int): ...")
    args = tree.body[0].args.args  # type: ignore[attr-defined]
    assert [_is_any(a.annotation) for a in args] == [True, True, True, False]


def test_no_fake_platform_and_the_command_line_in_one_place() -> None:
    fakes, commands = [], []
    for path in _sources():
        rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        if "SimpleNamespace" in text:
            fakes.append(rel)
        if ("argparse" in text or "add_parser(" in text) and not rel.startswith("apps/cli/"):
            commands.append(rel)
    assert fakes == []
    assert commands == []
