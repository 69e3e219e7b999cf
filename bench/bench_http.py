"""HTTP create throughput: the platform's ``POST /api/v1/records/sales_order`` vs a bare endpoint.

    python bench/bench_http.py [--quick] [--orders N] [--repeat R]

Both contenders are Flask applications served the same way, by a threaded werkzeug server
on a localhost port (HTTP/1.1, keep-alive), and get the same requests from one client over
one connection: a sales order with 10 lines, as JSON.

- ours: the order-management pack (definitions/oms) published on a fresh database; the
  client is a ``sales`` user with a bearer token. Every request runs the whole path: the
  token, the form and field permissions, validation, the write guards, the formulas and
  lookups (each line's unit price is looked up from its product), the auto number, the
  order row and its 10 lines, the audit row and version, the rules (a credit-limit flag, the
  approval route from a decision table, which amends the order), their log, the row
  permission check and the answer with the record's flags;
- limit: a bare Flask + SQLAlchemy Core endpoint that parses the JSON, computes the line
  amounts and the total and inserts the order row and its 10 line rows into two equivalent
  tables in one transaction (no auth, no validation, no journal).

Both write to the same kind of database: an SQLite file (WAL), or PostgreSQL when
``DATABASE_URL`` is set (a fresh schema each). They must agree on the rows written (orders
and lines). Rates are the best of ``--repeat`` (3) runs of ``--orders`` requests each,
interleaved. The last line is one JSON object (see /work/shared/BENCH.md).
"""

from __future__ import annotations

import argparse
import contextlib
import decimal
import http.client
import json
import logging
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

from _common import machine  # noqa: E402  (bench/ is on the path: run as a script)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from apps import create_app  # noqa: E402
from engine.platform import Platform  # noqa: E402
from engine.service import Records  # noqa: E402
from engine.store.db import Database, normalise_url  # noqa: E402

PACK = str(Path(__file__).resolve().parents[1] / "definitions" / "oms")
LINES = 10
WARM = 5


@contextlib.contextmanager
def fresh_database(work: str, name: str) -> Iterator[str]:
    """An empty database: an SQLite file under ``work``, or a new schema of ``DATABASE_URL``."""
    base = os.environ.get("DATABASE_URL", "")
    if not base:
        yield "sqlite:///" + os.path.join(work, f"{name}.db")
        return
    base = normalise_url(base)
    schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client reuses its connection
    disable_nagle_algorithm = True  # TCP_NODELAY: no delayed-ACK stall between headers and body

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextlib.contextmanager
def served(app: Flask) -> Iterator[int]:
    """``app`` on a threaded werkzeug server on a free localhost port, until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join()


class Client:
    """One keep-alive connection posting orders to ``path``."""

    def __init__(self, port: int, path: str, headers: dict[str, str]) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.path, self.headers = path, {"Content-Type": "application/json", **headers}

    def post(self, body: bytes) -> dict[str, Any]:
        self.conn.request("POST", self.path, body=body, headers=self.headers)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 201:
            raise SystemExit(f"POST {self.path}: {resp.status} {data[:300]!r}")
        return json.loads(data)  # type: ignore[no-any-return]

    def close(self) -> None:
        self.conn.close()


def order_json(customer: int, products: list[int]) -> bytes:
    lines = [{"product": products[i % len(products)], "qty": i + 1, "unit_price": "12.50"} for i in range(LINES)]
    return json.dumps(
        {"customer": customer, "order_date": "2026-11-02", "due_date": "2026-11-20", "lines": lines}
    ).encode()


# ---- ours ---------------------------------------------------------------------------------


def prepare_ours(url: str) -> tuple[Flask, dict[str, str], bytes, Callable[[], dict[str, int]], Platform]:
    """The OMS pack on a fresh database, a sales user's token, two products and a customer."""
    platform = Platform(Database(url))  # the served default: definitions checked once a second
    platform.publish(PACK)
    with platform.db.begin() as conn:
        platform.users.add(conn, "admin", "admin123", ["admin"])
        sales = platform.users.add(conn, "sales1", "sales123", ["sales"])
        token, _ = platform.users.issue_token(conn, sales, label="bench")
    admin, records = platform.user_context("admin"), Records(platform)
    customer = records.create(admin, "customer", {"code": "C001", "name": "宁波海曙精密五金有限公司", "tier": "A"})
    products = [
        records.create(
            admin, "product", {"sku": f"P-{i}", "name": f"产品 {i}", "price": price, "cost": "7.20", "stock": 500}
        )["id"]
        for i, price in ((100, "12.50"), (200, "30.00"))
    ]

    def rows() -> dict[str, int]:
        with platform.db.connect() as conn:
            return {
                "orders": conn.execute(sa.text("SELECT count(*) FROM f_sales_order")).scalar_one(),
                "lines": conn.execute(sa.text("SELECT count(*) FROM f_sales_order__lines")).scalar_one(),
            }

    app = create_app({"PLATFORM": platform})
    return app, {"Authorization": f"Bearer {token}"}, order_json(customer["id"], products), rows, platform


# ---- the limit ------------------------------------------------------------------------------


def prepare_limit(url: str) -> tuple[Flask, dict[str, str], bytes, Callable[[], dict[str, int]], Database]:
    """A bare Flask + SQLAlchemy Core endpoint over two plain tables."""
    db = Database(url)
    meta = sa.MetaData()
    money = sa.Numeric(18, 2)
    orders = sa.Table(
        "bare_order",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer", sa.Integer, nullable=False),
        sa.Column("order_date", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date),
        sa.Column("status", sa.String(32)),
        sa.Column("currency", sa.String(8)),
        sa.Column("total", money),
        sa.Column("created_at", sa.DateTime(timezone=True)),
    )
    lines = sa.Table(
        "bare_order_line",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("bare_order.id"), nullable=False, index=True),
        sa.Column("pos", sa.Integer, nullable=False),
        sa.Column("product", sa.Integer, nullable=False),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("unit_price", money),
        sa.Column("amount", money),
    )
    meta.create_all(db.engine)
    app = Flask("bare")
    cent = decimal.Decimal("0.01")

    @app.post("/orders")
    def create() -> Any:
        body = request.get_json()
        items = []
        for pos, line in enumerate(body["lines"]):
            price = decimal.Decimal(line["unit_price"])
            items.append(
                {
                    "pos": pos,
                    "product": int(line["product"]),
                    "qty": int(line["qty"]),
                    "unit_price": price,
                    "amount": (price * int(line["qty"])).quantize(cent),
                }
            )
        total = sum((i["amount"] for i in items), decimal.Decimal(0))
        with db.begin() as conn:
            order_id = conn.execute(
                orders.insert()
                .values(
                    customer=int(body["customer"]),
                    order_date=_date(body["order_date"]),
                    due_date=_date(body.get("due_date")),
                    status="draft",
                    currency="CNY",
                    total=total,
                    created_at=sa.func.now(),
                )
                .returning(orders.c.id)
            ).scalar_one()
            conn.execute(lines.insert(), [{**i, "parent_id": order_id} for i in items])
        return jsonify({"id": order_id, "total": str(total), "lines": len(items)}), 201

    def rows() -> dict[str, int]:
        with db.connect() as conn:
            return {
                "orders": conn.execute(sa.select(sa.func.count()).select_from(orders)).scalar_one(),
                "lines": conn.execute(sa.select(sa.func.count()).select_from(lines)).scalar_one(),
            }

    return app, {}, order_json(1, [1, 2]), rows, db


def _date(text: Any) -> Any:
    import datetime as dt

    return dt.date.fromisoformat(text) if text else None


# ---- the run --------------------------------------------------------------------------------


def statements_of(engine: sa.Engine, fn: Callable[[], Any]) -> int:
    """How many statements ``fn`` sends through ``engine``."""
    sent = [0]

    def count(*_: Any) -> None:
        sent[0] += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return sent[0]


def main(argv: Any = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="40 orders a run instead of 400")
    ap.add_argument("--orders", type=int, help="orders per run (default 400; 40 with --quick)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    n = args.orders or (40 if args.quick else 400)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    kind = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
    with tempfile.TemporaryDirectory() as work, contextlib.ExitStack() as stack:
        ours_app, ours_headers, ours_body, ours_rows, platform = prepare_ours(
            stack.enter_context(fresh_database(work, "ours"))
        )
        stack.callback(platform.db.dispose)
        limit_app, limit_headers, limit_body, limit_rows, limit_db = prepare_limit(
            stack.enter_context(fresh_database(work, "limit"))
        )
        stack.callback(limit_db.dispose)
        ours = Client(stack.enter_context(served(ours_app)), "/api/v1/records/sales_order", ours_headers)
        limit = Client(stack.enter_context(served(limit_app)), "/orders", limit_headers)
        stack.callback(ours.close)
        stack.callback(limit.close)
        for _ in range(WARM):
            ours.post(ours_body)
            limit.post(limit_body)
        per_request = {
            "ours": statements_of(platform.db.engine, lambda: ours.post(ours_body)),
            "limit": statements_of(limit_db.engine, lambda: limit.post(limit_body)),
        }
        best = {"ours": float("inf"), "limit": float("inf")}
        for _ in range(args.repeat):  # interleaved, so that both see the same machine load
            for name, client, body in (("ours", ours, ours_body), ("limit", limit, limit_body)):
                t0 = time.perf_counter()
                for _ in range(n):
                    client.post(body)
                best[name] = min(best[name], time.perf_counter() - t0)
        posted = WARM + 1 + n * args.repeat
        rows = {"ours": ours_rows(), "limit": limit_rows()}
    expected = {"orders": posted, "lines": posted * LINES}
    agree = rows["ours"] == rows["limit"] == expected
    rate = {k: n / v for k, v in best.items()}
    ratio = rate["ours"] / rate["limit"]
    print(
        f"HTTP create: POST an order with {LINES} lines, {n} per run, best of {args.repeat} "
        f"({kind}, threaded werkzeug on localhost, one keep-alive client)"
    )
    print(f"{'contender':<44} {'orders/s':>9} {'ms/order':>9} {'SQL/order':>10} {'orders':>7} {'lines':>7}")
    for name, label in (
        ("ours", "ours: POST /api/v1/records/sales_order"),
        ("limit", "limit: bare Flask + SQLAlchemy endpoint"),
    ):
        print(
            f"{label:<44} {rate[name]:>9,.0f} {1000 / rate[name]:>9.2f} {per_request[name]:>10} "
            f"{rows[name]['orders']:>7,} {rows[name]['lines']:>7,}"
        )
    print(f"ours / limit: {ratio:.2f}   (target >= 0.50)   agree: {agree}")
    result = {
        "bench": "http",
        "machine": machine(database=kind, server="werkzeug threaded, HTTP/1.1 keep-alive, 1 client"),
        "results": [
            {
                "case": f"POST sales_order, {LINES} lines",
                "unit": "orders/s",
                "ours": round(rate["ours"], 1),
                "limit": round(rate["limit"], 1),
                "ratio": round(ratio, 3),
                "peers": {},
                "agree": agree,
                "rows": rows,
                "statements": per_request,
            },
        ],
    }
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
