"""The .xlsx sheet reader: files as Excel writes them (made part by part here) and as openpyxl does."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from engine.io.readers import ReadError, read_rows
from engine.io.xlsx import SharedStrings, sheet_cells, sheet_rows

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def excel_package(sheets: dict[str, str], strings: list[str], *, date1904: bool = False) -> bytes:
    """An .xlsx package with the given sheet XML bodies (the ``<sheetData>`` content) and shared strings.

    Styles: 0 general, 1 a built-in date format (14), 2 a custom date-time format, 3 a custom
    duration format, 4 a percentage (a number, not a date), 5 the zh-CN built-in date format 31
    (yyyy"年"m"月"d"日", which the file does not spell out).
    """
    names = list(sheets)
    files = {
        "[Content_Types].xml": (
            f'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{CT}.styles+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="{CT}.worksheet+xml"/>'
                for i in range(len(names))
            )
            + "</Types>"
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Target="xl/workbook.xml" '
            f'Type="{REL}/officeDocument"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><workbookPr date1904="{int(date1904)}"/><sheets>'
            + "".join(f'<sheet name="{n}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, n in enumerate(names))
            + "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{PKG_REL}">'
            + "".join(
                f'<Relationship Id="rId{i + 1}" Target="worksheets/sheet{i + 1}.xml" Type="{REL}/worksheet"/>'
                for i in range(len(names))
            )
            + f'<Relationship Id="rId90" Target="styles.xml" Type="{REL}/styles"/>'
            f'<Relationship Id="rId91" Target="sharedStrings.xml" Type="{REL}/sharedStrings"/></Relationships>'
        ),
        "xl/styles.xml": (
            f'<styleSheet xmlns="{MAIN}"><numFmts count="2">'
            f'<numFmt numFmtId="164" formatCode="yyyy/m/d h:mm"/><numFmt numFmtId="165" formatCode="[h]:mm:ss"/>'
            f'</numFmts><fonts count="1"><font/></fonts><fills count="1"><fill/></fills>'
            f'<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
            f'<cellXfs count="6"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/>'
            f'<xf numFmtId="164" applyNumberFormat="1"/><xf numFmtId="165" applyNumberFormat="1"/>'
            f'<xf numFmtId="10" applyNumberFormat="1"/><xf numFmtId="31" applyNumberFormat="1"/></cellXfs>'
            f"</styleSheet>"
        ),
        "xl/sharedStrings.xml": (
            f'<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">' + "".join(strings) + "</sst>"
        ),
    }
    for i, body in enumerate(sheets.values()):
        files[f"xl/worksheets/sheet{i + 1}.xml"] = (
            f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}"><dimension ref="A1:F9"/>'
            f'<sheetData>{body}</sheetData><mergeCells count="1"><mergeCell ref="A1:D1"/></mergeCells></worksheet>'
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + text)
    return out.getvalue()


STRINGS = [
    "<si><t>销售订单导入</t></si>",  # 0
    "<si><t>订单号</t></si>",  # 1
    '<si><r><rPr><b/></rPr><t>客户</t></r><r><t xml:space="preserve"> 名称</t></r></si>',  # 2: rich text runs
    '<si><t>下单日期</t><rPh sb="0" eb="1"><t>かな</t></rPh></si>',  # 3: phonetic guide left out
    "<si><t>SO-0001</t></si>",  # 4
    "<si><t>华东五金</t></si>",  # 5
    "<si><t/></si>",  # 6: empty text
    "<si><t>a_x005F_x000D_b</t></si>",  # 7: an escaped escape
]

EXCEL_SHEET = (
    # a title row over merged cells, with a custom height (Excel writes ht/customHeight)
    '<row r="1" spans="1:4" ht="28" customHeight="1"><c r="A1" t="s"><v>0</v></c></row>'
    '<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" t="s"><v>2</v></c><c r="C2" t="s"><v>3</v></c>'
    '<c r="D2" t="inlineStr"><is><t>金额</t></is></c><c r="E2" t="inlineStr"><is><t>加急</t></is></c>'
    '<c r="F2" t="inlineStr"><is><t>工时</t></is></c></row>'
    # row 3 is left out of the file; cells without a reference follow one another
    '<row r="4"><c t="s"><v>4</v></c><c t="s"><v>5</v></c><c s="1"><v>45658</v></c>'
    '<c s="4"><f>B9*2</f><v>1234.5</v></c><c t="b"><v>1</v></c><c s="3"><v>1.5</v></c></row>'
    # a row without its number is the one after the previous
    '<row><c r="A5" t="s"><v>6</v></c><c r="C5" s="2"><v>45658.75</v></c><c r="D5" t="str"><f>A1</f>'
    '<v>x</v></c><c r="E5" t="b"><v>0</v></c><c r="F5" t="e"><v>#N/A</v></c></row>'
    '<row r="7"><c r="A7" t="s"><v>7</v></c><c r="B7"><v>12</v></c><c r="C7" t="d"><v>2025-01-02T03:04:05</v></c>'
    '<c r="D7" s="5"><v>45659</v></c></row>'
)


def test_a_sheet_as_excel_writes_it(tmp_path):
    path = tmp_path / "excel.xlsx"
    path.write_bytes(excel_package({"订单": EXCEL_SHEET}, STRINGS))
    rows = dict(read_rows(str(path)))
    assert sorted(rows) == [1, 2, 4, 5, 7]
    assert rows[1] == ("销售订单导入",)
    assert rows[2] == ("订单号", "客户 名称", "下单日期", "金额", "加急", "工时")
    assert rows[4] == ("SO-0001", "华东五金", dt.datetime(2025, 1, 1), 1234.5, True, dt.timedelta(hours=36))
    assert rows[5] == (None, None, dt.datetime(2025, 1, 1, 18, 0), "x", False, "#N/A")
    assert rows[7] == ("a_x000D_b", 12, dt.datetime(2025, 1, 2, 3, 4, 5), dt.datetime(2025, 1, 2))


def test_the_1904_date_system_and_a_sheet_by_name(tmp_path):
    path = tmp_path / "mac.xlsx"
    second = '<row r="3"><c r="B3" s="1"><v>44197</v></c><c r="C3" t="s"><v>5</v></c></row>'
    path.write_bytes(
        excel_package({"说明": '<row r="1"><c r="A1" t="s"><v>0</v></c></row>', "数据": second}, STRINGS, date1904=True)
    )
    assert list(read_rows(str(path))) == [(1, ("销售订单导入",))]
    assert list(sheet_rows(str(path), "数据")) == [
        (3, [None, dt.datetime(2025, 1, 2), "华东五金"])
    ]  # 1904 + 44197 days
    with pytest.raises(ReadError, match=r"no sheet named '汇总' \(the workbook has '说明', '数据'\)"):
        list(sheet_rows(str(path), "汇总"))


def test_same_values_as_openpyxl_for_a_file_it_writes(tmp_path):
    wb = openpyxl.Workbook(write_only=True)  # no <dimension> element, shared strings for text
    ws = wb.create_sheet("Sheet")
    made = [("编号", "名称", "日期", "数量", "时间")]
    for i in range(300):
        made.append(
            (
                f"N{i:04d}",
                ["红", "蓝", "绿"][i % 3],
                dt.date(2025, 1, 1) + dt.timedelta(days=i),
                i * 1.5,
                dt.time(8, i % 60),
            )
        )
    for row in made:
        ws.append(row)
    path = tmp_path / "w.xlsx"
    wb.save(path)
    theirs = list(openpyxl.load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
    ours = [tuple(values) for _, values in sheet_rows(path)]
    assert ours == theirs
    with open(path, "rb") as fh:  # a stream works as well as a path
        assert [tuple(v) for _, v in sheet_rows(fh)] == theirs


@pytest.mark.filterwarnings("ignore:Data Validation extension")
@pytest.mark.parametrize("producer", ["excel", "wps", "libreoffice"])
def test_formulas_as_openpyxl_reads_them_shared_ones_translated(tmp_path, producer):
    """Excel fills 金额 and 单位 down with shared formulas (the text on the first cell only):
    every cell gets its own, as openpyxl's full reader gives it; read_rows keeps them by column."""
    from tests.engine.io.shop_template import order_template

    path = order_template(producer, tmp_path / "t.xlsx", totals=True)
    ws = openpyxl.load_workbook(path).worksheets[0]
    theirs = {
        r: {c.column - 1: c.value for c in row if c.data_type == "f"} for r, row in enumerate(ws.iter_rows(), start=1)
    }
    ours = {number: formulas for number, _, formulas in sheet_cells(path)}
    assert ours == theirs and ours[9] == {10: "=ROUND(H9*I9*(1-J9),2)", 11: "=VLOOKUP(F9,字典!$C$2:$D$4,2,FALSE)"}
    rows = dict(read_rows(path))
    assert rows[10].formulas == {7: "=SUM(H3:H9)", 10: "=SUM(K3:K9)"} and rows[10][:2] == ("合计", None)
    assert not hasattr(rows[2], "formulas")  # a row without formulas is a plain tuple


def test_a_totals_row_filled_across_and_many_shared_formulas(tmp_path):
    """Excel fills a totals row's =SUM(B2:B4) across to C and D as one shared formula; a sheet
    of many short shared ranges reads as well (each range's text is dropped once passed)."""
    total = (
        '<row r="5"><c r="A5" t="s"><v>0</v></c><c r="B5"><f t="shared" ref="B5:D5" si="0">SUM(B2:B4)</f>'
        '<v>6</v></c><c r="C5"><f t="shared" si="0"/><v>6</v></c><c r="D5"><f t="shared" si="0"/><v>6</v></c></row>'
    )
    many = "".join(
        f'<row r="{r}"><c r="A{r}"><f t="shared" ref="A{r}:C{r}" si="{r}">ROW()+{r}</f><v>1</v></c>'
        f'<c r="B{r}"><f t="shared" si="{r}"/><v>1</v></c><c r="C{r}"><f t="shared" si="{r}"/><v>1</v></c>'
        f'<c r="D{r}"><f>B{r}*2</f><v>2</v></c></row>'
        for r in range(6, 400)
    )
    path = tmp_path / "shared.xlsx"
    path.write_bytes(excel_package({"S": total + many}, ["<si><t>合计</t></si>"]))
    rows = {number: (values, formulas) for number, values, formulas in sheet_cells(path)}
    assert rows[5] == (["合计", 6, 6, 6], {1: "=SUM(B2:B4)", 2: "=SUM(C2:C4)", 3: "=SUM(D2:D4)"})
    assert rows[399][1] == {0: "=ROW()+399", 1: "=ROW()+399", 2: "=ROW()+399", 3: "=B399*2"}


def test_the_shared_strings_live_on_disk(tmp_path):
    items = "".join(f"<si><t>文本{i}</t></si>" for i in range(20_000))
    src = io.BytesIO(f'<sst xmlns="{MAIN}">{items}<si><t></t></si></sst>'.encode())
    with SharedStrings(src) as table:
        assert len(table) == 20_001
        assert [table[i] for i in (0, 19_999, 7, 20_000)] == ["文本0", "文本19999", "文本7", ""]
        assert all(table[i] == f"文本{i}" for i in range(0, 20_000, 3))
        assert len(table._cache) <= SharedStrings.CACHE  # looked-up texts are not all kept
        with pytest.raises(ReadError, match="shared string 20001, but the file has 20001"):
            table[20_001]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"this is not a zip", "not a readable .xlsx file"),
        (None, "broken XML"),
    ],
)
def test_unreadable_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.xlsx"
    if content is None:
        good = excel_package({"S": '<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c'}, STRINGS)
        content = good
    path.write_bytes(content)
    with pytest.raises(ReadError, match=message):
        list(read_rows(str(path)))
