"""Channel ``shop_order``: a web shop's order JSON (WooCommerce's order webhook) as record fields.

The shop posts its order object (``id``, ``number``, ``status``, ``date_created``,
``currency``, ``total``, ``billing``, ``line_items``, ``customer_note``); this channel hands
the hook's rule these fields, each only when the rule's form has a field of that name:

==================  ==========================================================
``external_id``     the shop's order id, as text (``"4711"``): a key to upsert by
``number``          the order number shown to the customer
``status``          the shop's status (``processing``, ``on-hold``, ...)
``order_date``      the date part of ``date_created`` (``2026-11-22``)
``currency``        ``CNY``, ``EUR``, ...
``total``           the order total, as the shop wrote it (``"120.00"``)
``customer_email``  ``billing.email``
``customer_name``   ``billing.first_name billing.last_name`` (else ``billing.company``)
``note``            ``customer_note``
``lines``           one row per line item: ``sku``, ``name``, ``qty`` (``quantity``),
                    ``unit_price`` (``price``), each where the sub-table has the column
==================  ==========================================================
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.definitions.model import FieldSpec, FormSpec


class ShopOrder:
    """``to_record(order, form)``: the order's fields that ``form`` has."""

    def to_record(self, payload: Mapping[str, Any], form: FormSpec) -> dict[str, Any]:
        if "line_items" not in payload or not isinstance(payload["line_items"], list):
            raise ValueError("an order has a list 'line_items'")
        if payload.get("id") in (None, ""):
            raise ValueError("an order has an 'id'")
        billing = payload.get("billing") or {}
        if not isinstance(billing, Mapping):
            raise ValueError("'billing' is an object")
        name = " ".join(p for p in (billing.get("first_name"), billing.get("last_name")) if p)
        values: dict[str, Any] = {
            "external_id": str(payload["id"]),
            "number": _text(payload.get("number")),
            "status": payload.get("status"),
            "order_date": str(payload["date_created"])[:10] if payload.get("date_created") else None,
            "currency": payload.get("currency"),
            "total": payload.get("total"),
            "customer_email": billing.get("email"),
            "customer_name": name or billing.get("company"),
            "note": payload.get("customer_note") or None,
        }
        out = {k: v for k, v in values.items() if form.field(k) is not None}
        lines = form.field("lines")
        if lines is not None and lines.fields:
            out["lines"] = [_line(item, lines) for item in payload["line_items"]]
        return out


def _text(value: Any) -> Any:
    return str(value) if value is not None else None


def _line(item: Any, table: FieldSpec) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise ValueError("each of 'line_items' is an object")
    row = {
        "sku": item.get("sku"),
        "name": item.get("name"),
        "qty": item.get("quantity"),
        "unit_price": _text(item.get("price")),
    }
    columns = {f.name for f in table.fields}
    return {k: v for k, v in row.items() if k in columns}
