"""Two revisions of a small pack: revision 2 removes a field (``discount``, which revision 1's
formula and rule read) and a sub-table column (``lines.note``), and adds ``channel``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from apps import create_app
from engine.context import FixedClock
from engine.platform import Platform
from engine.store.db import Database

PACK = "tests/packs/quotes"
ROLES = """roles:
  admin:
    label: 管理员
    superuser: true
  clerk:
    label: 文员
    forms:
      quote:
        actions: [read, create, update]
        fields:
          price: readonly
          saving: hidden
"""
#: revision 2's roles: the clerk no longer sees the lines' weight
ROLES_2 = ROLES.replace("          saving: hidden\n", "          lines.weight: hidden\n")
FORM_1 = """name: quote
label: {zh-CN: 报价, en: Quote}
title: ref
fields:
  - {name: ref, type: text, label: {zh-CN: 编号, en: Reference}, required: true}
  - {name: qty, type: integer, label: {zh-CN: 数量, en: Quantity}, required: true, min: 1}
  - {name: price, type: money, label: {zh-CN: 单价, en: Price}, required: true}
  - {name: discount, type: decimal, label: {zh-CN: 折扣率, en: Discount rate}, required: true, min: 0, max: 1}
  - {name: amount, type: money, label: {zh-CN: 金额, en: Amount}, formula: "qty * price * (1 - discount)"}
  - {name: saving, type: money, label: {zh-CN: 优惠, en: Saving}, formula: "qty * price * discount", live: true}
  - name: lines
    type: table
    label: {zh-CN: 明细, en: Lines}
    fields:
      - {name: item, type: text, label: {zh-CN: 品名, en: Item}, required: true}
      - {name: weight, type: decimal, label: {zh-CN: 重量, en: Weight}}
      - {name: note, type: text, label: {zh-CN: 包装备注, en: Packing note}}
"""
#: revision 2: no discount (nor the live saving from it), no lines.note, a new channel
FORM_2 = (
    "\n".join(
        line
        for line in FORM_1.splitlines()
        if not any(f"name: {gone}," in line for gone in ("discount", "saving", "note"))
    )
    .replace('"qty * price * (1 - discount)"', '"qty * price"')
    .replace(
        "  - {name: amount,", "  - {name: channel, type: text, label: {zh-CN: 渠道, en: Channel}}\n  - {name: amount,"
    )
    + "\n"
)
RULES_1 = """on quote
rule "大折扣"
  when created or updated if discount > 0.3
  then flag red "大折扣 / big discount"
"""
RULES_2 = """on quote
rule "大单"
  when created or updated if amount > 1000
  then flag orange "大单 / big order"
"""


def files(revision: int) -> dict[str, str]:
    """The pack's files at ``revision`` (1 or 2)."""
    return {
        "pack.yaml": f'name: quotes\nversion: "1.{revision}.0"\nlabel: 报价\n',
        "roles.yaml": ROLES if revision == 1 else ROLES_2,
        "forms/quote.yaml": FORM_1 if revision == 1 else FORM_2,
        "rules/quote.rules": RULES_1 if revision == 1 else RULES_2,
    }


#: what revision 2 removes from data that holds values
DROPS = {"quote.discount": "drop", "quote.lines.note": "drop"}


def make(url: str, **options: Any) -> tuple[Platform, Any]:
    """A platform with revision 1 published and users admin and clerk; its Flask app."""
    clock = FixedClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc))
    p = Platform(Database(url), clock, reload_seconds=0, **options)
    p.publish(PACK, files(1))
    with p.db.begin() as conn:
        p.users.add(conn, "admin", "admin123", ["admin"])
        p.users.add(conn, "clerk", "clerk123", ["clerk"])
    return p, create_app({"TESTING": True, "PLATFORM": p, "SECRET_KEY": "revisions-test"})


def token(client: Any, username: str) -> dict[str, str]:
    resp = client.post("/api/v1/auth/login", json={"username": username, "password": f"{username}123"})
    assert resp.status_code == 200, resp.get_json()
    return {"Authorization": f"Bearer {resp.get_json()['token']}"}


QUOTE = {
    "ref": "Q-1",
    "qty": 10,
    "price": "2.00",
    "discount": "0.5",
    "lines": [{"item": "合页", "weight": "1.5", "note": "易碎 / fragile"}],
}
