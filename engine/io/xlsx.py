"""The rows of one sheet of an .xlsx file, in memory that does not grow with the file.

openpyxl's ``load_workbook(read_only=True)`` is not enough for that: it sizes every sheet
that has no ``<dimension>`` element (openpyxl's own write-only files, so our exports) by
parsing it whole when the workbook opens, and it keeps the shared-strings table, which holds
every distinct text of the file, as a Python list. Here the package is opened part by part
with openpyxl's readers for the manifest and the workbook, and its cell parser, but:

- the sheet is parsed once, as it is read, and each ``<row>`` is dropped once read;
- the shared strings are spilled to a temporary file and looked up by index through a
  memory map (with a small cache for the texts that repeat, like statuses and names).
"""

from __future__ import annotations

import io
import mmap
import os
import re
import struct
import tempfile
import zipfile
from typing import IO, Any, Iterator, Optional

from engine.io.sources import ReadError, Source

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_SHEET_DATA, _ROW, _SI, _F = _MAIN + "sheetData", _MAIN + "row", _MAIN + "si", _MAIN + "f"
_OFFSET = struct.Struct("<Q")


class XlsxError(ReadError):
    """The file is not a readable .xlsx package."""


def sheet_rows(source: Source, sheet: Optional[str] = None) -> Iterator[tuple[int, list[Any]]]:
    """``(row number, cell values)`` of the first worksheet, or of the one named ``sheet``.

    Row numbers are the sheet's own (rows the file leaves out are skipped); values are what
    openpyxl's read-only mode gives: str, int, float, bool, datetime/date/time/timedelta by
    the cell's number format, None for an empty cell; formulas as their cached value.
    """
    for number, values, _ in sheet_cells(source, sheet):
        yield number, values


def sheet_cells(source: Source, sheet: Optional[str] = None) -> Iterator[tuple[int, list[Any], dict[int, str]]]:
    """``(row number, cell values, formulas)``: :func:`sheet_rows` with the formula of each
    cell that has one (its ``<f>`` element), by 0-based column: ``{7: "=SUM(H3:H9)"}``.

    A shared formula (Excel's, for a formula filled down or across) is given for every cell
    of its range, translated to the cell as Excel shows it; the sheet keeps the text on the
    first cell only, so that text is kept until the reader passes the range's last row.
    """
    from xml.etree.ElementTree import iterparse

    from openpyxl.worksheet._reader import WorkSheetParser

    package = _Package(source)
    try:
        target = package.sheet_path(sheet)
        with package.strings() as strings, package.archive.open(target) as src:
            parser = WorkSheetParser(
                src,
                strings,
                data_only=True,
                epoch=package.wb.epoch,
                date_formats=package.dates,
                timedelta_formats=package.durations,
            )
            shared = _SharedFormulas()
            parent = None
            number = 0
            for event, element in iterparse(src, events=("start", "end")):
                if event == "start":
                    if parent is None and element.tag == _SHEET_DATA:
                        parent = element
                    continue
                if element.tag != _ROW:
                    continue
                number = _row_number(element.get("r"), number)
                parser.row_counter, parser.col_counter = number, 0
                cells = []
                formulas: dict[int, str] = {}
                for cell in element:
                    parsed = parser.parse_cell(cell)
                    cells.append(parsed)
                    f = cell.find(_F)
                    if f is not None and (text := shared.text(f, number, parsed["column"])):
                        formulas[parsed["column"] - 1] = text
                (parent if parent is not None else element).clear()
                if not cells:
                    continue
                values: list[Any] = [None] * max(cell["column"] for cell in cells)
                for cell in cells:
                    values[cell["column"] - 1] = cell["value"]
                yield number, values, formulas
    finally:
        package.archive.close()


class _SharedFormulas:
    """The texts of the shared formulas whose range the reader is in (``<f t="shared" si="0"
    ref="K3:K500">ROUND(H3*I3,2)</f>`` on the first cell, ``<f t="shared" si="0"/>`` below)."""

    def __init__(self) -> None:
        from openpyxl.formula.translate import Translator
        from openpyxl.utils import get_column_letter

        self.translator, self.letter = Translator, get_column_letter
        self.open: dict[str, tuple[Any, int]] = {}  # si -> (Translator, last row of its range)

    def text(self, f: Any, row: int, column: int) -> str:
        """The formula of the cell at (row, column) whose ``<f>`` element is ``f`` ('' if none)."""
        text = "=" + f.text if f.text else ""
        if f.get("t") != "shared":
            return text
        si, here = f.get("si", ""), f"{self.letter(column)}{row}"
        if text:
            if len(self.open) > 64:  # ranges passed: their formulas are not needed again
                self.open = {k: v for k, v in self.open.items() if v[1] >= row}
            self.open[si] = (self.translator(text, here), _last_row(f.get("ref"), row))
            return text
        master = self.open.get(si)
        return master[0].translate_formula(here) if master is not None else ""


def _last_row(ref: Optional[str], row: int) -> int:
    """The last row of a range such as ``K3:K500`` (``row`` when there is none)."""
    match = re.search(r"(\d+)$", ref or "")
    return int(match.group(1)) if match else row


def sheet_part(source: Source, sheet: Optional[str] = None) -> bytes:
    """The XML of the first worksheet, or of the one named ``sheet``: for what openpyxl drops
    when it reads a sheet, such as the ``x14`` list validations Excel writes for a list drawn
    from another sheet."""
    package = _Package(source)
    try:
        return package.archive.read(package.sheet_path(sheet))
    finally:
        package.archive.close()


_ROW_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?row\s*>")
_DATA_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?sheetData\s*>")
_CHUNK = 1 << 16


def package_head(source: Source, rows: int) -> io.BytesIO:
    """A copy of the .xlsx package whose worksheets keep only their first ``rows`` rows.

    For reading a template's header, sample rows, merged cells and data validations with
    openpyxl's full reader without loading a large data file into memory: each sheet's XML is
    streamed through, the ``<row>`` elements after the first ``rows`` are left out, and the
    rest of the sheet (merged cells, validations, formats) is copied whole. Other parts are
    copied as they are.
    """
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                with zin.open(item) as src, zout.open(item.filename, "w", force_zip64=True) as dst:
                    if item.filename.startswith("xl/worksheets/") and item.filename.endswith(".xml"):
                        _copy_head(src, dst, rows)
                    else:
                        while chunk := src.read(_CHUNK):
                            dst.write(chunk)
    except (zipfile.BadZipFile, OSError) as exc:
        raise XlsxError(f"not a readable .xlsx file ({exc})") from None
    out.seek(0)
    return out


def _copy_head(src: IO[bytes], dst: IO[bytes], rows: int) -> None:
    """Copy sheet XML, leaving out the rows after the first ``rows`` (up to ``</sheetData>``)."""
    kept, skipping, buf = 0, False, b""
    while True:
        chunk = src.read(_CHUNK)
        buf += chunk
        while True:
            if skipping:
                end = _DATA_END.search(buf)
                if end is None:
                    break
                buf, skipping = buf[end.start() :], False
                rows = -1  # the rest is copied as it is
            elif rows >= 0 and (end := _ROW_END.search(buf)) is not None:
                dst.write(buf[: end.end()])
                buf = buf[end.end() :]
                kept += 1
                skipping = kept >= rows
            else:
                break
        if not chunk:
            dst.write(buf if not skipping else b"")
            return
        if not skipping and (rows < 0 or _ROW_END.search(buf) is None):
            keep = 64  # a closing tag may straddle two chunks
            dst.write(buf[:-keep])
            buf = buf[-keep:]
        elif skipping and len(buf) > 64:
            buf = buf[-64:]


def _row_number(text: Optional[str], previous: int) -> int:
    if not text:
        return previous + 1
    try:
        return int(text)
    except ValueError:
        value = float(text)
        if not value.is_integer():
            raise XlsxError(f"{text!r} is not a row number") from None
        return int(value)


# the built-in number formats ECMA-376 leaves to the locale: in zh-CN (and ja, ko) they are
# dates and times such as yyyy"年"m"月"d"日"; openpyxl knows only the locale-free ones
_EAST_ASIAN_DATES = {
    27: 'yyyy"年"m"月"',
    28: 'm"月"d"日"',
    29: 'm"月"d"日"',
    30: "m-d-yy",
    31: 'yyyy"年"m"月"d"日"',
    32: 'h"时"mm"分"',
    33: 'h"时"mm"分"ss"秒"',
    34: '上午/下午h"时"mm"分"',
    35: '上午/下午h"时"mm"分"ss"秒"',
    36: 'yyyy"年"m"月"',
    50: 'yyyy"年"m"月"',
    51: 'm"月"d"日"',
    52: 'yyyy"年"m"月"',
    53: 'm"月"d"日"',
    54: 'm"月"d"日"',
    55: '上午/下午h"时"mm"分"',
    56: '上午/下午h"时"mm"分"ss"秒"',
    57: 'yyyy"年"m"月"',
    58: 'm"月"d"日"',
}


def _number_styles(archive: zipfile.ZipFile) -> tuple[set[int], set[int]]:
    """The cell styles (indexes into ``cellXfs``) whose number format is a date, and a duration."""
    from xml.etree.ElementTree import fromstring

    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

    try:
        root = fromstring(archive.read("xl/styles.xml"))
    except KeyError:
        return set(), set()
    custom = {
        int(fmt.get("numFmtId", -1)): fmt.get("formatCode", "")
        for fmt in root.iterfind(f"{_MAIN}numFmts/{_MAIN}numFmt")
    }
    dates, durations = set(), set()
    for i, xf in enumerate(root.iterfind(f"{_MAIN}cellXfs/{_MAIN}xf")):
        number = int(xf.get("numFmtId", 0))
        code = custom.get(number) or BUILTIN_FORMATS.get(number) or _EAST_ASIAN_DATES.get(number, "General")
        if is_date_format(code):
            dates.add(i)
        if is_timedelta_format(code):
            durations.add(i)
    return dates, durations


def date_styles(source: Source) -> set[int]:
    """The cell styles (indexes into ``cellXfs``) whose number format is a date or a time,
    including the built-in formats left to the locale, which openpyxl takes for numbers."""
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    with zipfile.ZipFile(source) as archive:
        return _number_styles(archive)[0]


class _Package:
    """The parts of an .xlsx a sheet's values need: workbook (sheets, date system), styles, strings."""

    def __init__(self, source: Source) -> None:
        from openpyxl.reader.excel import ExcelReader

        if isinstance(source, os.PathLike):
            source = os.fspath(source)
        try:
            self.archive = zipfile.ZipFile(source, "r")
        except (zipfile.BadZipFile, OSError) as exc:
            raise XlsxError(f"not a readable .xlsx file ({exc})") from None
        try:
            reader = ExcelReader.__new__(ExcelReader)  # its parts, without its worksheet reading
            reader.archive, reader.valid_files = self.archive, self.archive.namelist()
            reader.read_only, reader.keep_vba, reader.data_only = True, False, True
            reader.keep_links, reader.rich_text = False, False
            reader.read_manifest()
            reader.read_workbook()
            self.dates, self.durations = _number_styles(self.archive)
        except (KeyError, ValueError, TypeError, AttributeError, SyntaxError) as exc:
            self.archive.close()
            raise XlsxError(f"not a readable .xlsx file ({exc or type(exc).__name__})") from None
        self.reader, self.wb = reader, reader.wb

    def sheet_path(self, name: Optional[str]) -> str:
        names = []
        for sheet, rel in self.reader.parser.find_sheets():
            if rel.target not in self.reader.valid_files or "chartsheet" in rel.Type:
                continue
            if name is None or sheet.name == name:
                return rel.target
            names.append(sheet.name)
        if name is None:
            raise XlsxError("the workbook has no worksheet")
        raise XlsxError(f"no sheet named {name!r} (the workbook has {', '.join(map(repr, names)) or 'none'})")

    def strings(self) -> "SharedStrings":
        from openpyxl.xml.constants import SHARED_STRINGS

        part = self.reader.package.find(SHARED_STRINGS)
        if part is None or part.PartName[1:] not in self.reader.valid_files:
            return SharedStrings(None)
        with self.archive.open(part.PartName[1:]) as src:
            return SharedStrings(src)


class SharedStrings:
    """The shared-strings table, on disk: ``table[i]`` is the i-th text.

    Each ``<si>`` is read as openpyxl reads it (runs joined, phonetic guides left out) and
    written to a temporary file with its start offset in a second one; both are memory-mapped
    for lookups. Texts looked up are cached, up to ``CACHE`` of them (then the cache starts over).
    """

    CACHE = 4096

    def __init__(self, src: Optional[IO[bytes]]) -> None:
        self._cache: dict[int, str] = {}
        self._data: Optional[mmap.mmap] = None
        self._index: Optional[mmap.mmap] = None
        self._files = (tempfile.TemporaryFile(), tempfile.TemporaryFile())
        self.count = 0
        if src is not None:
            self._spill(src)

    def _spill(self, src: IO[bytes]) -> None:
        from xml.etree.ElementTree import iterparse

        from openpyxl.cell.text import Text

        data, index = self._files
        offset = 0
        root = None
        for event, node in iterparse(src, events=("start", "end")):
            if event == "start":
                if root is None:
                    root = node
                continue
            if node.tag != _SI:
                continue
            text = Text.from_tree(node)
            assert text is not None and root is not None  # Text.from_tree builds one; <sst> started first
            raw = text.content.replace("x005F_", "").encode("utf-8")
            root.clear()
            index.write(_OFFSET.pack(offset))
            data.write(raw)
            offset += len(raw)
            self.count += 1
        index.write(_OFFSET.pack(offset))
        data.flush()
        index.flush()
        self._index = mmap.mmap(index.fileno(), 0, access=mmap.ACCESS_READ)
        if offset:
            self._data = mmap.mmap(data.fileno(), 0, access=mmap.ACCESS_READ)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> str:
        text = self._cache.get(i)
        if text is not None:
            return text
        if not 0 <= i < self.count:
            raise XlsxError(f"a cell refers to shared string {i}, but the file has {self.count}")
        index = self._index
        assert index is not None  # count > 0, so _spill has mapped it
        start, end = _OFFSET.unpack_from(index, 8 * i)[0], _OFFSET.unpack_from(index, 8 * i + 8)[0]
        text = self._data[start:end].decode("utf-8") if end > start else ""  # type: ignore[index]
        if len(self._cache) >= self.CACHE:
            self._cache.clear()
        self._cache[i] = text
        return text

    def close(self) -> None:
        for m in (self._data, self._index):
            if m is not None:
                m.close()
        self._data = self._index = None
        for fh in self._files:
            fh.close()

    def __enter__(self) -> "SharedStrings":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
