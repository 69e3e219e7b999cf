"""The organisation from the command line (run.py org / delegate) and in a pack's demo data,
on this test's database (SQLite, or PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from engine import forms as _forms  # noqa: F401  (registers the field types a pack's forms load with)
from engine.definitions import load_pack_files, read_pack_files
from engine.errors import DefinitionErrors

OMS = Path(__file__).resolve().parents[3] / "definitions" / "oms"


def test_the_demo_installs_the_departments_and_the_chain_climbs_them(cli: Any) -> None:
    code, _, err = cli("demo")
    assert code == 0, err
    code, out, _ = cli("org", "dept", "list")
    assert code == 0
    assert out.splitlines() == [
        "   1 office (总经办 / General office)  head admin  members admin",
        "   2   sales (销售部 / Sales)  head sales1  members sales1, sales2",
        "   3   production (生产部 / Production)  head wh1  members wh1",
        "   4   finance (财务部 / Finance)  head admin",
    ]
    assert cli("org", "heads", "sales2")[1] == "sales2: sales1 -> admin\n"
    assert cli("org", "heads", "sales1", "--levels", "1")[1] == "sales1: admin\n"  # heads sales: skipped
    assert cli("org", "heads", "admin")[1] == "admin: no heads above\n"
    code, _, _ = cli("demo")  # a second install leaves the organisation alone
    assert code == 0 and len(cli("org", "dept", "list")[1].splitlines()) == 4


def test_departments_and_users_from_the_command_line(cli: Any) -> None:
    assert cli("demo")[0] == 0
    code, out, err = cli("org", "dept", "add", "east", "--zh", "华东区", "--parent", "sales", "--head", "sales2")
    assert (code, out, err) == (0, "department 5 east (华东区)  head sales2\n", "")
    code, out, _ = cli("org", "user-dept", "sales1", "east")
    assert (code, out) == (0, "sales1: in east\n")
    assert cli("org", "heads", "sales1", "--levels", "5")[1] == "sales1: sales2 -> admin\n"  # sales' head is sales1
    code, out, _ = cli("org", "dept", "set", "east", "--head", "-", "--en", "East")
    assert (code, out) == (0, "department 5 east (华东区 / East)  (no head)\n")
    assert cli("org", "user-dept", "sales1", "-")[1] == "sales1: in no department\n"

    code, _, err = cli("org", "dept", "add", "east")
    assert (code, err) == (1, "error: 已有名为 'east' 的部门\n")
    code, _, err = cli("org", "dept", "add", "west", "--parent", "sale", "--lang", "en")
    assert (code, err) == (1, "error: no department named 'sale' (sales?)\n")
    code, _, err = cli("org", "user-dept", "nobody", "east", "--lang", "en")
    assert (code, err) == (1, "error: no user named 'nobody'\n")
    code, _, err = cli("org", "dept", "set", "office", "--parent", "east", "--lang", "en")
    assert code == 1
    assert err == (
        "error: parent_id: 'east' is 'office' itself or one of its sub-departments: "
        "a department cannot sit under itself\n"
    )
    code, _, err = cli("org", "dept", "add", "x" * 70, "--lang", "en")
    assert (code, err) == (1, "error: name: must have at most 64 characters\n")


def test_delegations_from_the_command_line(cli: Any) -> None:
    assert cli("demo")[0] == 0
    code, out, err = cli(
        "delegate", "add", "sales1", "sales2", "--from", "2026-12-01", "--to", "2026-12-05", "--flow", "order_approval"
    )
    assert (code, err) == (0, "")
    assert out == "delegation 1 sales1 -> sales2  2026-12-01 00:00 .. 2026-12-06 00:00  order_approval\n"
    code, out, err = cli(
        "delegate", "add", "sales1", "wh1", "--from", "2026-12-05", "--to", "2026-12-09", "--lang", "en"
    )
    assert code == 1 and err == (
        "error: sales1 has delegated the flows order_approval to sales2 from 2026-12-01 00:00 to 2026-12-06 00:00 "
        "already (delegation 1): revoke it first or choose another time or other flows\n"
    )
    code, _, err = cli("delegate", "add", "sales1", "sales1", "--from", "2026-12-09", "--to", "2026-12-08")
    assert code == 1
    assert err == "error: to_id: 不能委托给自己\nerror: ends_at: 必须晚于开始时间 starts_at（2026-12-09 00:00）\n"
    code, _, err = cli("delegate", "add", "sales1", "wh1", "--from", "soon", "--to", "2026-12-08", "--lang", "en")
    assert (
        code == 1 and err == "error: starts_at: must be a date (YYYY-MM-DD) or a date and time (ISO 8601), not 'soon'\n"
    )
    assert cli("delegate", "add", "wh1", "sales1", "--from", "2026-12-01", "--to", "2026-12-02")[0] == 0
    code, out, _ = cli("delegate", "list", "--user", "sales2")
    assert out == "   1 sales1 -> sales2  2026-12-01 00:00 .. 2026-12-06 00:00  order_approval\n"
    assert len(cli("delegate", "list")[1].splitlines()) == 2
    code, out, _ = cli("delegate", "revoke", "1")
    assert code == 0 and out.startswith("revoked 1 sales1 -> sales2") and "  revoked 20" in out
    code, _, err = cli("delegate", "revoke", "1")
    assert (code, err) == (1, "error: 委托 1 已撤销\n")
    code, _, err = cli("delegate", "revoke", "9", "--lang", "en")
    assert (code, err) == (1, "error: delegation 9 not found\n")


def _errors(tmp_path: Path, departments: str) -> list[str]:
    root = tmp_path / "oms"
    shutil.copytree(OMS, root)
    data = root / "demo" / "data.yaml"
    text = data.read_text(encoding="utf-8")
    data.write_text(text[: text.index("departments:\n")] + departments, encoding="utf-8")
    try:
        load_pack_files(read_pack_files(root), "oms")
    except DefinitionErrors as exc:
        return [str(e).split("\n")[0].split("data.yaml:", 1)[1] for e in exc.errors]
    return []


def test_bad_demo_departments_are_named_with_their_place(tmp_path: Path) -> None:
    lines = (OMS / "demo" / "data.yaml").read_text(encoding="utf-8")
    first = lines[: lines.index("departments:\n")].count("\n") + 2  # the line of the first department
    errors = _errors(
        tmp_path,
        "departments:\n"
        "  - {name: sales, parent: office, head: sales3}\n"
        "  - {name: office, members: [sales1, wh2]}\n"
        "  - {name: sales, members: [sales1]}\n",
    )
    assert errors == [
        f"{first}:27: unknown parent department 'office': no earlier department has that name (list it before this one)",
        f"{first}:41: head 'sales3' is not a demo user (did you mean 'sales2'?)",
        f"{first + 1}:38: member 'wh2' is not a demo user (did you mean 'wh1'?)",
        f"{first + 2}:12: duplicate department 'sales'",
        f"{first + 2}:29: 'sales1' is a member of 'office' already: a user belongs to one department",
    ]
    assert _errors(tmp_path / "again", "departments:\n  - {name: sales, colour: red}\n") == [
        f"{first}:19: unknown property 'colour'"
    ]
