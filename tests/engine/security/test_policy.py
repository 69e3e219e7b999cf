"""Row filters of "*" grants apply to every form; when they cannot, the role sees nothing."""

from __future__ import annotations

import datetime as dt
import os
import shutil

from engine.context import FixedClock
from engine.listing import ListQuery
from engine.platform import Platform
from engine.service import Records
from engine.store.db import Database
from engine.store.writer import Writer

PACK = os.path.join(os.path.dirname(__file__), "..", "..", "..", "definitions", "oms")

ROLES = """roles:
  admin:
    label: 管理员
    superuser: true
  auditor:
    label: 审计
    forms:
      "*":
        actions: [read]
        rows: owner == me
"""


def test_star_grant_row_filters(db_url, tmp_path):
    pack = tmp_path / "oms"
    shutil.copytree(PACK, pack)
    (pack / "roles.yaml").write_text(ROLES, encoding="utf-8")
    (pack / "demo" / "data.yaml").write_text("users: []\nrecords: {}\n", encoding="utf-8")
    for flow in (pack / "flows").glob("*.yaml"):  # they name the approvers' roles, left out here
        flow.unlink()
    platform = Platform(Database(db_url), FixedClock(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)), 0)
    platform.publish(str(pack))
    with platform.db.begin() as conn:
        auditor = platform.users.add(conn, "aud", "pw", ["auditor"])
    records = Records(platform)
    system = platform.system_context()
    records.create(system, "customer", {"code": "C1", "name": "one"})
    records.create(system, "customer", {"code": "C2", "name": "two"})
    records.create(system, "product", {"sku": "P1", "name": "p"})
    mine = platform.store()
    with platform.db.begin() as conn:
        aud = platform.user_context("aud")
        mine.create(conn, aud, "product", {"sku": "P2", "name": "mine"}, writer=Writer.user(aud))
    aud = platform.user_context("aud")
    assert aud.user_id == auditor.id
    assert [r["sku"] for r in records.list_records(aud, "product", ListQuery())["items"]] == ["P2"]
    assert records.list_records(aud, "customer", ListQuery())["total"] == 0
    assert records.list_records(aud, "sales_order", ListQuery())["total"] == 0
    platform.db.dispose()


def test_star_row_filter_must_fit_every_form(tmp_path):
    import pytest

    from engine.definitions import load_pack
    from engine.errors import DefinitionErrors

    pack = tmp_path / "oms"
    shutil.copytree(PACK, pack)
    (pack / "roles.yaml").write_text(ROLES.replace("owner == me", 'code == "C1"'), encoding="utf-8")
    (pack / "demo" / "data.yaml").write_text("users: []\nrecords: {}\n", encoding="utf-8")
    with pytest.raises(DefinitionErrors) as info:
        load_pack(str(pack))
    assert f"{pack}/roles.yaml:10:15: unknown field 'code' in product" in str(info.value)


def test_field_access_by_path_combines_roles():
    """A column is as open as the most open role leaves it, never more open than its table;
    it is listed only when stricter than its table."""
    from engine.context import RunContext
    from engine.definitions.model import FormGrant, Labels, RoleSpec
    from engine.errors import Position
    from engine.security.policy import Policy

    def role(name, fields):
        return RoleSpec(
            name=name,
            label=Labels(),
            position=Position(),
            forms={"order": FormGrant(actions=frozenset({"read"}), fields=fields)},
        )

    roles = {
        "a": role("a", {"lines": "hidden", "cost": "readonly"}),
        "b": role("b", {"lines.unit_price": "hidden", "lines.bin": "readonly"}),
        "c": role("c", {"lines": "readonly", "lines.qty": "hidden", "lines.bin": "editable"}),
        "d": role("d", {"lines.unit_price": "readonly", "cost": "hidden"}),
    }
    policy = Policy(roles, {}, None, {})  # type: ignore[arg-type]   (no row filters to compile)

    def access(*names):
        return policy.field_access(RunContext(roles=frozenset(names)), "order")

    assert access("a") == {"lines": "hidden", "cost": "readonly"}
    assert access("b") == {"lines.unit_price": "hidden", "lines.bin": "readonly"}
    assert access("c") == {"lines": "readonly", "lines.qty": "hidden"}  # bin: as its table
    assert access("a", "b") == {"lines.unit_price": "hidden", "lines.bin": "readonly"}
    assert access("b", "c") == {"lines.unit_price": "readonly", "lines.bin": "readonly"}  # c reads it
    assert access("b", "d") == {"lines.unit_price": "readonly"}
    assert access("c", "d") == {"lines.unit_price": "readonly"}
    assert policy.hidden(RunContext(roles=frozenset({"b"})), "order") == frozenset({"lines.unit_price"})
    assert policy.not_writable(RunContext(roles=frozenset({"b"})), "order") == frozenset(
        {"lines.unit_price", "lines.bin"}
    )
