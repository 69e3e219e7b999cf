"""A pack may hold decision tables (rules/*.decision.yaml); they are checked when it loads (by
the check ``engine.rules`` registers with the loader, imported here as the platform imports it)."""

from __future__ import annotations

import os
import shutil

import pytest

import engine.rules  # noqa: F401  (registers the decision-table check with the loader)
from engine.definitions import load_pack
from engine.errors import DefinitionErrors

PACK = os.path.join(os.path.dirname(__file__), "..", "..", "..", "definitions", "oms")


def test_oms_pack_has_a_checked_approval_table():
    pack = load_pack(PACK)
    assert "rules/approval_route.decision.yaml" in pack.files


def test_a_broken_table_fails_the_pack_with_its_position(tmp_path):
    target = tmp_path / "oms"
    shutil.copytree(PACK, target)
    path = target / "rules" / "approval_route.decision.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("expr: total", "expr: totl"), encoding="utf-8")
    with pytest.raises(DefinitionErrors) as info:
        load_pack(str(target))
    assert str(info.value).splitlines()[0] == (
        f"{target}/rules/approval_route.decision.yaml:7:26: unknown field 'totl' in sales_order (did you mean 'total'?)"
    )
