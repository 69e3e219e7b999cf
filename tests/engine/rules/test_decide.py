"""``decide <table>``: compile-time errors with positions (against the OMS pack)."""

from __future__ import annotations

import os

import pytest

from engine.definitions.loader import load_pack_files, read_pack_files
from engine.errors import DefinitionErrors
from engine.runtime import compile_definitions

OMS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "definitions", "oms")
TABLE = read_pack_files(OMS)["rules/approval_route.decision.yaml"]


def _errors(rules: str, **files: str) -> list[str]:
    pack = read_pack_files(OMS)
    pack["rules/orders.rules"] = rules
    pack.update(files)
    with pytest.raises(DefinitionErrors) as info:
        compile_definitions([load_pack_files(pack, root="oms")])
    return [str(e).splitlines()[0] for e in info.value.errors]


def test_the_oms_pack_compiles_its_table_once_with_the_rules():
    defs = compile_definitions([load_pack_files(read_pack_files(OMS), root="oms")])
    assert list(defs.decisions) == ["approval_route"]
    rule = defs.rules.named("审批路线")
    assert [a.kind for a in rule.actions] == ["decide"]


def test_unknown_table_with_did_you_mean():
    assert _errors('on sales_order\nrule "r" when created then decide aproval_route\n') == [
        "oms/rules/orders.rules:2:35: unknown decision table 'aproval_route' (did you mean 'approval_route'?)"
    ]


def test_a_table_for_another_form():
    assert _errors('on customer\nrule "r" when created then decide approval_route\n') == [
        "oms/rules/orders.rules:2:35: decision table 'approval_route' reads sales_order records, not customer "
        "(decide it in a rule 'on sales_order')"
    ]


def test_an_output_with_no_field_and_one_of_the_wrong_type():
    renamed = TABLE.replace("outputs: [{name: route, type: string", "outputs: [{name: rout, type: string")
    renamed = renamed.replace("default: {route: manager}", "default: {rout: manager}")
    assert _errors(
        'on sales_order\nrule "r" when created then decide approval_route\n',
        **{"rules/approval_route.decision.yaml": renamed},
    ) == [
        "oms/rules/orders.rules:2:35: decision table 'approval_route' outputs 'rout' but sales_order has no "
        "field of that name (did you mean 'route'?)"
    ]
    typed = (
        TABLE.replace(
            "outputs: [{name: route, type: string, label: 审批路线}]", "outputs: [{name: remark, type: integer}]"
        )
        .replace(", auto]", ", 1]")
        .replace(", gm]", ", 2]")
        .replace("default: {route: manager}", "default: {remark: 3}")
    )
    errors = _errors(
        'on sales_order\nrule "r" when created then decide approval_route\n',
        **{"rules/approval_route.decision.yaml": typed},
    )
    assert errors == [
        "oms/rules/orders.rules:2:35: decision table 'approval_route' outputs 'remark' as an integer, "
        "but sales_order.remark is a string"
    ]


def test_a_collect_table_is_refused():
    collect = TABLE.replace("hit: first", "hit: collect")
    assert _errors(
        'on sales_order\nrule "r" when created then decide approval_route\n',
        **{"rules/approval_route.decision.yaml": collect},
    ) == [
        "oms/rules/orders.rules:2:35: decide needs a table with hit policy first; 'approval_route' collects every "
        "matching row (a rule sets one value per field: use hit: first)"
    ]
