"""run.py data import / data export / forms from-excel, as a user runs them."""

from __future__ import annotations

import json
import os

import yaml

from tests.engine.io.conftest import PACK, make_xlsx


def test_import_export_round_trip_as_named_users(cli, tmp_path):
    assert cli("migrate", PACK)[0] == 0
    assert cli("user", "add", "boss", "--role", "admin", "--password", "x12345678")[0] == 0
    assert cli("user", "add", "wh", "--role", "warehouse", "--password", "x12345678")[0] == 0
    path = make_xlsx(
        tmp_path / "p.xlsx",
        [["物料编码", "品名", "单价", "成本"], ["P-1", "螺丝", 0.5, 0.2], ["P-2", "螺母", 0.3, 0.1]],
        title="产品导入模板",
    )
    code, out, err = cli("data", "import", "product", path, "--dry-run")
    assert code == 0 and json.loads(out)["created"] == 2 and "not written" in err
    code, out, err = cli("data", "import", "product", path)
    assert code == 0 and json.loads(out)["written"] is True
    assert cli("data", "import", "product", path, "--user", "wh")[0] == 1  # no create right
    code, out, err = cli("data", "import", "product", path, "--key", "sku", "--mode", "skip-invalid")
    assert code == 0 and json.loads(out)["updated"] == 2
    target = tmp_path / "out.csv"
    code, out, _ = cli("data", "export", "product", str(target), "--user", "wh", "--filter", 'sku == "P-2"')
    assert code == 1  # no export right
    code, out, _ = cli("data", "export", "product", str(target), "--filter", 'sku == "P-2"', "--lang", "en")
    assert (code, out) == (0, f"wrote 1 rows to {target}\n")
    text = target.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("SKU,Name,Specification") and "螺母" in text
    bad = make_xlsx(tmp_path / "bad.xlsx", [["物料编码", "品名"], ["P-3", None]])
    code, out, _ = cli("data", "import", "product", bad)
    assert code == 1 and json.loads(out)["errors"][0]["row"] == 2


def test_forms_from_excel(cli, tmp_path):
    path = make_xlsx(tmp_path / "Price List.xlsx", [["SKU", "Price"], ["A", 1.5], ["B", 2]], formats={1: "¥#,##0.00"})
    code, out, _ = cli("forms", "from-excel", path)
    assert code == 0 and yaml.safe_load(out)["fields"][1]["type"] == "money"
    target = tmp_path / "f.yaml"
    assert cli("forms", "from-excel", path, "--name", "prices", "--out", str(target))[0] == 0
    assert yaml.safe_load(target.read_text(encoding="utf-8"))["name"] == "prices"
    assert cli("forms", "from-excel", os.path.join(tmp_path, "missing.xlsx"))[0] == 1


def test_all_or_nothing_import_reports_every_failing_row_across_chunks(cli, tmp_path):
    """1,100 customers, three chunks of 500: a bad tier in the first, then duplicates of a stored
    code (chunk 2) and of a code new in chunk 2 (chunk 3) are reported too; nothing is written."""
    assert cli("migrate", PACK)[0] == 0
    assert cli("user", "add", "boss", "--role", "admin", "--password", "x12345678")[0] == 0
    first = tmp_path / "first.csv"
    first.write_text("客户编码,客户名称\nC0001,宁波海曙五金\n", encoding="utf-8")
    assert cli("data", "import", "customer", str(first))[0] == 0
    lines = ["客户编码,客户名称,客户等级"] + [f"N{i:04},客户{i},A" for i in range(1, 1101)]
    lines[2] = "N0002,客户2,Z"  # spreadsheet row 3
    lines[599] = "C0001,又一个,A"  # row 600: stored by the first import
    lines[1099] = "N0699,重复,B"  # row 1100: the code of row 700, new in this file
    big = tmp_path / "customers.csv"
    big.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = cli("data", "import", "customer", str(big), "--lang", "en")
    report = json.loads(out)
    assert code == 1 and "not written" in err
    assert (report["records"], report["failed"], report["created"], report["written"]) == (1100, 3, 0, False)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(3, "tier"), (600, "code"), (1100, "code")]
    assert {e["message"] for e in report["errors"][1:]} == {"duplicate: a record with the same 客户编码 exists"}
    code, out, _ = cli("data", "export", "customer", str(tmp_path / "all.csv"))
    assert out == f"wrote 1 rows to {tmp_path / 'all.csv'}\n"
