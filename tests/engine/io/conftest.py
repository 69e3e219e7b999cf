"""Import/export fixtures: the OMS pack on a fresh database, users, and a few records."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest

from engine.context import FixedClock
from engine.platform import Platform
from engine.service import Records
from engine.store.db import Database

PACK = os.path.join(os.path.dirname(__file__), "..", "..", "..", "definitions", "oms")
USERS = {"admin": ["admin"], "sales1": ["sales"], "wh1": ["warehouse"]}


@pytest.fixture
def platform(db_url: str) -> Any:
    p = Platform(Database(db_url), FixedClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc)), reload_seconds=0)
    p.publish(PACK)
    with p.db.begin() as conn:
        for name, roles in USERS.items():
            p.users.add(conn, name, "secret123", roles)
    yield p
    p.db.dispose()


@pytest.fixture
def records(platform: Platform) -> Records:
    return Records(platform)


@pytest.fixture
def ctx(platform: Platform) -> Any:
    def make(user: str = "admin", locale: str = "zh-CN") -> Any:
        return _with_locale(platform.user_context(user), locale)

    return make


def _with_locale(c: Any, locale: str) -> Any:
    import dataclasses

    return dataclasses.replace(c, locale=locale)


@pytest.fixture
def seed(records: Records, ctx: Any) -> dict[str, Any]:
    admin = ctx("admin")
    return {
        "c1": records.create(admin, "customer", {"code": "C001", "name": "宁波海曙精密五金有限公司", "tier": "A"}),
        "c2": records.create(admin, "customer", {"code": "C002", "name": "Shenzhen Bright Shop", "tier": "B"}),
        "p1": records.create(
            admin, "product", {"sku": "P-100", "name": "不锈钢合页", "price": "12.50", "cost": "7.20", "stock": 500}
        ),
        "p2": records.create(
            admin, "product", {"sku": "P-200", "name": "Brass handle", "price": "30.00", "cost": "18.00", "stock": 80}
        ),
    }


def make_xlsx(
    path: Any,
    rows: list[list[Any]],
    *,
    title: str | None = None,
    formats: dict[int, str] | None = None,
    validation: tuple[str, str] | None = None,
) -> str:
    """An .xlsx like people make: optional merged title row, number formats by column index."""
    import openpyxl
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(r) for r in rows))
    for row in rows:
        ws.append(row)
    first = 2 if title else 1
    for col, fmt in (formats or {}).items():
        for r in range(first + 1, ws.max_row + 1):
            ws.cell(row=r, column=col + 1).number_format = fmt
    if validation:
        dv = DataValidation(type="list", formula1=validation[1], allow_blank=True)
        ws.add_data_validation(dv)
        dv.add(validation[0])
    wb.save(path)
    return str(path)
