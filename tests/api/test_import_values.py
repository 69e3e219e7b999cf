"""Values as a shop's data carries them, through the product: money and percent texts in
imported sheets, date-times without an offset (read in the pack's time zone) on every writer
(API, batch, import over HTTP, ``run.py data import``)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from typing import Any, Iterator

import openpyxl
import pytest

from apps import create_app
from engine.context import FixedClock
from engine.platform import Platform
from engine.service import Records
from engine.store.db import Database

ORDER = """\
name: order
label: {zh-CN: 订单, en: Order}
title: code
fields:
  - {name: code, type: text, label: {zh-CN: 单号, en: Code}, unique: true}
  - {name: amount, type: money, label: {zh-CN: 金额, en: Amount}, currency: CNY}
  - {name: price, type: decimal, label: {zh-CN: 单价, en: Price}}
  - {name: rate, type: percent, label: {zh-CN: 折扣率, en: Rate}}
  - {name: placed_at, type: datetime, label: {zh-CN: 下单时间, en: Placed at}}
  - name: lines
    label: {zh-CN: 明细, en: Lines}
    type: table
    fields:
      - {name: sku, type: text, label: {zh-CN: 货号, en: SKU}}
      - {name: shipped_at, type: datetime, label: {zh-CN: 发货时间, en: Shipped at}}
"""


def write_pack(root: Any, timezone: str) -> str:
    files = {
        "pack.yaml": f'name: till\nversion: "1.0.0"\nlabel: 收银\ntimezone: {timezone}\nlocale: zh-CN\n',
        "roles.yaml": "roles:\n  admin: {label: 管理员, superuser: true}\n",
        "forms/order.yaml": ORDER,
    }
    for rel, text in files.items():
        os.makedirs(root / os.path.dirname(rel), exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return str(root)


@pytest.fixture(params=["Asia/Shanghai", "America/New_York"])
def till(request: Any, db_url: str, tmp_path: Any) -> Iterator[dict[str, Any]]:
    """The pack published in one of two zones; an API client with admin's token."""
    p = Platform(Database(db_url), FixedClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc)), reload_seconds=0)
    p.publish(write_pack(tmp_path / "till", request.param))
    with p.db.begin() as conn:
        p.users.add(conn, "admin", "secret123", ["admin"])
    client = create_app({"TESTING": True, "PLATFORM": p}).test_client()
    token = client.post("/api/v1/auth/login", json={"username": "admin", "password": "secret123"}).get_json()["token"]
    yield {"zone": request.param, "client": client, "headers": {"Authorization": f"Bearer {token}"}}
    p.db.dispose()


#: 2026-11-08 14:30 as the wall time of each zone, in UTC (New York is on EST again since Nov 1)
LOCAL_1430 = {"Asia/Shanghai": "2026-11-08T06:30:00+00:00", "America/New_York": "2026-11-08T19:30:00+00:00"}


def _upload(till: dict[str, Any], name: str, data: bytes, lang: str = "en", **params: str) -> Any:
    return till["client"].post(
        "/api/v1/records/order/import",
        headers={**till["headers"], "Accept-Language": lang},
        data={"file": (io.BytesIO(data), name), **params},
        content_type="multipart/form-data",
    )


def _orders(till: dict[str, Any]) -> dict[str, dict[str, Any]]:
    resp = till["client"].get("/api/v1/records/order?limit=100", headers=till["headers"])
    out = {}
    for item in resp.get_json()["items"]:
        out[item["code"]] = (
            till["client"].get(f"/api/v1/records/order/{item['id']}", headers=till["headers"]).get_json()
        )
    return out


def _values(order: dict[str, Any]) -> tuple[Any, ...]:
    return order["amount"], order["price"], order["rate"]


def test_money_and_percent_texts_import_as_the_numbers_they_show(till: dict[str, Any]) -> None:
    sheet = (
        "单号,金额,单价,折扣率\n"
        'A,"¥1,234.50","$1,234.50",12%\n'
        'B,"￥1,234.50","1,234.50元",12.5 %\n'
        "C,RMB 1234.5,1234.5,0.125\n"
        'D,"(1,234.50)",-¥5,１２％\n'
    )
    resp = _upload(till, "orders.csv", sheet.encode("utf-8"))
    assert resp.status_code == 200, resp.get_json()
    orders = _orders(till)
    assert {code: _values(o) for code, o in orders.items()} == {
        "A": ("1234.50", "1234.5000", "0.1200"),
        "B": ("1234.50", "1234.5000", "0.1250"),
        "C": ("1234.50", "1234.5000", "0.1250"),
        "D": ("-1234.50", "-5.0000", "0.1200"),
    }


def test_an_xlsx_keeps_typed_numbers_and_reads_texts(till: dict[str, Any], tmp_path: Any) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["单号", "金额", "单价", "折扣率"])
    ws.append(["A", 1234.5, 0.5, 0.12])  # typed numbers (the rate a 0% cell)
    ws.append(["B", "¥1,234.50", "RMB 0.5", "12%"])  # the same, kept as text
    ws["B2"].number_format, ws["D2"].number_format = '"¥"#,##0.00', "0%"
    wb.save(tmp_path / "o.xlsx")
    resp = _upload(till, "o.xlsx", (tmp_path / "o.xlsx").read_bytes())
    assert resp.status_code == 200, resp.get_json()
    assert {code: _values(o) for code, o in _orders(till).items()} == {
        "A": ("1234.50", "0.5000", "0.1200"),
        "B": ("1234.50", "0.5000", "0.1200"),
    }


def test_a_text_that_is_no_number_is_an_error_on_its_row_and_column(till: dict[str, Any]) -> None:
    sheet = (
        "单号,金额,单价,折扣率\n"
        "A,abc,12%,x%\n"  # a percent is no money or decimal; x% is no percent
        "B,1.2万,¥1.5,¥12\n"  # no unit is guessed (万); a percent has no currency
        "C,5,5,5%\n"
    )
    resp = _upload(till, "orders.csv", sheet.encode("utf-8"), mode="skip-invalid")
    rep = resp.get_json()
    assert resp.status_code == 422 and (rep["created"], rep["failed"]) == (1, 2)
    assert [(e["row"], e["column"], e["message"]) for e in rep["errors"]] == [
        (2, "金额", "must be a number"),
        (2, "单价", "must be a number"),
        (2, "折扣率", "must be a number"),
        (3, "金额", "must be a number"),
        (3, "折扣率", "must be a number"),
    ]
    rep = _upload(till, "orders.csv", sheet.encode("utf-8"), lang="zh-CN").get_json()
    assert not rep["written"] and (rep["errors"][0]["column"], rep["errors"][0]["message"]) == ("金额", "必须是数字")
    assert list(_orders(till)) == ["C"]


def test_the_api_is_strict_about_money_and_percent_texts(till: dict[str, Any]) -> None:
    """JSON carries numbers: a currency or percent sign is refused by field (not guessed)."""
    client, headers = till["client"], {**till["headers"], "Accept-Language": "en"}
    resp = client.post(
        "/api/v1/records/order",
        headers=headers,
        json={"code": "A", "amount": "¥1,234.50", "price": "1,234.50", "rate": "12%"},
    )
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"] == {"amount": ["must be a number"], "rate": ["must be a number"]}
    resp = client.post("/api/v1/records/order/batch", headers=headers, json={"items": [{"code": "B", "rate": "12%"}]})
    assert resp.status_code == 422 and resp.get_json()["error"]["fields"] == {"items[0].rate": ["must be a number"]}
    resp = client.post(
        "/api/v1/records/order",
        headers=headers,
        json={"code": "C", "amount": 1234.5, "price": "1,234.50", "rate": "0.12"},
    )
    assert resp.status_code == 201 and _values(resp.get_json()) == ("1234.50", "1234.5000", "0.1200")


def test_a_date_time_without_an_offset_is_the_pack_zones_on_every_writer(till: dict[str, Any], tmp_path: Any) -> None:
    client, headers, want = till["client"], till["headers"], LOCAL_1430[till["zone"]]
    resp = client.post(
        "/api/v1/records/order",
        headers=headers,
        json={
            "code": "API",
            "placed_at": "2026-11-08 14:30",
            "lines": [{"sku": "x", "shipped_at": "2026-11-08T14:30"}],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    resp = client.post(
        "/api/v1/records/order/batch",
        headers=headers,
        json={
            "items": [
                {
                    "code": "BATCH",
                    "placed_at": "2026-11-08T14:30:00",
                    "lines": [{"sku": "x", "shipped_at": "2026-11-08 14:30"}],
                }
            ]
        },
    )
    assert resp.status_code == 200, resp.get_json()
    sheet = (
        "单号,下单时间,明细.货号,明细.发货时间\n"
        "CSV,2026-11-08 14:30,x,2026/11/8 14:30\n"
        "UTC,2026-11-08T14:30:00Z,x,2026-11-08T14:30:00+09:00\n"
    )  # an offset is kept
    assert _upload(till, "o.csv", sheet.encode("utf-8")).status_code == 200
    wb = openpyxl.Workbook()
    wb.active.append(["单号", "下单时间", "明细.货号", "明细.发货时间"])
    wb.active.append(["XLSX", dt.datetime(2026, 11, 8, 14, 30), "x", "2026年11月8日 14时30分"])  # a date cell, a text
    wb.save(tmp_path / "o.xlsx")
    assert _upload(till, "o.xlsx", (tmp_path / "o.xlsx").read_bytes()).status_code == 200
    got = {code: (o["placed_at"], o["lines"][0]["shipped_at"]) for code, o in _orders(till).items()}
    assert got == {
        "API": (want, want),
        "BATCH": (want, want),
        "CSV": (want, want),
        "XLSX": (want, want),
        "UTC": ("2026-11-08T14:30:00+00:00", "2026-11-08T05:30:00+00:00"),
    }
    resp = client.get("/api/v1/records/order", headers=headers, query_string={"placed_at": "2026-11-08 14:30"})
    assert sorted(o["code"] for o in resp.get_json()["items"]) == ["API", "BATCH", "CSV", "XLSX"]


def test_run_py_data_import_reads_texts_and_local_times(cli: Any, db_url: str, tmp_path: Any) -> None:
    pack = write_pack(tmp_path / "till", "America/New_York")
    assert cli("migrate", pack)[0] == 0
    assert cli("user", "add", "boss", "--role", "admin", "--password", "x12345678")[0] == 0
    path = tmp_path / "o.csv"
    path.write_text('单号,金额,折扣率,下单时间\nA,"¥1,234.50",12.5 %,2026-11-08 14:30\n', encoding="utf-8")
    code, out, err = cli("data", "import", "order", str(path))
    assert code == 0 and json.loads(out)["created"] == 1, (out, err)
    bad = tmp_path / "bad.csv"
    bad.write_text("单号,金额\nB,十二元\n", encoding="utf-8")
    code, out, _ = cli("data", "import", "order", str(bad), "--lang", "en")
    assert code == 1 and [(e["row"], e["column"], e["message"]) for e in json.loads(out)["errors"]] == [
        (2, "金额", "must be a number")
    ]
    platform = Platform(Database(db_url), reload_seconds=0)
    try:
        ctx = platform.user_context("boss")
        from engine.listing import ListQuery

        (order,) = Records(platform).list_records(ctx, "order", ListQuery.from_params({}))["items"]
    finally:
        platform.db.dispose()
    assert (order["amount"], order["rate"], order["placed_at"]) == ("1234.50", "0.1250", "2026-11-08T19:30:00+00:00")
