"""Publishing new versions: columns and indexes are added; data-losing changes are refused."""

from __future__ import annotations

import os
import shutil

import pytest
import sqlalchemy as sa

from engine.context import FixedClock
from engine.definitions.loader import read_pack_files
from engine.errors import SchemaChangeRefused
from engine.listing import ListQuery
from engine.platform import Platform
from engine.service import Records
from engine.store.db import Database

PACK = os.path.join(os.path.dirname(__file__), "..", "..", "..", "definitions", "oms")


@pytest.fixture
def pack_dir(tmp_path):
    target = tmp_path / "oms"
    shutil.copytree(PACK, target)
    return target


@pytest.fixture
def platform(db_url):
    p = Platform(Database(db_url), FixedClock(), reload_seconds=0)
    yield p
    p.db.dispose()


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _columns(platform, table):
    with platform.db.connect() as conn:
        return {c["name"]: c for c in sa.inspect(conn).get_columns(table)}


def test_publish_creates_tables_and_indexes(platform, pack_dir):
    result = platform.publish(str(pack_dir))
    assert result.revision == 1 and result.changed
    assert "create_table f_sales_order__lines" in result.schema_changes
    with platform.db.connect() as conn:
        indexes = {ix["name"]: ix for ix in sa.inspect(conn).get_indexes("f_sales_order")}
    assert indexes["uq_f_sales_order__customer_po_number"]["unique"]
    assert indexes["uq_f_sales_order__customer_po_number"]["column_names"] == ["customer", "po_number"]
    assert indexes["ix_f_sales_order__status_order_date"]["column_names"] == ["status", "order_date"]
    assert platform.publish(str(pack_dir)).changed is False


def test_new_field_adds_a_column_and_keeps_data(platform, pack_dir):
    platform.publish(str(pack_dir))
    records = Records(platform)
    ctx = platform.system_context()
    cust = records.create(ctx, "customer", {"code": "C1", "name": "甲公司"})
    _edit(
        pack_dir / "forms" / "customer.yaml",
        "fields:\n",
        "fields:\n  - name: wechat\n    type: text\n    label: {zh-CN: 微信, en: WeChat}\n    index: true\n",
    )
    result = platform.publish(str(pack_dir))
    assert result.revision == 2
    assert "add_column f_customer.wechat" in result.schema_changes
    assert "add_index f_customer.ix_f_customer__wechat" in result.schema_changes
    assert "wechat" in _columns(platform, "f_customer")
    updated = records.update(ctx, "customer", cust["id"], {"wechat": "jia_gongsi"}, version=1)
    assert updated["name"] == "甲公司" and updated["wechat"] == "jia_gongsi"


def test_dropping_a_field_with_data_is_refused_without_migration(platform, pack_dir):
    platform.publish(str(pack_dir))
    Records(platform).create(platform.system_context(), "customer", {"code": "C1", "name": "x", "remark": "王"})
    _edit(pack_dir / "forms" / "customer.yaml", "  - name: remark\n", "  - name: note\n")
    with pytest.raises(SchemaChangeRefused) as info:
        platform.publish(str(pack_dir))
    assert str(info.value) == (
        "refusing to drop customer.remark (no longer defined): the column holds data; "
        "publish again with the migration customer.remark=drop to allow it"
    )
    assert "note" not in _columns(platform, "f_customer")  # nothing half-done
    with platform.db.connect() as conn:
        assert platform.versions.active_key(conn) == (("oms", 1),)
    result = platform.publish(str(pack_dir), migrations={"customer.remark": "drop"})
    assert "drop_column f_customer.remark (no longer defined)" in result.schema_changes
    assert "remark" not in _columns(platform, "f_customer") and "note" in _columns(platform, "f_customer")


def test_retype_converts_values_only_with_a_migration(platform, pack_dir):
    platform.publish(str(pack_dir))
    records = Records(platform)
    ctx = platform.system_context()
    records.create(ctx, "customer", {"code": "C1", "name": "x", "remark": "42"})
    _edit(
        pack_dir / "forms" / "customer.yaml",
        "  - name: remark\n    type: textarea\n",
        "  - name: remark\n    type: integer\n",
    )
    with pytest.raises(SchemaChangeRefused) as info:
        platform.publish(str(pack_dir))
    assert "customer.remark=convert" in str(info.value)
    platform.publish(str(pack_dir), migrations={"customer.remark": "convert"})
    listing = records.list_records(ctx, "customer", ListQuery())
    assert listing["items"][0]["remark"] == 42


def test_failed_conversion_changes_nothing(platform, pack_dir):
    platform.publish(str(pack_dir))
    Records(platform).create(platform.system_context(), "customer", {"code": "C1", "name": "x", "remark": "abc"})
    _edit(
        pack_dir / "forms" / "customer.yaml",
        "  - name: remark\n    type: textarea\n",
        "  - name: remark\n    type: integer\n",
    )
    with pytest.raises(SchemaChangeRefused) as info:
        platform.publish(str(pack_dir), migrations={"customer.remark": "convert"})
    assert "cannot convert customer.remark: row 1: 'abc'" in str(info.value)
    assert _columns(platform, "f_customer")["remark"]["type"].__class__.__name__ in ("TEXT", "Text")


def test_export_round_trips_byte_for_byte(platform, pack_dir, tmp_path):
    platform.publish(str(pack_dir))
    out = tmp_path / "exported"
    platform.export("oms", str(out))
    assert read_pack_files(str(out)) == read_pack_files(str(pack_dir))
    _edit(pack_dir / "pack.yaml", "version:", "# a comment kept on export\nversion:")
    platform.publish(str(pack_dir))
    old = tmp_path / "rev1"
    platform.export("oms", str(old), revision=1)
    assert "# a comment kept on export" not in (old / "pack.yaml").read_text(encoding="utf-8")
    platform.export("oms", str(out))
    assert "# a comment kept on export" in (out / "pack.yaml").read_text(encoding="utf-8")
    with platform.db.connect() as conn:
        assert [h["status"] for h in platform.versions.history(conn, "oms")] == ["superseded", "active"]
