"""Random damage to the OMS pack gives DefinitionErrors (or a pack), never another exception."""

from __future__ import annotations

import random
from pathlib import Path

from engine.definitions import load_pack_files, read_pack_files
from engine.errors import DefinitionErrors

OMS = Path(__file__).resolve().parents[3] / "definitions" / "oms"
VALUES = ["[]", "{}", "null", "5", "true", "x", "'@nope'", "[a, b]", "{a: 1}", "-1", '""', "&a [*a]"]
KEYS = ["name", "type", "form", "fields", "options", "roles", "actions", "rows", "label", "_ref"]


def _mutate(text: str, rnd: random.Random) -> str:
    lines = text.split("\n")
    j = rnd.randrange(len(lines))
    op = rnd.randrange(4)
    if op == 0:
        del lines[j]
    elif op == 1:
        lines.insert(j, lines[j])
    elif op == 2 and ":" in lines[j]:
        k = lines[j].index(":")
        lines[j] = lines[j][: k + 1] + " " + rnd.choice(VALUES)
    else:
        lines[j] = lines[j].replace(rnd.choice(KEYS), rnd.choice(["nme", "fields", "type", "x"]), 1)
    return "\n".join(lines)


def test_damaged_packs_only_ever_raise_definition_errors() -> None:
    files = read_pack_files(OMS)
    data_files = sorted(k for k in files if not k.endswith(".md"))
    rnd = random.Random(20261122)
    for _ in range(60):
        damaged = dict(files)
        rel = rnd.choice(data_files)
        damaged[rel] = _mutate(damaged[rel], rnd)
        try:
            load_pack_files(damaged, "oms")
        except DefinitionErrors as exc:
            assert exc.errors and all(e.position.file.startswith("oms/") for e in exc.errors)
