"""Record validation: ours (compiled FormValidator) vs jsonschema, fastjsonschema, pydantic v2
and hand-written checks (the limit), on the same sales-order payloads.

    python bench/bench_validation.py [--quick]

A payload has 20 scalar fields, a nested customer object and 10 order lines; a third of
them are invalid in one of seven ways (a bad date, an unknown option, a negative price, a
zero quantity, a bad e-mail, a missing required field, an unknown field). Every contender
must give the same valid/invalid verdict on every payload. jsonschema and pydantic collect
all errors, fastjsonschema stops at the first (that is how it works). The cross-field
checks (``due_date >= order_date``, ``sum(lines.qty * lines.unit_price) <= credit_limit``)
are measured separately: ours (compiled expressions) vs hand-written. Contenders are measured
in interleaved rounds (best of 5 each), so a busy machine slows them alike.
The last line is one JSON object (see /work/shared/BENCH.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import random
import re
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Optional

from _common import machine  # noqa: E402  (bench/ is on the path: run as a script)
from validation_peers import (  # noqa: E402
    EMAIL,
    MONEY,
    OPTIONS,
    PERCENT,
    PHONE,
    fastjsonschema_validator,
    jsonschema_validator,
    pydantic_validator,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.definitions import load_pack_files  # noqa: E402
from engine.definitions.scopes import build_scopes  # noqa: E402
from engine.errors import ValidationError  # noqa: E402
from engine.expr import compile_expression  # noqa: E402
from engine.expr.types import ExprType  # noqa: E402
from engine.forms.validate import FormValidator  # noqa: E402

FORM = """\
name: sales_order
fields:
  - {name: po_number, type: text, required: true, max_length: 32}
  - {name: order_date, type: date, required: true}
  - {name: due_date, type: date}
  - {name: status, type: select, options: [draft, submitted, approved, shipped]}
  - {name: channel, type: select, options: [manual, api, excel, webhook]}
  - {name: currency, type: select, options: [CNY, USD, EUR]}
  - {name: priority, type: integer, min: 1, max: 5}
  - {name: discount, type: percent, min: 0, max: 1}
  - {name: freight, type: money, min: 0}
  - {name: credit_limit, type: money, min: 0}
  - {name: remark, type: textarea, max_length: 500}
  - {name: contact_email, type: email}
  - {name: contact_phone, type: phone}
  - {name: sales_rep, type: integer, min: 1}
  - {name: warehouse, type: select, options: [WH1, WH2, WH3]}
  - {name: urgent, type: boolean}
  - {name: payment_days, type: integer, min: 0, max: 180}
  - {name: incoterm, type: select, options: [EXW, FOB, CIF, DDP]}
  - {name: project, type: text, max_length: 64}
  - {name: region, type: text, max_length: 32}
  - name: customer
    type: group
    fields:
      - {name: code, type: text, required: true, max_length: 16}
      - {name: name, type: text, required: true, max_length: 200}
      - {name: tier, type: select, options: [A, B, C]}
      - {name: email, type: email}
  - name: lines
    type: table
    required: true
    fields:
      - {name: sku, type: text, required: true, max_length: 32}
      - {name: qty, type: integer, required: true, min: 1}
      - {name: unit_price, type: money, required: true, min: 0}
      - {name: discount, type: percent, min: 0, max: 1}
      - {name: note, type: text, max_length: 100}
checks:
  - {name: due_after_order, expr: due_date >= order_date, message: due date before order date}
  - {name: within_credit, expr: sum(lines.qty * lines.unit_price) <= credit_limit, message: over credit}
"""


# ---------------------------------------------------------------- data
def payloads(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        day = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(300))
        p: dict[str, Any] = {
            "po_number": f"PO-{i:06d}",
            "order_date": day.isoformat(),
            "due_date": (day + dt.timedelta(days=rng.randrange(-3, 30))).isoformat(),
            "status": rng.choice(OPTIONS["status"]),
            "channel": rng.choice(OPTIONS["channel"]),
            "currency": rng.choice(OPTIONS["currency"]),
            "priority": rng.randint(1, 5),
            "discount": f"0.{rng.randrange(100):02d}",
            "freight": f"{rng.randrange(500)}.50",
            "credit_limit": f"{rng.randrange(20000, 90000)}.00",
            "remark": "加急 " * rng.randrange(5),
            "contact_email": f"buyer{i}@example.com",
            "contact_phone": "0574-8888 8888",
            "sales_rep": rng.randint(1, 50),
            "warehouse": rng.choice(OPTIONS["warehouse"]),
            "urgent": rng.random() < 0.2,
            "payment_days": rng.choice([0, 30, 60, 90]),
            "incoterm": rng.choice(OPTIONS["incoterm"]),
            "project": f"P{i % 97}",
            "region": "浙江",
            "customer": {
                "code": f"C{i % 500:04d}",
                "name": "宁波海曙精密五金有限公司",
                "tier": rng.choice("ABC"),
                "email": "sales@haishu.example.cn",
            },
            "lines": [
                {
                    "sku": f"SKU-{rng.randrange(9999):04d}",
                    "qty": rng.randint(1, 500),
                    "unit_price": f"{rng.randrange(1, 200)}.{rng.randrange(100):02d}",
                    "discount": "0.05",
                    "note": "规格 M8",
                }
                for _ in range(10)
            ],
        }
        kind = i % 21
        if kind == 1:
            p["order_date"] = "2026-13-45"
        elif kind == 2:
            p["status"] = "lost"
        elif kind == 3:
            p["lines"][4]["unit_price"] = "-3.00"
        elif kind == 4:
            p["lines"][7]["qty"] = 0
        elif kind == 5:
            p["customer"]["email"] = "not-an-email"
        elif kind == 6:
            del p["po_number"]
        elif kind == 7:
            p["colour"] = "red"
        out.append(p)
    return out


# ---------------------------------------------------------------- contenders
def ours_validator() -> tuple[Callable[[Any], bool], Any, Any]:
    pack = load_pack_files({"pack.yaml": 'name: bench\nversion: "1.0.0"\n', "forms/sales_order.yaml": FORM}, "bench")
    form = pack.forms["sales_order"]
    validator = FormValidator(form)

    def run(p: Any) -> bool:
        try:
            validator.validate(p, locale="en")
            return True
        except ValidationError:
            return False

    scope = build_scopes(pack)["sales_order"]
    checks = [compile_expression(c.expr, scope, expect=ExprType.BOOLEAN).evaluate for c in form.checks]
    return run, validator, checks


_EMAIL, _PHONE, _MONEY, _PERCENT = re.compile(EMAIL), re.compile(PHONE), re.compile(MONEY), re.compile(PERCENT)
_TOP = {
    "po_number",
    "order_date",
    "due_date",
    "status",
    "channel",
    "currency",
    "priority",
    "discount",
    "freight",
    "credit_limit",
    "remark",
    "contact_email",
    "contact_phone",
    "sales_rep",
    "warehouse",
    "urgent",
    "payment_days",
    "incoterm",
    "project",
    "region",
    "customer",
    "lines",
}
_LINE = {"sku", "qty", "unit_price", "discount", "note"}
_CUST = {"code", "name", "tier", "email"}


def hand_written(p: Any) -> bool:
    """The limit: straight-line checks of the same rules, collecting every error."""
    errors: list[str] = []
    add = errors.append
    if not isinstance(p, dict):
        return False
    for k in p.keys() - _TOP:
        add(k)

    def text(k: str, n: int, obj: dict[str, Any] = p, required: bool = False) -> None:
        v = obj.get(k)
        if v is None:
            if required:
                add(k)
        elif not isinstance(v, str) or len(v) > n:
            add(k)

    def integer(k: str, lo: Optional[int], hi: Optional[int], obj: dict[str, Any] = p, required: bool = False) -> None:
        v = obj.get(k)
        if v is None:
            if required:
                add(k)
        elif type(v) is not int or (lo is not None and v < lo) or (hi is not None and v > hi):
            add(k)

    def regex(k: str, rx: Any, obj: dict[str, Any] = p) -> None:
        v = obj.get(k)
        if v is not None and (not isinstance(v, str) or not rx.match(v)):
            add(k)

    def date(k: str, required: bool = False) -> None:
        v = p.get(k)
        if v is None:
            if required:
                add(k)
            return
        try:
            dt.date.fromisoformat(v)
        except (TypeError, ValueError):
            add(k)

    def option(k: str, opts: list[str], obj: dict[str, Any] = p) -> None:
        v = obj.get(k)
        if v is not None and v not in opts:
            add(k)

    text("po_number", 32, required=True)
    date("order_date", True)
    date("due_date")
    for k in ("status", "channel", "currency", "warehouse", "incoterm"):
        option(k, OPTIONS[k])
    integer("priority", 1, 5)
    regex("discount", _PERCENT)
    regex("freight", _MONEY)
    regex("credit_limit", _MONEY)
    text("remark", 500)
    regex("contact_email", _EMAIL)
    regex("contact_phone", _PHONE)
    integer("sales_rep", 1, None)
    if p.get("urgent") is not None and type(p["urgent"]) is not bool:
        add("urgent")
    integer("payment_days", 0, 180)
    text("project", 64)
    text("region", 32)
    c = p.get("customer")
    if c is not None:
        if not isinstance(c, dict):
            add("customer")
        else:
            for k in c.keys() - _CUST:
                add(k)
            text("code", 16, c, True)
            text("name", 200, c, True)
            option("tier", OPTIONS["tier"], c)
            regex("email", _EMAIL, c)
    lines = p.get("lines")
    if not isinstance(lines, list) or not lines:
        add("lines")
    else:
        for line in lines:
            for k in line.keys() - _LINE:
                add(k)
            text("sku", 32, line, True)
            integer("qty", 1, None, line, True)
            v = line.get("unit_price")
            if v is None or not _MONEY.match(v):
                add("unit_price")
            regex("discount", _PERCENT, line)
            text("note", 100, line)
    return not errors


def hand_checks(r: dict[str, Any]) -> tuple[bool, bool]:
    due, order = r.get("due_date"), r.get("order_date")
    ok1 = due is not None and order is not None and due >= order
    total = sum(
        (
            ln["qty"] * ln["unit_price"]
            for ln in r["lines"]
            if ln.get("qty") is not None and ln.get("unit_price") is not None
        ),
        Decimal(0),
    )
    limit = r.get("credit_limit")
    return ok1, limit is not None and total <= limit


# ---------------------------------------------------------------- measuring
def best_rate(fn: Callable[[Any], Any], items: list[Any], repeat: int = 3) -> tuple[float, list[Any]]:
    best, out = float("inf"), []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = [fn(p) for p in items]
        best = min(best, time.perf_counter() - t0)
    return len(items) / best, out


def main(argv: Optional[list[str]] = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="300 payloads instead of 3,000")
    args = ap.parse_args(argv)
    data = payloads(300 if args.quick else 3000)
    ours, validator, checks = ours_validator()
    contenders: dict[str, Optional[Callable[[Any], bool]]] = {
        "ours": ours,
        "limit": hand_written,
        "jsonschema": jsonschema_validator(),
        "fastjsonschema": fastjsonschema_validator(),
        "pydantic": pydantic_validator(),
    }
    rates: dict[str, float] = {}
    verdicts: dict[str, list[Any]] = {}
    # The payloads and compiled validators the harness holds are nobody's garbage: freeze them,
    # so that a collection triggered by any contender's allocations does not walk them all.
    gc.collect()
    gc.freeze()
    for _ in range(5):  # interleaved: each round measures every contender once; the best round counts
        for name, fn in contenders.items():
            if fn is None:
                continue
            rate, verdicts[name] = best_rate(fn, data, repeat=1)
            rates[name] = max(rate, rates.get(name, 0.0))
    agree = all(v == verdicts["ours"] for v in verdicts.values())
    invalid = verdicts["ours"].count(False)
    print(f"validation of {len(data)} sales orders ({invalid} invalid), 20 fields + customer + 10 lines")
    print(f"{'contender':<16}{'validations/s':>15}{'ours is x':>11}")
    for name, rate in rates.items():
        print(f"{name:<16}{rate:>15,.0f}{rates['ours'] / rate:>11.2f}")
    print("agree:", agree)

    clean = [validator.validate(p) for p, ok in zip(data, verdicts["ours"]) if ok]
    ours_checks = lambda r: tuple(c(r) for c in checks)  # noqa: E731
    c_rate, c_out = best_rate(ours_checks, clean)
    h_rate, h_out = best_rate(hand_checks, clean)
    c_agree = c_out == h_out
    print(
        f"cross-field checks on {len(clean)} valid orders: ours {c_rate:,.0f}/s, hand-written {h_rate:,.0f}/s, "
        f"agree: {c_agree}"
    )
    summary = {
        "bench": "validation",
        "machine": machine(),
        "results": [
            {
                "case": "sales order shape (all errors)",
                "unit": "validations/s",
                "ours": rates["ours"],
                "limit": rates["limit"],
                "peers": {k: v for k, v in rates.items() if k not in ("ours", "limit")},
                "agree": agree,
                "payloads": len(data),
                "invalid": invalid,
            },
            {
                "case": "cross-field checks",
                "unit": "records/s",
                "ours": c_rate,
                "limit": h_rate,
                "peers": {},
                "agree": c_agree,
            },
        ],
    }
    print(json.dumps(summary, ensure_ascii=False))
    return summary


if __name__ == "__main__":
    main()
