"""The command line, as a user runs it: run.py check / migrate / demo / user / export / import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACK = os.path.join(ROOT, "definitions", "oms")


def test_check_ok_and_broken_pack_with_positions(cli, tmp_path):
    assert cli("check", PACK)[:2] == (0, f"{PACK}: ok\n")
    broken = tmp_path / "oms"
    shutil.copytree(PACK, broken)
    path = broken / "forms" / "product.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("type: integer", "type: nubmer", 1), encoding="utf-8")
    code, out, err = cli("check", str(broken))
    assert code == 1
    line = next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "nubmer" in t)
    col = path.read_text(encoding="utf-8").splitlines()[line - 1].index("nubmer") + 1
    assert f"{broken}/forms/product.yaml:{line}:{col}: field " in err
    assert "unknown type 'nubmer' (did you mean 'number'?)" in err
    assert err.strip().endswith(f"1 error(s) in {broken}")


def test_check_takes_sub_table_columns_in_roles(cli, tmp_path):
    """``lines.unit_price: hidden`` is a field permission; a column that does not exist is an
    error at its place, with a did-you-mean."""
    broken = tmp_path / "oms"
    shutil.copytree(PACK, broken)
    path = broken / "roles.yaml"
    text = path.read_text(encoding="utf-8")
    assert "lines.unit_price: hidden" in text
    path.write_text(text.replace("lines.amount: hidden", "lines.amont: hidden"), encoding="utf-8")
    code, _, err = cli("check", str(broken))
    assert code == 1
    line = next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "lines.amont" in t)
    assert (
        f"{broken}/roles.yaml:{line}:11: role 'warehouse': sub-table 'lines' of form 'sales_order' has no "
        "column 'amont' (did you mean 'lines.amount'?)" in err
    )


def test_demo_prints_users_database_url_and_is_idempotent(cli, db_url):
    code, out, _ = cli("demo")
    assert code == 0
    assert "oms 0.1.0: revision 1 published" in out
    assert "admin      admin123     admin" in out
    assert "buyer1     buyer123     customer" in out
    assert out.endswith(
        "next: python run.py serve, then open http://127.0.0.1:5000/login "
        "(the API is at http://127.0.0.1:5000/api/v1)\n"
    )
    where = out.splitlines()[-2]
    assert where.startswith("database: ") and where.endswith(" (DATABASE_URL chooses another)")
    if db_url.startswith("sqlite:///"):
        assert where.split()[1:4] == ["SQLite", "file", db_url[len("sqlite:///") :]]
    else:
        assert where.split()[1].startswith("postgresql+psycopg://")
    code, out, _ = cli("demo")
    assert code == 0 and "revision 1 unchanged" in out
    code, out, _ = cli("user", "list")
    assert out.split("\n")[0].split() == ["1", "admin", "admin"]


def test_user_add_and_unknown_role(cli):
    cli("migrate")
    code, out, _ = cli("user", "add", "li", "--role", "sales", "--password", "pw123456")
    assert code == 0 and out == "user li (id 1) with roles sales\n"
    code, _, err = cli("user", "add", "wu", "--role", "boss", "--password", "x")
    assert code == 1 and err.startswith(
        "unknown role(s): boss (known: admin, customer, director, finance, manager, sales, vip, warehouse)"
    )


def test_export_then_import_a_changed_pack(cli, tmp_path):
    cli("migrate")
    out_dir = tmp_path / "exported"
    code, out, _ = cli("export", "oms", str(out_dir))
    assert code == 0 and out.startswith("wrote ")
    product = out_dir / "forms" / "product.yaml"
    product.write_text(
        product.read_text(encoding="utf-8").replace(
            "fields:\n", "fields:\n  - name: barcode\n    type: text\n    label: {zh-CN: 条码, en: Barcode}\n", 1
        ),
        encoding="utf-8",
    )
    code, out, _ = cli("import", "oms", str(out_dir))
    assert code == 0
    assert out.splitlines() == ["oms 0.1.0: revision 2 published", "  add_column f_product.barcode"]


def test_help_for_every_command():
    for args in (["--help"], ["serve", "--help"], ["worker", "--help"], ["user", "add", "--help"]):
        proc = subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode == 0 and proc.stdout.startswith("usage: run.py")


def test_serve_listens_on_bind_or_on_host_and_port():
    from apps.server import bind_addresses

    assert bind_addresses(None, None, None) == ["127.0.0.1:5000"]  # the README's address
    assert bind_addresses(None, "0.0.0.0", 8000) == ["0.0.0.0:8000"]
    assert bind_addresses(None, "::1", None) == ["[::1]:5000"]
    assert bind_addresses(["unix:/run/lowcode.sock", "10.0.0.5:80"], None, None) == [
        "unix:/run/lowcode.sock",
        "10.0.0.5:80",
    ]
    proc = subprocess.run(
        [sys.executable, "run.py", "serve", "--bind", "127.0.0.1:5001", "--port", "5002"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert (proc.returncode, proc.stderr) == (1, "run.py serve: give --bind, or --host and --port, not both\n")


def test_check_compiles_the_rules_too(cli, tmp_path):
    broken = tmp_path / "oms"
    shutil.copytree(PACK, broken)
    path = broken / "rules" / "orders.rules"
    path.write_text(
        path.read_text(encoding="utf-8").replace('if status == "approved"', 'if statos == "approved"'), encoding="utf-8"
    )
    code, _, err = cli("check", str(broken))
    assert code == 1
    assert "rules/orders.rules:6:" in err and "unknown field 'statos'" in err and "did you mean 'status'" in err


def test_check_and_rules_check_print_table_gaps_overlaps_and_cycles_as_warnings(cli, tmp_path):
    pack = tmp_path / "oms"
    shutil.copytree(PACK, pack)
    table = pack / "rules" / "approval_route.decision.yaml"
    table.write_text(
        table.read_text(encoding="utf-8")
        .replace("default: {route: manager}\n", "")
        .replace("[-, '< 10000', 'webhook, api', auto]", "[-, '< 10000', 'webhook, api', manager]"),
        encoding="utf-8",
    )
    rules = pack / "rules" / "orders.rules"
    rules.write_text(
        rules.read_text(encoding="utf-8") + 'rule "加急"\n  when updated if remark is not empty\n'
        '  then set remark = remark + "!"\n',
        encoding="utf-8",
    )
    code, out, err = cli("check", str(pack))
    assert code == 0 and out == f"{pack}: ok, 7 warning(s)\n"
    lines = [line for line in err.splitlines() if ": warning: " in line]
    assert lines[0] == (f"{table}:10:1: warning: no row covers: amount in [50000..200000) (add a row or a default)")
    assert lines[5] == (
        f'{table}:13:5: warning: rows 1 and 3 overlap (tier = "A", amount < 10000, channel in ["api", "webhook"]) '
        "with different outputs; row 1 wins there (hit policy 'first') (if row 3 should win, move it above row 1)"
    )
    assert lines[6].startswith(
        "oms/rules/orders.rules:20:1: warning: rules trigger each other in a cycle: '加急' → '加急'"
    )
    assert "the loop guard stops each rule after one run per record" in lines[6]
    code, out, err2 = cli("rules", "check", str(pack))
    assert code == 0 and out == "ok: 4 rules, 7 warnings\n" and err2 == err
    # the pack as shipped: its approval route sets a field its condition does not read, no warning
    assert cli("rules", "check", PACK)[:3] == (0, "ok: 3 rules\n", "")
