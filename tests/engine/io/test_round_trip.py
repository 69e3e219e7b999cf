"""Every field type round-trips through export and import, as .xlsx and as .csv.

For each registered type: a record is created through the service, the list is exported
(the product's export path), the file is imported into an empty form of the same definition
and, with the key ``code``, upserted into the original; the values must come back equal
(and the upsert must find nothing to change: the version stays).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from typing import Any, Iterator

import pytest

from engine.context import FixedClock
from engine.forms import FIELD_TYPES
from engine.io.exporter import write_file
from engine.listing import ListQuery
from engine.platform import Platform
from engine.service import Records
from engine.store import files
from engine.store.db import Database

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 20
SIG = "data:image/png;base64," + base64.b64encode(PNG).decode()

#: type -> the fields of its field definition (besides name and type)
FIELDS: dict[str, str] = {
    "text": "max_length: 40",
    "textarea": "",
    "richtext": "",
    "email": "",
    "phone": "",
    "url": "",
    "integer": "min: 0",
    "decimal": "",
    "number": "",
    "money": "currency: CNY",
    "percent": "",
    "boolean": "",
    "date": "",
    "datetime": "",
    "time": "",
    "duration": "",
    "select": "options: [{value: red, label: {zh-CN: 红色, en: Red}}, {value: black, label: {zh-CN: 黑色, en: Black}}]",
    "radio": "options: [a, b]",
    "multiselect": "options: [{value: a, label: {zh-CN: 甲, en: A}}, {value: b, label: {zh-CN: 乙, en: B}}, c]",
    "checkboxes": "options: [red, black, silver], max_items: 2",
    "cascade": "tree: [{value: zj, label: {zh-CN: 浙江, en: Zhejiang}, children: [{value: 宁波, children: [海曙, 鄞州]}]}]",
    "link": "form: part",
    "multilink": "form: part",
    "user": "",
    "role": "",
    "department": "options: [{value: sales, label: {zh-CN: 销售部, en: Sales}}, workshop]",
    "autonumber": 'sequence: "IT-{seq:04}"',
    "json": "",
    "attachment": "",
    "image": "",
    "signature": "",
    "location": "",
    "barcode": "symbology: ean13",
    "formula": 'result: money, formula: "coalesce(t_integer, 0) * 2.5"',
    "rollup": "rollup: {of: t_table.n, fn: sum}, result: integer",
    "rating": "",
    "colour": "",
    "tags": "",
    "address": "",
    "table": "fields: [{name: n, type: integer}, {name: at, type: date}, {name: part, type: link, form: part}]",
    "group": "fields: [{name: name, type: text, required: true}, {name: credit, type: money}]",
}

#: type -> the record's values (besides its code); "@..." are filled in by the fixture
VALUES: dict[str, dict[str, Any]] = {
    "text": {"t_text": '宁波 =A1, "引号"'},
    "textarea": {"t_textarea": "第一行\n第二行, 逗号"},
    "richtext": {"t_richtext": "<p>hi <b>there</b></p>"},
    "email": {"t_email": "wang@example.com"},
    "phone": {"t_phone": "+86 138-0000-0000"},
    "url": {"t_url": "https://example.com/a?b=1"},
    "integer": {"t_integer": 1200},
    "decimal": {"t_decimal": "12345678901234.5678"},  # 18 digits: more than a float holds
    "number": {"t_number": "0.123457"},
    "money": {"t_money": "1234567.89"},
    "percent": {"t_percent": "0.1250"},
    "boolean": {"t_boolean": False},
    "date": {"t_date": "2026-11-21"},
    "datetime": {"t_datetime": "2026-11-21T02:30:05+00:00"},  # the day before in New York
    "time": {"t_time": "17:05:09"},
    "duration": {"t_duration": "1d2h30m"},
    "select": {"t_select": "black"},
    "radio": {"t_radio": "b"},
    "multiselect": {"t_multiselect": ["a", "c"]},
    "checkboxes": {"t_checkboxes": ["silver", "red"]},
    "cascade": {"t_cascade": ["zj", "宁波", "海曙"]},
    "link": {"t_link": "@p1"},
    "multilink": {"t_multilink": ["@p2", "@p1"]},
    "user": {"t_user": "@wang"},
    "role": {"t_role": "sales"},
    "department": {"t_department": "workshop"},
    "autonumber": {},
    "json": {"t_json": {"a": [1, "x"], "b": None, "c": "逗号, 分号;"}},
    "attachment": {"t_attachment": ["@txt", "@png"]},
    "image": {"t_image": ["@png"]},
    "signature": {"t_signature": SIG},
    "location": {"t_location": {"lat": 29.87, "lng": 121.55}},
    "barcode": {"t_barcode": "6901234567892"},
    "formula": {"t_integer": 3},
    "rollup": {"t_table": [{"n": 2}, {"n": 5}]},
    "rating": {"t_rating": 4},
    "colour": {"t_colour": "#AABBCC"},
    "tags": {"t_tags": ["急单", "样品; 免费", "x"]},
    "address": {"t_address": {"province": "浙江", "city": "宁波", "district": "海曙", "detail": "中山路 1 号"}},
    "table": {
        "t_table": [
            {"n": 1, "at": "2026-11-02", "part": "@p1"},
            {"n": 2, "part": "@p2"},
            {"n": None, "at": "2026-12-01"},
        ]
    },
    "group": {"t_group": {"name": "王", "credit": "5.00"}},
}

#: values that come back differently from an import by design
RECOMPUTED = {"t_autonumber"}  # a new record in another form gets a number of its own sequence
SYSTEM = ("id", "version", "owner", "created_at", "created_by", "updated_at", "updated_by")


def _form(name: str) -> str:
    lines = [
        f"name: {name}",
        "label: {zh-CN: 样品, en: Sample}",
        "title: code",
        "fields:",
        "  - {name: code, type: text, label: {zh-CN: 编码, en: Code}, required: true, unique: true}",
    ]
    for t, props in FIELDS.items():
        label = f"{{zh-CN: {t} 字段, en: {t} field}}"
        lines.append(f"  - {{name: t_{t}, type: {t}, label: {label}{', ' + props if props else ''}}}")
    return "\n".join(lines) + "\n"


PACK = {
    "pack.yaml": 'name: trip\nversion: "1.0.0"\nlabel: 往返\ntimezone: America/New_York\nlocale: zh-CN\n',
    "roles.yaml": "roles:\n  admin: {label: 管理员, superuser: true}\n  sales: {label: 销售}\n",
    "forms/part.yaml": "name: part\nlabel: {zh-CN: 零件, en: Part}\ntitle: name\nfields:\n"
    "  - {name: sku, type: text, unique: true}\n  - {name: name, type: text}\n",
    "forms/item.yaml": _form("item"),
    "forms/item_copy.yaml": _form("item_copy"),
}


@pytest.fixture
def trip(db_url: str, tmp_path: Any) -> Iterator[dict[str, Any]]:
    root = tmp_path / "pack"
    for rel, text in PACK.items():
        os.makedirs(root / os.path.dirname(rel), exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    files.configure(str(tmp_path / "files"))
    p = Platform(Database(db_url), FixedClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc)), reload_seconds=0)
    p.publish(str(root))
    with p.db.begin() as conn:
        p.users.add(conn, "admin", "secret123", ["admin"])
        p.users.add(conn, "nobody", "secret123", ["sales"])  # so that ids and names differ
        wang = p.users.add(conn, "wang", "secret123", ["sales"])
    records = Records(p)
    ctx = p.user_context("admin")
    refs: dict[str, Any] = {"@wang": wang if isinstance(wang, int) else p.user_context("wang").user_id}
    refs["@p2"] = records.create(ctx, "part", {"name": "拉手, 黄铜"})["id"]  # title only, with a comma
    refs["@p1"] = records.create(ctx, "part", {"sku": "P-100", "name": "合页"})["id"]
    with p.db.begin() as conn:
        for key, name, ctype, data in (("@txt", "a.txt", "text/plain", b"hello"), ("@png", "a.png", "image/png", PNG)):
            refs[key] = files.save(conn, ctx, name, ctype, data)["id"]
    yield {"platform": p, "records": records, "ctx": ctx, "refs": refs}
    p.db.dispose()


def _sub(value: Any, refs: dict[str, Any]) -> Any:
    if isinstance(value, str) and value in refs:
        return refs[value]
    if isinstance(value, list):
        return [_sub(v, refs) for v in value]
    if isinstance(value, dict):
        return {k: _sub(v, refs) for k, v in value.items()}
    return value


def _fields(record: dict[str, Any]) -> dict[str, Any]:
    """A record's field values, sub-table rows without their ids."""
    out = {k: v for k, v in record.items() if k not in SYSTEM}
    out["t_table"] = [{k: v for k, v in row.items() if k != "id"} for row in out.get("t_table") or []]
    return out


def _only(records: Records, ctx: Any, form: str) -> dict[str, Any]:
    items = records.list_records(ctx, form, ListQuery.from_params({}))["items"]
    assert len(items) == 1, items
    return items[0]


def test_every_registered_type_has_a_case() -> None:
    assert set(FIELDS) == set(VALUES) == set(FIELD_TYPES.names())


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("ftype", sorted(VALUES))
def test_round_trip(ftype: str, fmt: str, trip: dict[str, Any], tmp_path: Any) -> None:
    records, ctx = trip["records"], trip["ctx"]
    original = records.create(ctx, "item", {"code": "R-1", **_sub(VALUES[ftype], trip["refs"])})
    want = _fields(original)
    path = str(tmp_path / f"items.{fmt}")
    assert write_file(records.export_rows(ctx, "item", ListQuery.from_params({})), path) >= 1

    report = records.import_file(ctx, "item_copy", path)
    assert report.ok and report.created == 1, report.to_dict()
    copy = _fields(_only(records, ctx, "item_copy"))
    assert {k: v for k, v in copy.items() if k not in RECOMPUTED} == {
        k: v for k, v in want.items() if k not in RECOMPUTED
    }
    assert copy["t_autonumber"] == "IT-0001"

    report = records.import_file(ctx, "item", path, key="code")
    assert report.ok and (report.created, report.updated) == (0, 1), report.to_dict()
    again = _only(records, ctx, "item")
    assert _fields(again) == want
    assert again["version"] == original["version"]  # nothing read back differently: no change to save


def _export_csv(records: Records, ctx: Any, path: str) -> dict[str, str]:
    import csv

    write_file(records.export_rows(ctx, "item", ListQuery.from_params({})), path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        head, row = list(csv.reader(fh))[:2]
    return {h: v for h, v in zip(head, row) if v}


def test_the_cells_are_what_a_person_reads(trip: dict[str, Any], tmp_path: Any) -> None:
    records, refs = trip["records"], trip["refs"]
    ctx = _en(trip["ctx"])
    values: dict[str, Any] = {"code": "R-1"}
    for t in (
        "datetime",
        "time",
        "duration",
        "select",
        "multiselect",
        "cascade",
        "link",
        "multilink",
        "user",
        "attachment",
        "location",
        "address",
        "tags",
        "boolean",
        "money",
        "decimal",
    ):
        values.update(_sub(VALUES[t], refs))
    made = records.create(ctx, "item", values)
    cells = _export_csv(records, ctx, str(tmp_path / "items.csv"))
    assert {k.removesuffix(" field"): v for k, v in cells.items() if k.endswith(" field")} == {
        "datetime": "2026-11-20 21:30:05",
        "time": "17:05:09",
        "duration": "1d2h30m",
        "select": "Black",
        "multiselect": "A, c",
        "cascade": "Zhejiang / 宁波 / 海曙",
        "link": "P-100",
        "multilink": '["拉手, 黄铜", "P-100"]',
        "user": "wang",
        "attachment": f"{refs['@txt']}, {refs['@png']}",
        "location": "29.87,121.55",
        "address": "浙江 / 宁波 / 海曙 / 中山路 1 号",
        "tags": '["急单", "样品; 免费", "x"]',
        "boolean": "no",
        "money": "1234567.89",
        "decimal": made["t_decimal"],
        "formula": "0.00",
        "rollup": "0",
        "autonumber": "IT-0001",
    }


def _en(ctx: Any) -> Any:
    import dataclasses

    return dataclasses.replace(ctx, locale="en")


def test_names_and_files_that_do_not_exist_here_are_refused_by_row(trip: dict[str, Any], tmp_path: Any) -> None:
    """Files are written as the ids of stored files: another installation has no such file."""
    import csv

    path = tmp_path / "in.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["Code", "attachment field", "user field", "multilink field", "signature field"],
                ["R-1", "999", None, None, None],
                ["R-2", None, "zhao", "P-100, P-404", "998"],
            ]
        )
    report = trip["records"].import_file(_en(trip["ctx"]), "item", str(path))
    assert not report.ok and report.created == 0
    assert sorted((e.row, e.column, e.message) for e in report.errors) == [
        (2, "attachment field", "file 999 does not exist"),
        (3, "multilink field", "no Part matches P-404"),
        (3, "user field", "no user named zhao"),
    ]
