"""Templates as Excel, WPS and LibreOffice write them, made part by part.

openpyxl cannot write a formula's cached value, Excel's ``x14`` list validations or
LibreOffice's quoted lists, so the parts are written here, each producer its own way:

- **Excel**: shared strings; a column filled down with one formula is a *shared formula*
  (``<f t="shared" ref="M3:M5" si="0">J3*K3</f>`` on the first cell, ``<f t="shared" si="0"/>``
  below); a list from another sheet goes into the sheet's ``x14`` extension; a defined name
  in ``<formula1>ColorList</formula1>``; worksheets carry ``mc:Ignorable`` namespaces,
  ``spans`` and ``x14ac:dyDescent``;
- **WPS**: shared strings, plain formulas, every list in ``<dataValidation>`` (other sheets
  too), validations down to row 1048576, number format 31 (``yyyy"年"m"月"d"日"``) left to
  the locale, defined names such as ``OFFSET(字典!$A$2,0,0,COUNTA(字典!$A:$A)-1,1)`` and
  ``_xlnm._FilterDatabase``;
- **LibreOffice**: ``t="n"`` on numbers, ``<f aca="false">``, string results of formulas as
  inline strings (``t="inlineStr"``), ``true``/``false`` attributes, defined names with
  ``function="false" hidden="false" vbProcedure="false"``, a list with a comma inside an
  option as ``<mc:AlternateContent>`` with ``<x12ac:list>``, custom formats in capitals
  (``YYYY\\-MM\\-DD``, ``[$¥-804]#,##0.00``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
BUILTIN = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10, "yyyy/m/d": 14}
PRODUCERS = ("excel", "wps", "libreoffice")


@dataclass(frozen=True)
class N:
    """A value with a number format (a code, or a built-in format id such as 31)."""

    value: Any
    fmt: Union[str, int] = "General"


@dataclass(frozen=True)
class F:
    """A formula cell (text without ``=``) and the value the producer cached for it."""

    formula: str
    value: Any
    fmt: Union[str, int] = "General"


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: Sequence[Sequence[Any]]
    state: str = "visible"
    merged: Sequence[str] = ()
    lists: Sequence[tuple[str, Union[str, Sequence[str]]]] = ()  # (sqref, options or a formula)


def col_letter(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _serial(value: Union[dt.date, dt.datetime]) -> str:
    base = dt.datetime(1899, 12, 30)
    moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
    days = (moment - base).total_seconds() / 86400
    return str(int(days)) if days.is_integer() else repr(days)


class Book:
    """A workbook to be written the way ``producer`` writes it."""

    def __init__(self, producer: str, sheets: Sequence[Sheet], names: Sequence[tuple[str, str]] = ()) -> None:
        assert producer in PRODUCERS
        self.producer, self.sheets, self.names = producer, list(sheets), list(names)
        self.strings: dict[str, int] = {}
        self.formats: list[Union[str, int]] = ["General"]

    # ---- cells -------------------------------------------------------------------------------

    def style(self, fmt: Union[str, int]) -> int:
        if fmt not in self.formats:
            self.formats.append(fmt)
        return self.formats.index(fmt)

    def string(self, text: str) -> int:
        return self.strings.setdefault(text, len(self.strings))

    def cell(self, ref: str, value: Any, shared: Optional[str]) -> str:
        lo = self.producer == "libreoffice"
        fmt: Union[str, int] = "General"
        if isinstance(value, (N, F)):
            fmt = value.fmt
        s = f' s="{self.style(fmt)}"' if fmt != "General" else ""
        if isinstance(value, F):
            return self.formula_cell(ref, value, s, shared)
        if isinstance(value, N):
            value = value.value
        if isinstance(value, bool):
            return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
        t = ' t="n"' if lo else ""
        if isinstance(value, (dt.date, dt.datetime)):
            return f'<c r="{ref}"{s}{t}><v>{_serial(value)}</v></c>'
        if isinstance(value, (int, float)):
            return f'<c r="{ref}"{s}{t}><v>{value}</v></c>'
        return f'<c r="{ref}"{s} t="s"><v>{self.string(str(value))}</v></c>'

    def formula_cell(self, ref: str, cell: F, s: str, shared: Optional[str]) -> str:
        text = escape(cell.formula)
        if self.producer == "libreoffice":
            f = f'<f aca="false">{text}</f>'
        elif shared and shared.isdigit():
            f = f'<f t="shared" si="{shared}"/>'
        elif shared:
            ref_range, si = shared.split("#")
            f = f'<f t="shared" ref="{ref_range}" si="{si}">{text}</f>'
        else:
            f = f"<f>{text}</f>"
        value = cell.value
        if isinstance(value, str):
            if self.producer == "libreoffice":
                return f'<c r="{ref}"{s} t="inlineStr">{f}<is><t>{escape(value)}</t></is></c>'
            return f'<c r="{ref}"{s} t="str">{f}<v>{escape(value)}</v></c>'
        t = ' t="n"' if self.producer == "libreoffice" else ""
        return f'<c r="{ref}"{s}{t}>{f}<v>{"" if value is None else value}</v></c>'

    # ---- parts -------------------------------------------------------------------------------

    def sheet_xml(self, sheet: Sheet) -> str:
        width = max((len(r) for r in sheet.rows), default=1)
        shared = self.shared_formulas(sheet) if self.producer == "excel" else {}
        rows = []
        for i, row in enumerate(sheet.rows, start=1):
            cells = "".join(
                self.cell(f"{col_letter(j)}{i}", v, shared.get((i, j)))
                for j, v in enumerate(row, start=1)
                if v is not None
            )
            extra = f' spans="1:{width}" x14ac:dyDescent="0.25"' if self.producer == "excel" else ""
            rows.append(f'<row r="{i}"{extra}>{cells}</row>')
        head = (
            f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}" '
            'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac" '
            'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac">'
            if self.producer == "excel"
            else f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
        )
        body = (
            f'{head}<dimension ref="A1:{col_letter(width)}{max(len(sheet.rows), 1)}"/>'
            f"<sheetData>{''.join(rows)}</sheetData>"
        )
        if sheet.merged:
            body += (
                f'<mergeCells count="{len(sheet.merged)}">'
                + "".join(f'<mergeCell ref="{m}"/>' for m in sheet.merged)
                + "</mergeCells>"
            )
        plain, ext = self.validations(sheet)
        body += plain + '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        return body + ext + "</worksheet>"

    def shared_formulas(self, sheet: Sheet) -> dict[tuple[int, int], str]:
        """Excel fills a column down with one shared formula: the first cell of a run of the
        same formula (relative to its row) holds it as ``ref#si``, the others give ``si``."""
        out: dict[tuple[int, int], str] = {}
        width = max((len(r) for r in sheet.rows), default=0)
        for j in range(1, width + 1):
            runs: list[list[int]] = []
            last = None
            for i, row in enumerate(sheet.rows, start=1):
                cell = row[j - 1] if j <= len(row) else None
                shape = re.sub(rf"(?<=[A-Z]){i}(?!\d)", "#", cell.formula) if isinstance(cell, F) else None
                if shape is not None and shape == last and runs and runs[-1][-1] == i - 1:
                    runs[-1].append(i)
                elif shape is not None:
                    runs.append([i])
                last = shape
            for run in (r for r in runs if len(r) >= 2):
                si = str(len({v.split("#")[-1] for v in out.values()}))
                out[(run[0], j)] = f"{col_letter(j)}{run[0]}:{col_letter(j)}{run[-1]}#{si}"
                out.update({(i, j): si for i in run[1:]})
        return out

    def validations(self, sheet: Sheet) -> tuple[str, str]:
        plain, ext = [], []
        yes = "true" if self.producer == "libreoffice" else "1"
        for sqref, source in sheet.lists:
            if self.producer == "wps":
                sqref = " ".join(
                    p.rsplit(":", 1)[0] + ":" + "".join(ch for ch in p.rsplit(":", 1)[1] if ch.isalpha()) + "1048576"
                    for p in sqref.split()
                )
            attrs = f'type="list" allowBlank="{yes}" showInputMessage="{yes}" showErrorMessage="{yes}"'
            if not isinstance(source, str):
                formula = '"' + ",".join(source) + '"'
                if self.producer == "libreoffice" and any("," in o for o in source):
                    listed = ",".join(f'"{o}"' if "," in o else o for o in source)
                    plain.append(
                        f'<dataValidation {attrs} operator="between" showDropDown="false" sqref="{sqref}">'
                        '<mc:AlternateContent xmlns:x12ac="http://schemas.microsoft.com/office/spreadsheetml/2011/1/ac" '
                        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
                        f'<mc:Choice Requires="x12ac"><x12ac:list>{escape(listed)}</x12ac:list></mc:Choice>'
                        f"<mc:Fallback><formula1>{escape(formula)}</formula1></mc:Fallback></mc:AlternateContent>"
                        "</dataValidation>"
                    )
                    continue
            else:
                formula = source
            if self.producer == "excel" and "!" in formula:
                ext.append(
                    f'<x14:dataValidation {attrs} xr:uid="{{7A1C2B3D-0000-4000-8000-00000000000{len(ext)}}}">'
                    f"<x14:formula1><xm:f>{escape(formula)}</xm:f></x14:formula1><xm:sqref>{sqref}</xm:sqref>"
                    "</x14:dataValidation>"
                )
                continue
            plain.append(
                f'<dataValidation {attrs} sqref="{sqref}"><formula1>{escape(formula)}</formula1></dataValidation>'
            )
        plain_xml = f'<dataValidations count="{len(plain)}">{"".join(plain)}</dataValidations>' if plain else ""
        ext_xml = ""
        if ext:
            ext_xml = (
                '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
                'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
                f'<x14:dataValidations count="{len(ext)}" '
                'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" '
                'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision">'
                + "".join(ext)
                + "</x14:dataValidations></ext></extLst>"
            )
        return plain_xml, ext_xml

    def workbook_xml(self) -> str:
        sheets = "".join(
            f'<sheet name="{escape(s.name)}" sheetId="{i + 1}"'
            + (f' state="{s.state}"' if s.state != "visible" or self.producer == "libreoffice" else "")
            + f' r:id="rId{i + 1}"/>'
            for i, s in enumerate(self.sheets)
        )
        names = []
        for name, text in self.names:
            if self.producer == "libreoffice":
                names.append(
                    f'<definedName function="false" hidden="false" name="{escape(name)}" '
                    f'vbProcedure="false">{escape(text)}</definedName>'
                )
            else:
                names.append(f'<definedName name="{escape(name)}">{escape(text)}</definedName>')
        if self.producer == "wps":
            names.append(
                f'<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
                f"{escape(self.sheets[0].name)}!$A$2:$A$2</definedName>"
            )
        defined = f"<definedNames>{''.join(names)}</definedNames>" if names else ""
        pr = (
            '<workbookPr backupFile="false" showObjects="all" date1904="false"/>'
            if self.producer == "libreoffice"
            else "<workbookPr/>"
        )
        return f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">{pr}<sheets>{sheets}</sheets>{defined}</workbook>'

    def styles_xml(self) -> str:
        custom: dict[str, int] = {}
        xfs = []
        first = 176 if self.producer == "wps" else 164
        for fmt in self.formats:
            if isinstance(fmt, int):
                number = fmt
            elif fmt in BUILTIN and self.producer != "libreoffice" or fmt in ("General", "0%", "0.00%"):
                number = BUILTIN[fmt]
            else:
                number = custom.setdefault(fmt, first + len(custom))
            applied = ' applyNumberFormat="1"' if number else ""
            xfs.append(f'<xf numFmtId="{number}" fontId="0" fillId="0" borderId="0" xfId="0"{applied}/>')
        fmts = "".join(
            f'<numFmt numFmtId="{i}" formatCode="{escape(code, {chr(34): "&quot;"})}"/>' for code, i in custom.items()
        )
        return (
            f'<styleSheet xmlns="{MAIN}">'
            + (f'<numFmts count="{len(custom)}">{fmts}</numFmts>' if custom else "")
            + '<fonts count="1"><font><sz val="11"/><name val="宋体"/><family val="2"/><charset val="134"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        )

    def bytes(self) -> bytes:
        sheets = [self.sheet_xml(s) for s in self.sheets]  # first: collects the strings and formats
        n = len(self.sheets)
        sst = "".join(f"<si><t>{escape(t)}</t></si>" for t in self.strings)
        files = {
            "[Content_Types].xml": (
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>'
                f'<Override PartName="/xl/styles.xml" ContentType="{CT}.styles+xml"/>'
                f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/>'
                + "".join(
                    f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="{CT}.worksheet+xml"/>'
                    for i in range(n)
                )
                + "</Types>"
            ),
            "_rels/.rels": (
                f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
                f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
            ),
            "xl/workbook.xml": self.workbook_xml(),
            "xl/_rels/workbook.xml.rels": (
                f'<Relationships xmlns="{PKG_REL}">'
                + "".join(
                    f'<Relationship Id="rId{i + 1}" Type="{REL}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
                    for i in range(n)
                )
                + f'<Relationship Id="rId90" Type="{REL}/styles" Target="styles.xml"/>'
                f'<Relationship Id="rId91" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
            ),
            "xl/styles.xml": self.styles_xml(),
            "xl/sharedStrings.xml": (
                f'<sst xmlns="{MAIN}" count="{len(self.strings)}" uniqueCount="{len(self.strings)}">{sst}</sst>'
            ),
        }
        for i, xml in enumerate(sheets):
            files[f"xl/worksheets/sheet{i + 1}.xml"] = xml
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for name, text in files.items():
                z.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + text)
        return out.getvalue()

    def save(self, path: Any) -> str:
        with open(path, "wb") as fh:
            fh.write(self.bytes())
        return str(path)
