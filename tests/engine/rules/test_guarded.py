"""The "never oversell" rule: a guarded set-based update under concurrency, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import threading
import uuid
from typing import Iterator

import pytest
import sqlalchemy as sa

from engine.definitions.loader import read_pack_files
from engine.platform import Platform
from engine.rules.errors import RuleRefused
from engine.service import Records
from engine.store.db import Database, normalise_url
from tests.engine.rules.conftest import PACK
from tests.threads import together

RESERVE = """on order
rule "reserve stock"
  when created
  then for line in lines
         update material where id == line.material set reserved = reserved + line.qty
         require on_hand - reserved >= 0 else "物料 {name} 库存不足"
"""
PG = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path / "guarded.db")
        return
    base = normalise_url(PG if PG.startswith("postgres") else "postgresql://postgres@127.0.0.1:5432/test")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    schema = "t_" + uuid.uuid4().hex[:12]
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError:
        pytest.skip("PostgreSQL is not reachable")
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def _platform(url: str) -> Platform:
    p = Platform(Database(url), reload_seconds=3600)
    files = read_pack_files(PACK)
    files["rules/stock.rules"] = RESERVE
    p.publish(PACK, files)
    return p


def test_twenty_orders_compete_for_the_last_five_units(any_db):
    p = _platform(any_db)
    try:
        ctx = p.system_context()
        records = Records(p)
        m = records.create(ctx, "material", {"name": "钢板", "on_hand": 5})
        other = records.create(ctx, "material", {"name": "螺母", "on_hand": 1000})
        start = threading.Barrier(20)
        ok: list[int] = []
        refused: list[str] = []
        errors: list[BaseException] = []

        def order() -> None:
            start.wait()
            try:
                rec = records.create(
                    ctx, "order", {"lines": [{"material": other["id"], "qty": 2}, {"material": m["id"], "qty": 1}]}
                )
                ok.append(rec["id"])
            except RuleRefused as exc:
                refused.append(str(exc))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        together(20, order)
        assert not errors, errors
        assert len(ok) == 5 and len(refused) == 15
        assert set(refused) == {"物料 钢板 库存不足"}
        assert records.get(ctx, "material", m["id"])["reserved"] == 5
        assert records.get(ctx, "material", other["id"])["reserved"] == 10  # refused orders rolled back
        with p.db.connect() as conn:
            orders = conn.execute(sa.text("SELECT count(*) FROM f_order")).scalar_one()
            runs = dict(conn.execute(sa.text("SELECT outcome, count(*) FROM lc_rule_run GROUP BY outcome")).all())
        assert orders == 5
        assert runs == {"fired": 5, "failed": 15}
    finally:
        p.db.dispose()


def test_refusal_through_the_api_is_409_with_the_message(tmp_path):
    from apps import create_app

    p = _platform("sqlite:///" + str(tmp_path / "api.db"))
    with p.db.begin() as conn:
        p.users.add(conn, "admin", "admin-pw", ["admin"])
    client = create_app({"TESTING": True, "PLATFORM": p}).test_client()
    token = client.post("/api/v1/auth/login", json={"username": "admin", "password": "admin-pw"}).get_json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    m = client.post("/api/v1/records/material", json={"name": "钢板", "on_hand": 1}, headers=h).get_json()
    first = client.post("/api/v1/records/order", json={"lines": [{"material": m["id"], "qty": 1}]}, headers=h)
    assert first.status_code == 201
    second = client.post("/api/v1/records/order", json={"lines": [{"material": m["id"], "qty": 1}]}, headers=h)
    assert second.status_code == 409
    assert second.get_json()["error"]["message"] == "物料 钢板 库存不足"
    p.db.dispose()
