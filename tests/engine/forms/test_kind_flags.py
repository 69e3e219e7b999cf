"""A field type is what its flags say (``is_link``, ``is_table`` ...), not what it is named: a
``lowcode.fields`` plugin type with ``is_link = True`` is loaded, stored and checked as a link."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any, Iterator, Optional

import pytest
import sqlalchemy as sa

import engine.registry as reg
from engine.context import FixedClock
from engine.definitions import load_pack_files
from engine.definitions.model import FieldSpec
from engine.errors import DefinitionErrors, Position, ValidationError
from engine.expr.types import ExprType
from engine.field_errors import FieldError
from engine.forms import FIELD_TYPES, FieldType
from engine.platform import Platform
from engine.service import Records
from engine.store.db import Database


class SupplierRef(FieldType):
    """A plugin's reference to a supplier record: a link by its flag, not by its class or name."""

    name = "supplier_ref"
    widget = "record_picker"
    expr_type = ExprType.RECORD
    is_link = True
    props_schema = {"form": {"type": "string"}}

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.Integer()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        if type(value) is not int or value <= 0:
            raise FieldError("not_record")
        return value

    def link_form(self, spec: FieldSpec) -> Optional[str]:
        return spec.form


PACK = {
    "pack.yaml": 'name: buying\nversion: "1.0.0"\nlabel: 采购\nlocale: en\n',
    "roles.yaml": "roles:\n  admin: {label: Admin, superuser: true}\n",
    "forms/supplier.yaml": "name: supplier\nlabel: Supplier\ntitle: name\nfields:\n"
    "  - {name: name, type: text, label: Name}\n",
    "forms/purchase.yaml": "name: purchase\nlabel: Purchase\nfields:\n"
    "  - {name: vendor, type: supplier_ref, label: Vendor, form: supplier}\n"
    "  - {name: note, type: text, label: Note, formula: vendor.name}\n",
}


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``supplier_ref`` installed as a ``lowcode.fields`` entry point, for one test."""
    real = reg.load_group
    monkeypatch.setattr(
        reg, "load_group", lambda g: {"supplier_ref": SupplierRef} if g == "lowcode.fields" else real(g)
    )
    assert "supplier_ref" in FIELD_TYPES.load_plugins(force=True)
    yield
    FIELD_TYPES.unregister("supplier_ref")


def spec(type_name: str) -> FieldSpec:
    return FieldSpec(name="f", type=type_name, label=None, position=Position(), form="supplier")  # type: ignore[arg-type]


def test_the_spec_asks_the_registered_type(plugin: None) -> None:
    vendor = spec("supplier_ref")
    assert (vendor.is_link, vendor.refers_to_records) == (True, True)
    assert not (vendor.is_table or vendor.is_multilink or vendor.is_user or vendor.is_autonumber or vendor.is_group)
    assert [(spec(t).is_link, spec(t).is_table, spec(t).is_user) for t in ("link", "table", "user", "text")] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
        (False, False, False),
    ]
    assert spec("multilink").refers_to_records and spec("autonumber").is_autonumber and spec("group").is_group
    assert not any(getattr(spec("no_such_type"), flag) for flag in ("is_link", "is_table", "refers_to_records"))


def test_the_loader_treats_it_as_a_link(plugin: None) -> None:
    pack = load_pack_files(PACK, "buying")
    assert pack.forms["purchase"].field("vendor").is_link  # type: ignore[union-attr]
    for target, message in [
        ("", "field 'vendor': a supplier_ref field needs 'form' (the form it points to)"),
        (", form: suppliers", "field 'vendor': links to unknown form 'suppliers'"),
    ]:
        purchase = PACK["forms/purchase.yaml"].replace(", form: supplier}", target + "}")
        with pytest.raises(DefinitionErrors) as info:
            load_pack_files({**PACK, "forms/purchase.yaml": purchase}, "buying")
        assert message in [e.message for e in info.value.errors]


def test_the_store_checks_it_like_a_link(plugin: None, db_url: str, tmp_path: Any) -> None:
    root = tmp_path / "buying"
    for rel, text in PACK.items():
        os.makedirs(root / os.path.dirname(rel), exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    p = Platform(Database(db_url), FixedClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc)), reload_seconds=0)
    try:
        p.publish(str(root))
        ctx, records = p.system_context(), Records(p)
        acme = records.create(ctx, "supplier", {"name": "Acme"})["id"]
        made = records.create(ctx, "purchase", {"vendor": acme})
        assert (made["vendor"], made["note"]) == (acme, "Acme")  # the formula follows the link
        with pytest.raises(ValidationError) as info:
            records.create(ctx, "purchase", {"vendor": acme + 100})
        assert info.value.fields == {"vendor": [f"refers to record {acme + 100}, which does not exist"]}
        indexed = {
            str(ix.name) for ix in p.definitions().tables.table("purchase").indexes
        }  # a link's column is indexed
        assert any("vendor" in name for name in indexed)
    finally:
        p.db.dispose()
