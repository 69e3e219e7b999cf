"""SQL statements per request: a sales order with ten lines, created and changed over the API.

Every statement the database is sent (``before_cursor_execute`` on the platform's engine,
``BEGIN`` included) is counted for the whole request: the token, the permissions, the write
pipeline (validation, guards, formulas and lookups, the row and its lines, the journal, the
rules that fire, their log) and the answer. The definitions were checked within the reload
interval (a server asks the database whether another process published once a second, not
once per request). On failure the message lists the statements that ran.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import sqlalchemy as sa

from engine.rules.log import rule_runs, write_now
from engine.store.writer import Writer
from tests.api.conftest import order_body

#: what starting the OMS order approval flow on a created order writes (issue 18): the
#: instance, its first task, the task's due timer, its history (one executemany)
FLOW_START = 4
#: the most statements one request may send (issue 17: "at most 12"), plus the flow's start
CREATE_MOST = 12 + FLOW_START
#: a PATCH reads the order (2) and replaces its lines (DELETE, INSERT) besides
PATCH_MOST = 14


@contextlib.contextmanager
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    """Every statement sent through ``engine`` inside the block, as one line each."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append(("executemany " if executemany else "") + " ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def listing(sent: list[str]) -> str:
    return "\n".join(f"{i:3}. {s[:160]}" for i, s in enumerate(sent, 1))


def ten_lines(seed: dict[str, Any]) -> dict[str, Any]:
    body = order_body(seed["c1"]["id"], seed["p1"]["id"])
    body["lines"] = [
        {"product": seed["p1" if i % 2 else "p2"]["id"], "qty": i + 1, "unit_price": "12.50"} for i in range(10)
    ]
    return body


def test_create_and_patch_of_a_ten_line_order_stay_within_their_statements(client, auth, seed, platform):
    platform.active.reload_seconds = 3600
    sales = auth("sales1")
    warm = client.post("/api/v1/records/sales_order", headers=sales, json=ten_lines(seed))
    assert warm.status_code == 201, warm.get_json()

    with statements(platform.db.engine) as sent:
        resp = client.post("/api/v1/records/sales_order", headers=sales, json=ten_lines(seed))
    assert resp.status_code == 201, resp.get_json()
    order = resp.get_json()
    assert len(sent) <= CREATE_MOST, f"{len(sent)} statements for one create:\n{listing(sent)}"
    # what the answer says is what was stored: the lines, the formulas, the rule's decision
    assert [line["qty"] for line in order["lines"]] == list(range(1, 11))
    # unit prices are looked up from the products (12.50 and 30.00): 30 x 12.50 + 25 x 30.00
    assert order["total"] == "1125.00" and order["route"] and order["version"] == 1
    assert client.get(f"/api/v1/records/sales_order/{order['id']}", headers=sales).get_json() == order
    # read once: the order and its lines are never selected back, the token once
    assert not [s for s in sent if s.startswith(("SELECT f_sales_order.", "SELECT f_sales_order__lines."))], listing(
        sent
    )
    assert sum("FROM lc_token" in s for s in sent) == 1, listing(sent)
    assert (
        sum(
            s.startswith("executemany INSERT INTO f_sales_order__lines")
            or s.startswith("INSERT INTO f_sales_order__lines")
            for s in sent
        )
        == 1
    ), listing(sent)

    lines = [{**line, "qty": line["qty"] + 1} for line in order["lines"]]
    with statements(platform.db.engine) as sent:
        resp = client.patch(
            f"/api/v1/records/sales_order/{order['id']}",
            headers={**sales, "If-Match": f'"{order["version"]}"'},
            json={"remark": "加急", "lines": lines},
        )
    assert resp.status_code == 200, resp.get_json()
    changed = resp.get_json()
    assert len(sent) <= PATCH_MOST, f"{len(sent)} statements for one update:\n{listing(sent)}"
    assert changed["version"] == 2 and changed["total"] == "1337.50"
    assert [line["id"] for line in changed["lines"]] == [line["id"] for line in order["lines"]]
    assert client.get(f"/api/v1/records/sales_order/{order['id']}", headers=sales).get_json() == changed
    assert sum(s.startswith(("SELECT f_sales_order.", "SELECT f_sales_order__lines.")) for s in sent) == 2, listing(
        sent
    )  # the order and its lines, read once (locked on PostgreSQL)


def test_a_create_with_an_idempotency_key_adds_its_claim_and_its_answer(client, auth, seed, platform):
    platform.active.reload_seconds = 3600
    sales = {**auth("sales1"), "Idempotency-Key": "order-1"}
    with statements(platform.db.engine) as sent:
        first = client.post("/api/v1/records/sales_order", headers=sales, json=ten_lines(seed))
    assert first.status_code == 201, first.get_json()
    assert len(sent) <= CREATE_MOST + 2, f"{len(sent)} statements:\n{listing(sent)}"
    with statements(platform.db.engine) as sent:
        again = client.post("/api/v1/records/sales_order", headers=sales, json=ten_lines(seed))
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert not [s for s in sent if "f_sales_order" in s], listing(sent)


def test_what_the_transaction_keeps_goes_with_a_savepoint_that_rolls_back(platform, seed):
    """A record kept after a write is what a read gives, also once a savepoint undid a change."""
    store, ctx = platform.store(), platform.user_context("admin")
    writer = Writer.user(ctx)
    cid = seed["c2"]["id"]
    with platform.db.begin() as conn:
        before = store.get(conn, "customer", cid)
        with contextlib.suppress(RuntimeError), conn.begin_nested():
            store.update(conn, ctx, "customer", cid, {"contact": "王"}, writer=writer)
            assert store.get(conn, "customer", cid)["contact"] == "王"
            raise RuntimeError("undo")
        after = store.get(conn, "customer", cid)
        assert after["contact"] == before["contact"] and after["version"] == before["version"]
        order = store.create(conn, ctx, "sales_order", ten_lines(seed), writer=writer)
        kept = store.get(conn, "sales_order", order["id"])
        read = dict(
            conn.execute(
                sa.select(store.tables.table("sales_order")).where(
                    store.tables.table("sales_order").c.id == order["id"]
                )
            )
            .mappings()
            .one()
        )
        assert {k: kept[k] for k in read} == read  # as written, rule amendment included
        kept["lines"].clear()  # a copy: the caller's changes stay its own
        assert len(store.get(conn, "sales_order", order["id"])["lines"]) == 10


def test_rule_runs_logged_inside_a_change_that_rolls_back_after_all_are_kept(platform, seed):
    """The runs a change logged inside its transaction are written again, marked rolled back,
    when the transaction rolls back after that."""
    store, ctx = platform.store(), platform.user_context("admin")
    with contextlib.suppress(RuntimeError), platform.db.begin() as conn:
        order = store.create(conn, ctx, "sales_order", ten_lines(seed), writer=Writer.user(ctx))
        write_now(conn)
        assert (
            conn.execute(
                sa.select(sa.func.count()).select_from(rule_runs).where(rule_runs.c.record_id == order["id"])
            ).scalar_one()
            >= 1
        )
        raise RuntimeError("the change fails after its runs were logged")
    with platform.db.connect() as conn:
        runs = conn.execute(
            sa.select(rule_runs.c.rule, rule_runs.c.rolled_back).where(rule_runs.c.record_id == order["id"])
        ).all()
        assert runs and all(r.rolled_back for r in runs), runs
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(store.tables.table("sales_order"))
                .where(store.tables.table("sales_order").c.id == order["id"])
            ).scalar_one()
            == 0
        )
