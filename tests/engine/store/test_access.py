"""Expressions evaluated against stored records: link paths and cross-form aggregates."""

from __future__ import annotations

import os

from engine.context import FixedClock
from engine.expr import compile_expression
from engine.expr.types import ExprType
from engine.platform import Platform
from engine.service import Records
from engine.store.access import ConnAccess
from engine.store.db import Database

PACK = os.path.join(os.path.dirname(__file__), "..", "..", "..", "definitions", "oms")


def test_link_paths_and_aggregates_read_the_database(db_url):
    platform = Platform(Database(db_url), FixedClock(), reload_seconds=0)
    platform.publish(PACK)
    ctx = platform.system_context()
    records = Records(platform)
    cust = records.create(ctx, "customer", {"code": "C1", "name": "甲", "tier": "A"})
    prod = records.create(ctx, "product", {"sku": "P1", "name": "件", "price": "2.00"})
    order = None
    for po in ("X1", "X2"):
        order = records.create(
            ctx,
            "sales_order",
            {
                "customer": cust["id"],
                "order_date": "2026-11-02",
                "po_number": po,
                "lines": [{"product": prod["id"], "qty": 3, "unit_price": "2.00"}],
            },
        )
    defs = platform.definitions()
    scope = defs.scopes["sales_order"]
    tier = compile_expression('customer.tier == "A"', scope, expect=ExprType.BOOLEAN)
    count = compile_expression("count(sales_order where customer == this.customer)", scope)
    lines = compile_expression("sum(lines.qty * lines.unit_price)", scope)
    with platform.db.connect() as conn:
        stored = platform.store().get(conn, "sales_order", order["id"])
        access = ConnAccess(conn, platform.store())
        assert tier.evaluate(stored, ctx, data=access) is True
        assert count.evaluate(stored, ctx, data=access) == 2
        assert lines.evaluate(stored, ctx, data=access) == 6
    platform.db.dispose()
