"""The OMS pack loads; YAML and JSON give the same specs; files round-trip exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.definitions import (
    FormSpec,
    PackSpec,
    check_pack,
    load_pack,
    load_pack_files,
    pack_checksum,
    read_pack_files,
)
from engine.definitions.yaml_source import parse_yaml, plain_data
from engine.errors import DefinitionErrors

OMS = Path(__file__).resolve().parents[3] / "definitions" / "oms"
Pack = Any


def test_oms_pack_loads() -> None:
    pack = load_pack(OMS)
    assert isinstance(pack, PackSpec)
    assert (pack.name, pack.version, pack.timezone, pack.locale) == ("oms", "0.1.0", "Asia/Shanghai", "zh-CN")
    assert pack.label.get("zh-CN") == "订单管理" and pack.label.get("en") == "Order management"
    assert sorted(pack.forms) == ["customer", "product", "sales_order"]
    assert sorted(pack.roles) == ["admin", "customer", "director", "finance", "manager", "sales", "vip", "warehouse"]
    assert check_pack(OMS) == []


def test_sales_order_form() -> None:
    form = load_pack(OMS).forms["sales_order"]
    assert form.title == "number"
    assert form.unique == (("customer", "po_number"),)
    assert form.indexes == (("status", "order_date"),)
    number = form.field("number")
    assert number is not None and number.type == "autonumber"
    assert number.prop("sequence") == "SO-{YYYY}{MM}-{seq:05}"
    customer = form.field("customer")
    assert customer is not None and (customer.type, customer.form, customer.required, customer.index) == (
        "link",
        "customer",
        True,
        True,
    )
    status = form.field("status")
    assert status is not None and status.default == "draft"
    assert [o.value for o in status.options] == [
        *["draft", "submitted", "approved", "rejected", "shipped", "cancelled"],
        # the states of flows/order_lifecycle.yaml
        *["pending", "scheduled", "in_production", "inspected", "dispatched", "in_transit", "delivered", "settled"],
    ]
    assert status.options[0].label.get("zh-CN") == "草稿"
    lines = form.field("lines")
    assert lines is not None and [f.name for f in lines.fields] == ["product", "spec", "qty", "unit_price", "amount"]
    qty = lines.child("qty")
    assert qty is not None and qty.prop("min") == 1 and qty.label.get("en") == "Quantity"
    check = form.checks[0]
    assert (check.name, check.expr) == ("due_after_order", "due_date >= order_date")
    assert check.message.get("zh-CN") == "交货日期不能早于下单日期"
    assert str(check.position).endswith("definitions/oms/forms/sales_order.yaml:110:11")


def test_roles() -> None:
    roles = load_pack(OMS).roles
    assert roles["admin"].superuser and not roles["admin"].portal
    sales = roles["sales"].forms["sales_order"]
    assert sales.actions == frozenset({"read", "create", "update", "export", "print"})
    assert sales.rows == "owner == me"
    assert dict(sales.fields) == {"cost": "hidden", "margin": "hidden", "status": "readonly", "route": "readonly"}
    warehouse = roles["warehouse"].forms
    assert warehouse["product"].actions == frozenset({"read", "update"})
    assert dict(warehouse["product"].fields) == {"price": "hidden", "cost": "hidden"}
    assert dict(warehouse["sales_order"].fields) == {
        "cost": "hidden",
        "margin": "hidden",
        "total": "hidden",
        "lines.unit_price": "hidden",
        "lines.amount": "hidden",
        "route": "hidden",
    }
    customer = roles["customer"]
    assert customer.portal and customer.forms["sales_order"].rows == "customer == my.customer"
    assert roles["sales"].label.get("en") == "Sales"


def test_demo_data() -> None:
    demo = load_pack(OMS).demo
    users = {u["username"]: u for u in demo["users"]}
    assert sorted(users) == ["admin", "buyer1", "sales1", "sales2", "wh1"]
    assert users["buyer1"]["customer"] == "@acme" and users["buyer1"]["roles"] == ["customer"]
    assert users["admin"]["password"] == "admin123"
    records = demo["records"]
    assert list(records) == ["customer", "product", "sales_order"]
    assert len(records["product"]) == 5 and len(records["customer"]) >= 3
    assert records["sales_order"][0]["lines"][0]["product"] == "@bearing"
    assert type(records) is dict  # plain data, not position-keeping nodes


def test_same_form_in_yaml_and_json_gives_equal_specs(pack: Pack) -> None:
    yaml_spec = load_pack(pack.root).forms["sales_order"]
    data, errors = parse_yaml((pack.root / "forms/sales_order.yaml").read_text("utf-8"), "x")
    assert errors == []
    (pack.root / "forms/sales_order.yaml").unlink()
    pack.write("forms/sales_order.json", json.dumps(plain_data(data), ensure_ascii=False, indent=2))
    json_spec = load_pack(pack.root).forms["sales_order"]
    assert isinstance(json_spec, FormSpec)
    assert json_spec == yaml_spec
    assert json_spec.file.endswith("forms/sales_order.json")
    assert json_spec.field("lines").child("qty").position.line > 1  # positions from JSON too


def test_files_round_trip_byte_for_byte(tmp_path: Path) -> None:
    files = read_pack_files(OMS)
    files["forms/crlf_note.md"] = "windows line ends\r\nkept\r\n"
    spec = load_pack_files(files, "oms")
    assert dict(spec.files) == files
    out = tmp_path / "export"
    for rel, text in spec.files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(text.encode("utf-8"))
    assert read_pack_files(out) == files
    again = load_pack(out)
    assert again.checksum == spec.checksum
    assert again.forms == spec.forms


def test_checksum_is_stable_and_sensitive() -> None:
    files = read_pack_files(OMS)
    reordered = dict(sorted(files.items(), reverse=True))
    assert pack_checksum(files) == pack_checksum(reordered)
    assert len(pack_checksum(files)) == 64
    changed = dict(files, **{"pack.yaml": files["pack.yaml"] + "\n"})
    assert pack_checksum(changed) != pack_checksum(files)
    assert load_pack_files(files, "x").checksum == pack_checksum(files)


def test_check_pack_files_lists_errors_without_raising() -> None:
    from engine.definitions import check_pack_files

    files = read_pack_files(OMS)
    assert check_pack_files(files, "oms") == []
    files["roles.yaml"] = files["roles.yaml"].replace("superuser: true", "superuser: yes please")
    assert [str(e).split("\n")[0] for e in check_pack_files(files, "oms")] == [
        "oms/roles.yaml:6:16: 'yes please' is not true or false"
    ]


def test_error_files_are_named_root_slash_relpath(pack: Pack) -> None:
    pack.edit("forms/product.yaml", "type: money", "type: mony")
    files = read_pack_files(pack.root)
    errors = []
    try:
        load_pack_files(files, "definitions/oms")
    except Exception as exc:  # noqa: BLE001
        errors = [str(e).split("\n")[0] for e in exc.errors]  # type: ignore[attr-defined]
    assert errors[0].startswith("definitions/oms/forms/product.yaml:26:11: field 'price': unknown type 'mony'")
    found = check_pack(pack.root)
    assert found and found[0].position.file == f"{pack.root.as_posix()}/forms/product.yaml"


def test_a_pack_may_link_to_forms_of_packs_it_depends_on() -> None:
    oms = load_pack(OMS)
    files = {
        "pack.yaml": 'name: quality\nversion: "1.0.0"\ndepends: [oms]\n',
        "forms/complaint.yaml": (
            "name: complaint\nfields:\n"
            "  - {name: order, type: link, form: sales_order, label: {zh-CN: 订单, en: Order}}\n"
            "  - {name: text, type: textarea, visible_if: order != null}\n"
        ),
        "roles.yaml": "roles:\n  qa:\n    forms:\n      complaint: {actions: [read]}\n"
        "      sales_order: {actions: [read], fields: {cost: hidden}}\n",
    }
    spec = load_pack_files(files, "quality", others=[oms])
    assert spec.forms["complaint"].field("order").form == "sales_order"
    with pytest.raises(DefinitionErrors) as info:
        load_pack_files(files, "quality")
    assert [str(e).split("\n")[0] for e in info.value.errors] == [
        "quality/forms/complaint.yaml:3:37: field 'order': links to unknown form 'sales_order'",
        "quality/roles.yaml:5:7: role 'qa': unknown form 'sales_order'",
    ]


def test_links_to_files_outside_the_pack_are_refused(pack: Pack, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password=hunter2", encoding="utf-8")
    (pack.root / "prints" / "leak.txt").symlink_to(secret)
    with pytest.raises(DefinitionErrors) as info:
        read_pack_files(pack.root)
    assert [str(e) for e in info.value.errors] == [
        f"{pack.root.as_posix()}/prints/leak.txt: a link to a file outside the pack "
        "(copy the file into the pack instead)"
    ]


def test_date_time_fields_carry_the_packs_time_zone() -> None:
    """What a date-time without an offset means is the pack's: every date-time-valued field
    (formulas, sub-tables and groups too) carries the zone, so every parse reads it alike."""
    pack = load_pack_files(
        {
            "pack.yaml": 'name: z\nversion: "1.0.0"\ntimezone: Europe/Berlin\n',
            "forms/visit.yaml": (
                "name: visit\nfields:\n  - {name: at, type: datetime}\n  - {name: day, type: date}\n"
                "  - {name: later, type: formula, result: datetime, formula: at + 2h}\n"
                "  - {name: stops, type: table, fields: [{name: left, type: datetime}, {name: n, type: integer}]}\n"
                "  - {name: meta, type: group, fields: [{name: seen, type: datetime}]}\n"
            ),
        },
        "z",
    )
    form = pack.forms["visit"]
    zones = {f.name: f.prop("timezone") for f in (*form.fields, *form.fields[3].fields, *form.fields[4].fields)}
    assert zones == {
        "at": "Europe/Berlin",
        "day": None,
        "later": "Europe/Berlin",
        "stops": None,
        "left": "Europe/Berlin",
        "n": None,
        "meta": None,
        "seen": "Europe/Berlin",
    }
    assert pack.files["forms/visit.yaml"].count("timezone") == 0  # the text is the author's
