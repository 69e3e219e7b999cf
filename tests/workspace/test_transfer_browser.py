"""Import and export in a real browser, on the order-management pack: an .xlsx made here is
uploaded on the import page (its report read back by row and column), then the list is
downloaded with its export button and read with the platform's own reader."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright")
pytest.importorskip("pytest_playwright")

import openpyxl  # noqa: E402
from playwright.sync_api import Browser, expect  # noqa: E402

from engine.io.readers import read_rows  # noqa: E402
from tests.workspace.browsing import CHROMIUM, DESKTOP, signed_in  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="apt-get install chromium first")


def customers_xlsx(path: Path) -> Path:
    """A sheet as a shop keeps it: a title over merged cells, then the header and three customers."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户名单 2026"])
    ws.merge_cells("A1:D1")
    ws.append(["客户编码", "客户名称", "简称", "客户等级"])
    ws.append(["C001", "宁波海曙精密五金有限公司", "海曙精密", "A 级（重点）"])  # already there: updated by code
    ws.append(["C900", "杭州新客户贸易有限公司", "杭州新客", "B"])
    ws.append([None, "没有编码的客户", None, "C"])  # row 5: the code is required
    wb.save(path)
    return path


def test_import_then_export_customers(browser: Browser, oms_app: Any, tmp_path: Path) -> None:
    base, platform, _ = oms_app
    sheet = customers_xlsx(tmp_path / "客户.xlsx")
    with signed_in(browser, base, "/w/customer", "admin", "admin123", **DESKTOP) as page:
        page.get_by_role("link", name="导入").click()
        expect(page.locator("h1")).to_have_text("导入客户")
        page.set_input_files("#f-file", str(sheet))
        page.select_option("#f-key", "code")
        with page.expect_navigation():
            page.get_by_role("button", name="开始导入").click()
        expect(page.locator(".banner.error")).to_have_text("发现 1 个问题, 未写入任何数据")
        problem = page.locator(".import-errors tbody tr")
        expect(problem).to_have_count(1)
        expect(problem.locator("td")).to_have_text(["5", "客户编码", "键列 客户编码 为空"])
        expect(page.locator("#f-key")).to_have_value("code")  # the choices are kept
        page.set_input_files("#f-file", str(sheet))
        page.get_by_label("跳过有错误的记录, 写入其余").check()
        with page.expect_navigation():
            page.get_by_role("button", name="开始导入").click()
        expect(page.locator(".banner.error")).to_have_text("新建 1 条, 更新 1 条; 1 条记录有问题, 已跳过")
        page.get_by_role("link", name="返回列表").click()
        page.fill("input[name=q]", "杭州")
        with page.expect_navigation():
            page.get_by_role("button", name="搜索").click()
        with page.expect_download() as got:
            page.get_by_role("link", name="导出 Excel").click()
        download = got.value
        assert download.suggested_filename.endswith(".xlsx")
        saved = tmp_path / "export.xlsx"
        download.save_as(saved)
    rows = [values for _, values in read_rows(str(saved))]
    assert rows[0][:4] == ("客户编码", "客户名称", "简称", "客户等级")
    assert [r[:3] for r in rows[1:]] == [("C900", "杭州新客户贸易有限公司", "杭州新客")]  # the search applies
