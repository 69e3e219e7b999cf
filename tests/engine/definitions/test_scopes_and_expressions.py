"""Scopes built from a pack, and expressions compiled against them at load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.definitions import build_scopes, load_pack
from engine.expr.types import ExprType

OMS = Path(__file__).resolve().parents[3] / "definitions" / "oms"
Pack = Any


@pytest.fixture(scope="module")
def scopes() -> dict[str, Any]:
    return build_scopes(load_pack(OMS))


def test_one_scope_per_form_sharing_the_forms_mapping(scopes: dict[str, Any]) -> None:
    assert sorted(scopes) == ["customer", "product", "sales_order"]
    order = scopes["sales_order"]
    assert order.other("customer") is scopes["customer"]
    assert order.fields["customer"].link_form == "customer"
    pack = load_pack(OMS)
    assert order.version == f"{pack.version}:{pack.checksum}"


def test_field_types(scopes: dict[str, Any]) -> None:
    order = scopes["sales_order"].fields
    assert order["number"].type is ExprType.STRING
    assert order["customer"].type is ExprType.RECORD
    assert order["order_date"].type is ExprType.DATE
    assert order["total"].type is ExprType.DECIMAL
    assert order["status"].type is ExprType.STRING
    assert order["lines"].type is ExprType.TABLE
    product = scopes["product"].fields
    assert product["stock"].type is ExprType.INTEGER
    assert product["active"].type is ExprType.BOOLEAN


def test_system_fields(scopes: dict[str, Any]) -> None:
    fields = scopes["product"].fields
    for name in ("id", "version", "owner", "created_by", "updated_by"):
        assert fields[name].type is ExprType.INTEGER
    assert fields["created_at"].type is ExprType.DATETIME
    assert fields["updated_at"].type is ExprType.DATETIME


def test_labels_are_aliases(scopes: dict[str, Any]) -> None:
    product = scopes["product"]
    assert product.fields["stock"].labels == ("库存", "Stock")
    assert product.resolve("库存") is product.fields["stock"]
    assert product.resolve("Safety stock") is product.fields["safety_stock"]
    assert product.resolve("nothing") is None


def test_sub_table_children(scopes: dict[str, Any]) -> None:
    lines = scopes["sales_order"].fields["lines"].children
    assert lines is not None and lines.form == "sales_order.lines"
    assert lines.fields["qty"].type is ExprType.INTEGER
    assert lines.fields["product"].link_form == "product"
    assert lines.resolve("数量") is lines.fields["qty"]
    assert lines.fields["parent_id"].type is ExprType.INTEGER
    assert lines.other("product") is scopes["product"]


def test_multiselect_element_type(pack: Pack) -> None:
    pack.edit(
        "forms/product.yaml",
        "  - name: active\n",
        "  - name: tags\n    type: multiselect\n    options: [hot, new]\n    default: [new]\n  - name: active\n",
    )
    tags = build_scopes(load_pack(pack.root))["product"].fields["tags"]
    assert (tags.type, tags.element_type) == (ExprType.LIST, ExprType.STRING)


# -- expressions are compiled at load (skipped only while engine.expr has no compiler) --------


def _compiler_ready() -> bool:
    try:
        from engine.expr import compile_expression  # noqa: F401
    except ImportError:
        return False
    return True


def needs_expr(test):  # the expression compiler is part of the engine: always there
    assert _compiler_ready()
    return test


@needs_expr
def test_expression_errors_point_into_the_definition_file(pack: Pack) -> None:
    pack.edit("forms/sales_order.yaml", "expr: due_date >= order_date", "expr: due_date >= order_dat")
    pack.edit("roles.yaml", "rows: owner == me", 'rows: "owner == mee"')
    pack.edit(
        "forms/sales_order.yaml",
        "  - name: remark\n    type: textarea",
        "  - name: remark\n    type: textarea\n    visible_if: |\n      status == 'draft' and totl > 0",
    )
    errors = pack.errors()
    assert len(errors) == 3
    assert errors[0].startswith("oms/forms/sales_order.yaml:69:29: ")  # block scalar: next line
    assert "totl" in errors[0]
    assert errors[1].startswith("oms/forms/sales_order.yaml:112:23: ")  # plain scalar
    assert "order_dat" in errors[1]
    assert errors[2].startswith("oms/roles.yaml:17:25: ")  # quoted: one column on
    assert "mee" in errors[2]


@needs_expr
def test_pack_expressions_compile(pack: Pack) -> None:
    pack.edit(
        "forms/sales_order.yaml",
        "  - name: remark\n    type: textarea",
        "  - name: remark\n    type: textarea\n    required_if: status == 'rejected'",
    )
    assert pack.errors() == []
