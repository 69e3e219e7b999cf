"""Broken copies of the OMS pack: every error names file:line:col, in plain words, all at once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.definitions import load_pack
from engine.definitions.yaml_source import parse_yaml, plain_data
from engine.errors import DefinitionErrors

Pack = Any  # the ``pack`` fixture (conftest.Pack): a copy of definitions/oms in tmp_path


def test_malformed_yaml(pack: Pack) -> None:
    pack.edit("forms/product.yaml", "  - name: unit\n    type: text", "  - name: unit\n    type: text\n   label: 单位")
    assert pack.errors() == [
        "oms/forms/product.yaml:22:4: invalid YAML: this line is indented wrongly (it does not line up "
        "with the lines above)"
    ]
    with pytest.raises(DefinitionErrors) as info:
        load_pack(pack.root)
    assert str(info.value).split("\n")[1:] == ["       label: 单位", "       ^"]


def test_unknown_type_with_did_you_mean(pack: Pack) -> None:
    pack.edit("forms/sales_order.yaml", "        type: integer", "        type: nubmer")
    assert pack.errors() == [
        "oms/forms/sales_order.yaml:92:15: field 'qty': unknown type 'nubmer' (did you mean 'number'?)"
    ]


def test_dangling_link(pack: Pack) -> None:
    pack.edit("forms/sales_order.yaml", "form: product", "form: products")
    assert pack.errors() == [
        "oms/forms/sales_order.yaml:85:15: field 'product': links to unknown form 'products' (did you mean 'product'?)"
    ]


def test_duplicate_fields_in_form_and_sub_table(pack: Pack) -> None:
    pack.edit("forms/customer.yaml", "  - name: short_name", "  - name: contact\n    type: text\n  - name: short_name")
    pack.edit(
        "forms/sales_order.yaml", "      - name: spec", "      - name: qty\n        type: text\n      - name: spec"
    )
    assert pack.errors() == [
        "oms/forms/customer.yaml:31:11: duplicate field 'contact' (first defined on line 17)",
        "oms/forms/sales_order.yaml:93:15: duplicate field 'qty' (first defined on line 88)",
        # the first 'qty' (text) is the one the amount formula sees
        "oms/forms/sales_order.yaml:104:19: cannot compute string * decimal",
    ]


def test_unknown_property_with_did_you_mean(pack: Pack) -> None:
    pack.edit("forms/product.yaml", "    max_length: 64", "    max_lenght: 64")
    pack.edit(
        "forms/customer.yaml", "    searchable: true\n    max_length: 200", "    serchable: true\n    max_length: 200"
    )
    pack.edit(
        "forms/sales_order.yaml",
        "label: {zh-CN: 销售订单, en: Sales order}",
        "lable: {zh-CN: 销售订单, en: Sales order}",
    )
    assert pack.errors() == [
        "oms/forms/customer.yaml:15:5: unknown property 'serchable' (did you mean 'searchable'?)",
        "oms/forms/product.yaml:10:5: unknown property 'max_lenght' (did you mean 'max_length'?)",
        "oms/forms/sales_order.yaml:2:1: unknown property 'lable' (did you mean 'label'?)",
    ]


def test_role_naming_unknown_form_and_field(pack: Pack) -> None:
    pack.edit("roles.yaml", "          total: hidden", "          totl: hidden")
    pack.edit("roles.yaml", "      product:\n        actions: [read]", "      produkt:\n        actions: [read]")
    assert pack.errors() == [
        "oms/roles.yaml:13:7: role 'sales': unknown form 'produkt' (did you mean 'product'?)",
        "oms/roles.yaml:36:11: role 'warehouse': form 'sales_order' has no field 'totl' (did you mean 'total'?)",
    ]


def test_role_naming_sub_table_columns(pack: Pack) -> None:
    pack.edit("roles.yaml", "          lines.unit_price: hidden", "          lines.unit_pirce: hidden")
    pack.edit(
        "roles.yaml",
        "          lines.amount: hidden",
        "          lnes.amount: hidden\n          customer.tier: hidden\n          remark.text: hidden",
    )
    assert pack.errors() == [
        "oms/roles.yaml:37:11: role 'warehouse': sub-table 'lines' of form 'sales_order' has no column "
        "'unit_pirce' (did you mean 'lines.unit_price'?)",
        "oms/roles.yaml:38:11: role 'warehouse': form 'sales_order' has no sub-table 'lnes' (did you mean 'lines'?)",
        "oms/roles.yaml:39:11: role 'warehouse': 'customer' of form 'sales_order' is a link, not a sub-table: "
        "only a sub-table's columns are named '<sub-table>.<column>' (a linked record's fields are set under "
        "form 'customer')",
        "oms/roles.yaml:40:11: role 'warehouse': 'remark' of form 'sales_order' is a textarea, not a sub-table: "
        "only a sub-table's columns are named '<sub-table>.<column>'",
    ]


def test_role_sub_table_columns_under_every_form(pack: Pack) -> None:
    pack.edit(
        "roles.yaml",
        "  warehouse:\n    label: {zh-CN: 仓库, en: Warehouse}\n    forms:\n",
        "  warehouse:\n    label: {zh-CN: 仓库, en: Warehouse}\n    forms:\n"
        '      "*": {actions: [read], fields: {lines.qtty: readonly, lines.spec: hidden, Lines.x: hidden}}\n',
    )
    assert pack.errors() == [
        "oms/roles.yaml:26:81: 'Lines.x' is not a field name: give a field (cost) or a sub-table column "
        "(lines.unit_price)"
    ]
    pack.edit("roles.yaml", ", Lines.x: hidden", "")
    assert pack.errors() == [
        "oms/roles.yaml:26:39: role 'warehouse': no form has a sub-table column 'lines.qtty' "
        "(did you mean 'lines.qty'?)"
    ]


def test_role_schema_and_portal_errors(pack: Pack) -> None:
    pack.edit("roles.yaml", "actions: [read, update]", "actions: [read, edit]")
    pack.edit(
        "roles.yaml",
        "          margin: hidden\n          status: readonly",
        "          margin: secret\n          status: readonly",
    )
    pack.edit("roles.yaml", "    portal: true", "    portal: true\n    superuser: true")
    assert pack.errors() == [
        "oms/roles.yaml:20:19: 'secret' is not one of 'hidden', 'readonly', 'editable'",
        "oms/roles.yaml:27:25: 'edit' is not one of 'read', 'create', 'update', 'delete', 'approve', 'export', 'print'",
        "oms/roles.yaml:44:5: role 'customer': a portal role cannot be a superuser",
    ]


def test_all_errors_are_reported_at_once(pack: Pack) -> None:
    pack.edit("forms/customer.yaml", "    type: phone", "    type: telephone")
    pack.edit("forms/sales_order.yaml", "form: product", "form: products")
    pack.edit("roles.yaml", "          total: hidden", "          totl: hidden")
    pack.edit("pack.yaml", 'version: "0.1.0"', "version: 1.0")
    with pytest.raises(DefinitionErrors) as info:
        load_pack(pack.root)
    assert len(info.value.errors) == 4
    assert pack.errors() == [
        "oms/forms/customer.yaml:33:11: field 'phone': unknown type 'telephone' (did you mean 'phone'?)",
        "oms/forms/sales_order.yaml:85:15: field 'product': links to unknown form 'products' (did you mean 'product'?)",
        'oms/pack.yaml:3:10: 1.0 is not a version like "1.0.0" (write it in quotes)',
        "oms/roles.yaml:36:11: role 'warehouse': form 'sales_order' has no field 'totl' (did you mean 'total'?)",
    ]


def test_schema_errors_in_plain_words(pack: Pack) -> None:
    pack.edit("forms/customer.yaml", "    max_length: 32", "    max_length: abc")
    pack.edit(
        "forms/customer.yaml",
        "    required: true\n    searchable: true",
        "    required: yes please\n    searchable: true",
    )
    pack.edit("forms/product.yaml", "  - name: spec\n    type: text", "  - name: spec")
    pack.edit("forms/product.yaml", "label: {zh-CN: 产品, en: Product}", "label: [产品]")
    assert pack.errors() == [
        "oms/forms/customer.yaml:10:17: 'abc' is not a whole number",
        "oms/forms/customer.yaml:14:15: 'yes please' is not true or false",
        "oms/forms/product.yaml:2:8: a list is not a label: give a text, or texts by language like "
        "{zh-CN: 客户, en: Customer}",
        "oms/forms/product.yaml:16:5: missing required property 'type'",
    ]


def test_a_schema_error_in_one_field_does_not_hide_errors_in_others(pack: Pack) -> None:
    pack.edit("forms/product.yaml", "  - name: spec\n", "  - name: created_at\n")
    pack.edit("forms/product.yaml", "    type: money", "    type: mony")
    pack.edit("forms/sales_order.yaml", "      - name: spec\n", "      - name: pos\n")
    pack.edit("forms/customer.yaml", "  - name: short_name\n", "  - name: ShortName\n")
    pack.edit("demo/data.yaml", "      short_name: ", "      ShortName: ", count=9)
    pack.edit(
        "demo/data.yaml",
        "{_ref: bolt, sku: P-M8-30, name: 六角螺栓, spec:",
        "{_ref: bolt, sku: P-M8-30, name: 六角螺栓, created_at:",
    )
    errors = pack.errors()
    assert (
        "oms/forms/customer.yaml:17:11: 'ShortName' is not a valid name: use lower-case letters a-z, "
        "digits and _, starting with a letter or _" in errors
    )
    assert (
        "oms/forms/product.yaml:16:11: 'created_at' is a reserved name (every record has it); choose another" in errors
    )
    assert "oms/forms/product.yaml:26:11: field 'price': unknown type 'mony' (did you mean 'money'?)" in errors
    assert (
        "oms/forms/sales_order.yaml:88:15: 'pos' is a reserved name (every sub-table row has it); "
        "choose another" in errors
    )
    assert not [e for e in errors if "ShortName" in e and "demo" in e]


def test_a_field_may_not_take_a_keyword_or_the_flags_name(pack: Pack) -> None:
    pack.edit("forms/customer.yaml", "  - name: remark\n", "  - name: flags\n")
    pack.edit("forms/sales_order.yaml", "      - name: spec\n", "      - name: contains\n")
    errors = pack.errors()
    assert "oms/forms/customer.yaml:53:11: 'flags' is a reserved name (every record has it); choose another" in errors
    assert (
        "oms/forms/sales_order.yaml:88:15: 'contains' is a keyword of the expression language, so no "
        "expression could name the field; choose another" in errors
    )


def test_autonumber_sequence_pattern(pack: Pack) -> None:
    pack.edit("forms/sales_order.yaml", "SO-{YYYY}{MM}-{seq:05}", "SO-{YYYY}{M}-{seq:05")
    assert pack.errors() == [
        "oms/forms/sales_order.yaml:8:16: field 'number': the sequence must contain {seq} (or {seq:05}) exactly once",
        "oms/forms/sales_order.yaml:8:25: field 'number': unknown placeholder '{M}' in sequence "
        "(use {YYYY} {YY} {MM} {DD} {seq} or {seq:05})",
        "oms/forms/sales_order.yaml:8:29: field 'number': unmatched brace in sequence 'SO-{YYYY}{M}-{seq:05'",
    ]


def test_defaults_must_fit_the_field(pack: Pack) -> None:
    pack.edit("forms/sales_order.yaml", "default: draft", "default: drafted")
    pack.edit("forms/product.yaml", "    default: 0\n    min: 0", "    default: lots\n    min: 0")
    assert pack.errors() == [
        "oms/forms/product.yaml:42:14: field 'safety_stock': default 'lots' must be a whole number",
        "oms/forms/sales_order.yaml:36:14: field 'status': default 'drafted' is not one of its options "
        "(did you mean 'draft'?)",
    ]


def test_type_specific_requirements(pack: Pack) -> None:
    pack.edit("forms/sales_order.yaml", "    form: customer\n", "")
    pack.edit("forms/product.yaml", "    default: 件\n", "    default: 件\n    options: [件, 套]\n")
    pack.edit(
        "forms/sales_order.yaml",
        "    fields:\n      - name: product",
        "    fields:\n      - {name: sub, type: table, fields: [{name: x, type: text}]}\n      - name: product",
    )
    pack.edit("forms/customer.yaml", "  - name: remark\n    type: textarea", "  - name: remark\n    type: select")
    assert pack.errors() == [
        "oms/forms/customer.yaml:53:5: field 'remark': a select field needs 'options'",
        "oms/forms/product.yaml:24:5: field 'unit': 'options' is only for select, radio, "
        "multiselect, checkboxes and department fields",
        "oms/forms/sales_order.yaml:11:5: field 'customer': a link field needs 'form' (the form it points to)",
        "oms/forms/sales_order.yaml:82:27: field 'sub': a table cannot hold another table",
    ]


def test_title_unique_and_indexes_name_fields(pack: Pack) -> None:
    pack.edit("forms/sales_order.yaml", "  - [customer, po_number]", "  - [customer, po_numbr]")
    pack.edit("forms/sales_order.yaml", "title: number", "title: numbr")
    pack.edit("forms/sales_order.yaml", "  - [status, order_date]", "  - [status, lines]")
    assert pack.errors() == [
        "oms/forms/sales_order.yaml:3:8: form 'sales_order': title names no field 'numbr' (did you mean 'number'?)",
        "oms/forms/sales_order.yaml:105:16: form 'sales_order': unique names no field 'po_numbr' "
        "(did you mean 'po_number'?)",
        "oms/forms/sales_order.yaml:107:14: form 'sales_order': the table field 'lines' cannot be in indexes",
    ]


def test_demo_data_references(pack: Pack) -> None:
    pack.edit("demo/data.yaml", 'customer: "@acme"}', 'customer: "@acm"}')
    pack.edit("demo/data.yaml", 'product: "@bolt"', 'product: "@acme"')
    pack.edit("demo/data.yaml", "      tier: C", "      tier: D\n      rating: 5")
    pack.edit("demo/data.yaml", "roles: [warehouse]", "roles: [warehous]")
    pack.edit("demo/data.yaml", "owner: sales2", "owner: sales3")
    pack.edit("demo/data.yaml", "qty: 100,", "qty: 0,")
    pack.edit("demo/data.yaml", "  sales_order:", "  invoice: []\n  sales_order:")
    assert pack.errors() == [
        "oms/demo/data.yaml:8:46: unknown role 'warehous' (did you mean 'warehouse'?)",
        "oms/demo/data.yaml:9:127: unknown reference '@acm': no earlier record has _ref acm (did you mean '@acme'?)",
        "oms/demo/data.yaml:44:13: field 'tier': 'D' is not one of the options: D",
        "oms/demo/data.yaml:45:7: unknown field 'rating'",
        "oms/demo/data.yaml:57:3: unknown form 'invoice'",
        "oms/demo/data.yaml:73:21: '@acme' is a customer record, but this field links to product",
        "oms/demo/data.yaml:87:51: field 'qty': 0 must be at least 1",
        "oms/demo/data.yaml:89:14: owner 'sales3' is not a demo user (did you mean 'sales2'?)",
    ]


def test_pack_layout_problems(pack: Pack) -> None:
    pack.write("forms/notes.txt", "x")
    pack.write("forms/empty.yaml", "")
    pack.write("reports/sales.yaml", "label: 销售\n")
    data, _ = parse_yaml((pack.root / "forms/product.yaml").read_text("utf-8"), "x")
    pack.write("forms/product.json", json.dumps(plain_data(data), ensure_ascii=False))
    (pack.root / "pack.yaml").unlink()
    assert pack.errors() == [
        "oms/forms/empty.yaml:1:1: the file is empty",
        "oms/forms/notes.txt: unexpected file (a pack holds pack.yaml, roles.yaml, forms/*.yaml, "
        "options/*.yaml, flows/*.yaml, rules/*.rules, rules/*.decision.yaml, reports/*.yaml, prints/*.yaml, "
        "demo/data.yaml and README.md files)",
        "oms/forms/product.yaml: form 'product' is defined twice: forms/product.json and "
        "forms/product.yaml (keep one of the two files)",
        "oms/pack.yaml: missing pack.yaml (every pack needs a pack.yaml with at least name and version)",
        "oms/reports/sales.yaml:1:1: missing required property 'name'",
    ]


def test_form_name_must_match_file(pack: Pack) -> None:
    pack.edit("forms/product.yaml", "name: product\n", "name: products\n")
    assert pack.errors() == [
        "oms/forms/product.yaml:1:7: form name 'products' must match the file name 'product' "
        "(rename the file to products.yaml or the form to 'product')"
    ]


def test_duplicate_key_is_reported(pack: Pack) -> None:
    pack.edit(
        "forms/product.yaml",
        "    required: true\n    unique: true",
        "    required: true\n    unique: true\n    required: false",
    )
    assert pack.errors() == ["oms/forms/product.yaml:10:5: duplicate key 'required' (first given on line 8)"]
