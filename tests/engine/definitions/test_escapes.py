"""Definition files are data: no YAML tag, file or expression may reach Python."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.definitions import load_pack_files, read_pack_files
from engine.errors import DefinitionError, DefinitionErrors

OMS = Path(__file__).resolve().parents[3] / "definitions" / "oms"
EXPR_ESCAPES = Path(__file__).resolve().parents[1] / "expr" / "escapes.txt"

YAML_ESCAPES = [
    "!!python/object/apply:os.system ['echo pwned']",
    "!!python/object/new:subprocess.Popen [['echo', 'pwned']]",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/object:builtins.object {}",
    "!!binary aGVsbG8=",  # allowed by YAML, but not a text: the schema refuses it
]


@pytest.mark.parametrize("value", YAML_ESCAPES)
def test_yaml_tags_never_construct_objects(value: str) -> None:
    files = read_pack_files(OMS)
    files["forms/product.yaml"] = files["forms/product.yaml"].replace(
        "label: {zh-CN: 产品, en: Product}", f"label: {value}"
    )
    with pytest.raises(DefinitionErrors) as info:
        load_pack_files(files, "oms")
    assert all(isinstance(e, DefinitionError) for e in info.value.errors)
    assert info.value.errors[0].position.file == "oms/forms/product.yaml"


def _expr_escapes() -> list[str]:
    if not EXPR_ESCAPES.exists():
        return []
    return [
        line
        for line in EXPR_ESCAPES.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("# ")
    ]


def test_expression_escapes_in_a_pack_are_definition_errors() -> None:
    escapes = _expr_escapes()
    assert escapes, "the shared escape list tests/engine/expr/escapes.txt is missing"
    files = read_pack_files(OMS)
    form = {
        "name": "probe",
        "fields": [{"name": "note", "type": "text"}],
        "checks": [{"name": f"c{i}", "expr": src, "message": "x"} for i, src in enumerate(escapes)],
    }
    files["forms/probe.json"] = json.dumps(form, ensure_ascii=False, indent=1)
    with pytest.raises(DefinitionErrors) as info:
        load_pack_files(files, "oms")
    lines = {e.position.line for e in info.value.errors}
    assert all(e.position.file == "oms/forms/probe.json" for e in info.value.errors)
    assert len(lines) == len(escapes)  # every escape attempt refused, each at its own line
