"""Bulk import: header detection, both modes, upsert, sub-table rows, permissions, events."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

import pytest
import sqlalchemy as sa

from engine.errors import PermissionDenied
from engine.io.readers import read_rows
from engine.rules.log import runs_view
from tests.engine.io.conftest import make_xlsx

TITLE = "宁波海曙五金有限公司销售订单导入模板"
HEAD = ["客户", "客户采购单号", "下单日期", "交货日期", "币种", "产品", "数量", "单价", "备注"]


def _orders(records, ctx, user="admin"):
    return records.list_records(ctx(user), "sales_order", _q())["items"]


def _q(**params):
    from engine.listing import ListQuery

    return ListQuery.from_params({"limit": "500", **params})


def _count(platform, form="sales_order"):
    with platform.db.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(platform.definitions().tables.table(form))).scalar()


def test_merged_title_row_sub_table_lines_and_money_date_cells(tmp_path, records, ctx, seed, platform):
    rows = [
        HEAD,
        ["C001", "PO-1", dt.datetime(2026, 11, 2), dt.datetime(2026, 11, 20), "人民币", "P-100", 10, 12.5, "加急"],
        ["C001", "PO-1", dt.datetime(2026, 11, 2), dt.datetime(2026, 11, 20), "人民币", "P-200", 2, 30, "加急"],
        [None, None, None, None, None, "不锈钢合页", 5, 12.5, None],
        ["Shenzhen Bright Shop", "PO-2", dt.datetime(2026, 11, 3), None, "USD", "P-200", 1, 29.99, None],
    ]
    path = make_xlsx(tmp_path / "orders.xlsx", rows, title=TITLE, formats={2: "yyyy-mm-dd", 7: "¥#,##0.00"})
    report = records.import_file(ctx("admin"), "sales_order", path)
    assert report.ok, report.to_dict()
    assert (report.header_row, report.rows, report.records, report.created) == (2, 4, 2, 2)
    orders = sorted(_orders(records, ctx), key=lambda r: r["po_number"])
    assert [len(o["lines"]) for o in orders] == [3, 1]
    first = orders[0]
    assert first["customer"] == seed["c1"]["id"] and first["order_date"] == "2026-11-02"
    assert [(ln["product"], ln["qty"], ln["unit_price"]) for ln in first["lines"]] == [
        (seed["p1"]["id"], 10, "12.50"),
        (seed["p2"]["id"], 2, "30.00"),
        (seed["p1"]["id"], 5, "12.50"),
    ]
    assert orders[1]["currency"] == "USD" and orders[1]["customer"] == seed["c2"]["id"]
    assert first["number"].startswith("SO-202611-")
    hist = records.history(ctx("admin"), "sales_order", first["id"])
    assert hist["audit"][0]["source"] == "import" and hist["versions"][0]["version"] == 1
    assert len(hist["versions"][0]["data"]["lines"]) == 3


def _bad_file(tmp_path):
    rows = [
        HEAD,
        ["C001", "PO-1", "2026-11-02", None, None, "P-100", 10, 12.5, None],
        ["C001", "PO-2", "2026-13-45", None, None, "P-100", 0, 12.5, None],  # bad date, qty < 1
        ["C009", "PO-3", "2026-11-02", None, None, "P-100", 3, 12.5, None],  # no such customer
        ["C002", "PO-4", "2026-11-02", None, None, "P-200", 1, 30, None],
    ]
    return make_xlsx(tmp_path / "bad.xlsx", rows, title=TITLE)


def test_all_or_nothing_writes_nothing_and_reports_spreadsheet_rows(tmp_path, records, ctx, seed, platform):
    report = records.import_file(ctx("admin"), "sales_order", _bad_file(tmp_path))
    assert not report.ok and not report.written
    assert (report.created, report.failed, report.records) == (0, 2, 4)
    got = {(e.row, e.column, e.message) for e in report.errors}
    assert got == {
        (4, "下单日期", "必须是日期 (YYYY-MM-DD)"),
        (4, "数量", "不能小于 1"),
        (5, "客户", "找不到客户: C009"),
    }
    assert _count(platform) == 0


def test_skip_invalid_writes_the_good_rows_and_english_messages(tmp_path, records, ctx, seed, platform):
    report = records.import_file(ctx("admin", "en"), "sales_order", _bad_file(tmp_path), mode="skip-invalid")
    assert (report.created, report.failed, report.written) == (2, 2, True)
    assert {(e.row, e.column, e.message) for e in report.errors} >= {(4, "数量", "must be at least 1")}
    assert sorted(o["po_number"] for o in _orders(records, ctx)) == ["PO-1", "PO-4"]


def test_english_labels_csv_with_bom_and_upsert_by_key(tmp_path, records, ctx, seed, platform):
    path = tmp_path / "products.csv"
    path.write_bytes(
        "\ufeffSKU, Name ,Price,Stock,Unknown column\r\nP-100,不锈钢合页 新款,13.00,450,x\r\n"
        'P-300,Door stop,"1,200.00",7,y\r\n'.encode("utf-8")
    )
    report = records.import_file(ctx("admin"), "product", str(path), key="sku")
    assert report.ok, report.to_dict()
    assert (report.created, report.updated, report.unknown_columns) == (1, 1, ["Unknown column"])
    items = {p["sku"]: p for p in records.list_records(ctx("admin"), "product", _q())["items"]}
    assert items["P-100"]["name"] == "不锈钢合页 新款" and items["P-100"]["price"] == "13.00"
    assert items["P-100"]["version"] == 2 and items["P-100"]["cost"] == "7.20"  # untouched column kept
    assert items["P-300"]["price"] == "1200.00" and items["P-300"]["unit"] == "件"  # default applied


def test_gb18030_csv_and_field_names_as_headers(tmp_path, records, ctx, platform):
    path = tmp_path / "c.csv"
    path.write_bytes("code,name,tier\nC100,杭州恒达,A 级（重点）\n".encode("gb18030"))
    report = records.import_file(ctx("admin"), "customer", str(path))
    assert report.ok, report.to_dict()
    assert records.list_records(ctx("admin"), "customer", _q())["items"][0]["tier"] == "A"


def test_role_without_create_is_refused_and_readonly_columns_refused(tmp_path, records, ctx, seed):
    path = make_xlsx(tmp_path / "p.xlsx", [["物料编码", "品名"], ["P-9", "x"]])
    with pytest.raises(PermissionDenied):
        records.import_file(ctx("wh1"), "product", path)
    path = make_xlsx(
        tmp_path / "o.xlsx",
        [["客户", "下单日期", "状态", "产品", "数量", "单价"], ["C001", "2026-11-02", "已审批", "P-100", 1, 1]],
    )
    with pytest.raises(PermissionDenied) as exc:
        records.import_file(ctx("sales1"), "sales_order", path)
    assert set(exc.value.fields) == {"状态"}
    path = make_xlsx(
        tmp_path / "o2.xlsx",
        [["客户", "下单日期", "成本", "产品", "数量", "单价"], ["C001", "2026-11-02", 1, "P-100", 1, 1]],
    )
    with pytest.raises(PermissionDenied):  # hidden from sales
        records.import_file(ctx("sales1"), "sales_order", path)


def test_sales_user_import_owns_rows_and_upsert_cannot_reach_others(tmp_path, records, ctx, seed, platform):
    head = ["客户", "客户采购单号", "下单日期", "产品", "数量", "单价"]
    path = make_xlsx(tmp_path / "o.xlsx", [head, ["C001", "S-1", "2026-11-02", "P-100", 1, 1]])
    assert records.import_file(ctx("sales1"), "sales_order", path).created == 1
    assert _orders(records, ctx, "sales1")[0]["owner"] == platform.user_context("sales1").user_id


def test_rules_fire_once_per_imported_record(tmp_path, records, ctx, seed, platform):
    events = []
    platform.bus.subscribe(lambda conn, event: events.append((event.kind, event.form, event.source)))
    rows = [HEAD] + [["C001", f"PO-{i}", "2026-11-02", None, None, "P-100", 1, 1, None] for i in range(7)]
    path = make_xlsx(tmp_path / "o.xlsx", rows)
    report = records.import_file(ctx("admin"), "sales_order", path)
    assert report.created == 7
    assert [e for e in events if e[2] == "import"] == [("created", "sales_order", "import")] * 7
    # the OMS pack's approval-route rule then sets each order's route: part of the create (the
    # version stays 1), still an event of its own for the handlers that follow changes
    assert [e for e in events if e[2] != "import"] == [("updated", "sales_order", "rule")] * 7


def test_a_failing_handler_fails_only_its_record_in_skip_invalid(tmp_path, records, ctx, seed, platform, caplog):
    from engine.errors import ValidationError

    def refuse(conn, event):
        if event.kind == "created" and event.new and event.new.get("po_number") == "PO-3":
            raise ValidationError({"po_number": ["refused by a rule"]})

    platform.bus.subscribe(refuse)
    rows = [HEAD] + [["C001", f"PO-{i}", "2026-11-02", None, None, "P-100", 1, 1, None] for i in range(5)]
    with caplog.at_level(logging.ERROR, logger="lowcode.rules"):
        report = records.import_file(
            ctx("admin"), "sales_order", make_xlsx(tmp_path / "o.xlsx", rows), mode="skip-invalid"
        )
    assert (report.created, report.failed) == (4, 1)
    assert [(e.row, e.column, e.message) for e in report.errors] == [(5, "客户采购单号", "refused by a rule")]
    assert _count(platform) == 4
    assert [r.getMessage() for r in caplog.records] == []  # every rule run row was written
    # the chunk's first attempt, redone order by order, left no runs; each written order has its
    # runs once, and the refused one (its own savepoint rolled back) the same runs, marked so
    written = sorted(o["id"] for o in _orders(records, ctx))
    by_record: dict = {}
    with platform.db.connect() as conn:
        view = runs_view()
        for run in conn.execute(sa.select(view).where(view.c.form == "sales_order")).mappings():
            by_record.setdefault((run["record_id"], run["rolled_back"]), Counter())[
                (run["rule"], run["event"], run["outcome"])
            ] += 1
    kept = sorted(i for i, rolled in by_record if not rolled)
    refused = [i for i, rolled in by_record if rolled]
    assert kept == written and len(refused) == 1
    assert (
        by_record[(refused[0], True)]
        == by_record[(written[0], False)]
        == {  # the route's own set
            ("超出信用额度", "created", "skipped"): 1,
            ("审批路线", "created", "fired"): 1,
        }
    )  # wakes no rule: none reads it
    assert all(by_record[(i, False)] == by_record[(written[0], False)] for i in written)


def test_chunks_and_duplicate_keys_across_chunks(tmp_path, records, ctx, platform):
    from engine.io.importer import Importer

    rows = [["客户编码", "客户名称"]] + [[f"C{i:03}", f"客户{i}"] for i in range(12)] + [["C003", "again"]]
    defs = platform.definitions()
    imp = Importer(defs, platform.store(), platform.db, ctx("admin"), "customer", chunk=5)
    report = imp.run(read_rows(make_xlsx(tmp_path / "c.xlsx", rows)))
    assert report.created == 0 and report.failed == 1 and not report.written
    assert report.errors[0].row == 14 and report.errors[0].column == "客户编码"
    imp = Importer(defs, platform.store(), platform.db, ctx("admin"), "customer", chunk=5, key="code")
    report = imp.run(read_rows(make_xlsx(tmp_path / "c.xlsx", rows)))
    assert report.errors[0].message.startswith("键 C003 在文件中重复")


def test_all_or_nothing_reports_database_errors_in_every_chunk_after_the_first_error(
    tmp_path, records, ctx, seed, platform
):
    """A validation error in chunk 1 does not stop the unique column's checks in chunks 2 and 3."""
    from engine.io.importer import Importer

    codes = [
        "C100",
        "C101",
        "C102",
        "C103",
        "C104",  # chunk 1: row 3 has a bad tier
        "C105",
        "C001",
        "C107",
        "C108",
        "C109",  # chunk 2: C001 is in the database
        "C110",
        "C108",
        "C112",
    ]  # chunk 3: C108 again, new in chunk 2
    rows = [["客户编码", "客户名称", "客户等级"]] + [
        [c, f"客户{c}", "Z" if i == 1 else "A"] for i, c in enumerate(codes)
    ]
    imp = Importer(platform.definitions(), platform.store(), platform.db, ctx("admin"), "customer", chunk=5)
    report = imp.run(read_rows(make_xlsx(tmp_path / "c.xlsx", rows)))
    assert not report.written and (report.records, report.failed, report.created) == (13, 3, 0)
    assert [(e.row, e.column) for e in report.errors] == [(3, "客户等级"), (8, "客户编码"), (13, "客户编码")]
    assert report.errors[1].message == report.errors[2].message == "值重复: 已有客户编码相同的记录"
    assert _count(platform, "customer") == 2  # the seed's, nothing more


def test_all_or_nothing_reports_a_unique_index_after_a_validation_error(tmp_path, records, ctx, seed, platform):
    """sales_order's unique index (customer, po_number), against the database and within the file."""
    from engine.io.importer import Importer

    records.create(
        ctx("admin"),
        "sales_order",
        {
            "customer": seed["c1"]["id"],
            "po_number": "PO-OLD",
            "order_date": "2026-11-01",
            "lines": [{"product": seed["p1"]["id"], "qty": 1}],
        },
    )
    line = ["P-100", 1, 1, None]
    rows = [
        HEAD,
        ["C001", "PO-1", "2026-13-01", None, None, *line],  # chunk 1: a bad date
        ["C001", "PO-2", "2026-11-02", None, None, *line],
        ["C001", "PO-OLD", "2026-11-02", None, None, *line],  # chunk 2: in the database
        ["C002", "PO-X", "2026-11-02", None, None, *line],
        ["C001", "PO-3", "2026-11-02", None, None, *line],  # chunk 3
        ["C002", "PO-X", "2026-11-03", None, None, *line],
    ]  # new in chunk 2
    imp = Importer(platform.definitions(), platform.store(), platform.db, ctx("admin"), "sales_order", chunk=2)
    report = imp.run(read_rows(make_xlsx(tmp_path / "o.xlsx", rows)))
    assert not report.written and (report.records, report.failed) == (6, 3), report.to_dict()
    assert [(e.row, e.column) for e in report.errors] == [
        (2, "下单日期"),
        (4, "客户"),
        (4, "客户采购单号"),
        (7, "客户"),
        (7, "客户采购单号"),
    ]
    assert report.errors[-1].message == "值重复: 已有客户、客户采购单号相同的记录"
    assert _count(platform) == 1


def test_no_header_row_is_a_clear_error(tmp_path, records, ctx):
    from engine.errors import QueryError

    with pytest.raises(QueryError, match="找不到表头行"):
        records.import_file(ctx("admin"), "customer", make_xlsx(tmp_path / "x.xlsx", [["a", "b"], [1, 2]]))


def test_dry_run_reports_without_writing(tmp_path, records, ctx, seed, platform):
    rows = [HEAD, ["C001", "PO-1", "2026-11-02", None, None, "P-100", 1, 1, None]]
    report = records.import_file(ctx("admin"), "sales_order", make_xlsx(tmp_path / "o.xlsx", rows), dry_run=True)
    assert report.ok and report.created == 1 and not report.written
    assert _count(platform) == 0


def test_qualified_sub_table_headers_in_both_languages_and_upsert_with_lines(tmp_path, records, ctx, seed, platform):
    rows = [
        ["Customer", "po_number", "Order date", "lines.product", "Order lines.Quantity", "订单明细.单价"],
        ["C001", "K-1", "2026-11-02", "P-100", 1, 12.5],
        ["C001", "K-1", "2026-11-02", "P-200", 2, 30],
    ]
    report = records.import_file(ctx("admin", "en"), "sales_order", make_xlsx(tmp_path / "a.xlsx", rows))
    assert report.ok and report.created == 1, report.to_dict()
    assert report.columns == {
        "Customer": "customer",
        "po_number": "po_number",
        "Order date": "order_date",
        "lines.product": "lines.product",
        "Order lines.Quantity": "lines.qty",
        "订单明细.单价": "lines.unit_price",
    }
    rows[1][4], rows[2][4] = 5, 6
    rows.append(["C002", "K-2", "2026-11-03", "P-100", 1, 12.5])
    report = records.import_file(ctx("admin"), "sales_order", make_xlsx(tmp_path / "b.xlsx", rows), key="po_number")
    assert (report.updated, report.created) == (1, 1), report.to_dict()
    k1 = records.list_records(ctx("admin"), "sales_order", _q(po_number="K-1"))["items"][0]
    # version 1 created (the approval-route rule's route with it), 2 the upsert (the route stays)
    assert [ln["qty"] for ln in k1["lines"]] == [5, 6] and k1["version"] == 2
