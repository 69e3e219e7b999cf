"""Every field type round-trips through the API: create, read back, update, read back."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest

from engine.forms import FIELD_TYPES

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 20
SIG = "data:image/png;base64," + base64.b64encode(PNG).decode()

#: field -> (value sent on create, value read back, value sent on update, value read back)
CASES: dict[str, tuple[Any, Any, Any, Any]] = {
    "f_text": ("  hello ", "hello", "你好", "你好"),
    "f_textarea": ("a\r\nb", "a\nb", "c", "c"),
    "f_richtext": ('<p onclick="x()">hi<script>alert(1)</script></p>', "<p>hi</p>", "<b>bold</b>", "<b>bold</b>"),
    "f_email": ("Wang@Example.COM", "wang@example.com", "a@b.cn", "a@b.cn"),
    "f_phone": ("+86 138-0000-0000", "+86 138-0000-0000", "0574-8888 8888", "0574-8888 8888"),
    "f_url": ("https://example.com/a?b=1", "https://example.com/a?b=1", "http://x.cn", "http://x.cn"),
    "f_integer": (5, 5, "1,200", 1200),
    "f_decimal": ("1.23456", "1.2346", 2, "2.0000"),
    "f_number": (0.1, "0.100000", "3", "3.000000"),
    "f_money": ("12.345", "12.35", "0.005", "0.01"),
    "f_percent": ("0.125", "0.1250", 1, "1.0000"),
    "f_boolean": ("是", True, False, False),
    "f_date": ("2026/11/21", "2026-11-21", "2026-12-01", "2026-12-01"),
    "f_datetime": ("2026-11-21T08:00", "2026-11-21T00:00:00+00:00", "2026-11-21T08:00Z", "2026-11-21T08:00:00+00:00"),
    "f_time": ("08:30", "08:30:00", "17:05:09", "17:05:09"),
    "f_duration": ("2h30m", 9000, "1d", 86400),
    "f_select": ("红色", "red", "Black", "black"),
    "f_radio": ("a", "a", "b", "b"),
    "f_multiselect": ("a, c", ["a", "c"], ["b"], ["b"]),
    "f_checkboxes": (["red", "银色"], ["red", "silver"], "black", ["black"]),
    "f_cascade": (["浙江", "宁波", "海曙"], ["浙江", "宁波", "海曙"], "广东/深圳/南山", ["广东", "深圳", "南山"]),
    "f_link": ("@p1", "@p1", "@p2", "@p2"),
    "f_multilink": (["@p1", "@p2"], ["@p1", "@p2"], ["@p2"], ["@p2"]),
    "f_user": (1, 1, "2", 2),
    "f_role": ("sales", "sales", "admin", "admin"),
    "f_department": ("车间", "workshop", "sales", "sales"),
    "f_json": ({"a": [1, 2]}, {"a": [1, 2]}, [1, "x"], [1, "x"]),
    "f_attachment": (["@txt"], ["@txt"], "@png", ["@png"]),
    "f_image": ("@png", ["@png"], ["@png"], ["@png"]),
    "f_signature": (SIG, "@sig", "@png", "@png"),
    "f_location": (
        {"lat": "29.87", "lng": 121.55, "address": "宁波"},
        {"lat": 29.87, "lng": 121.55, "address": "宁波"},
        "30.1,120.2",
        {"lat": 30.1, "lng": 120.2},
    ),
    "f_barcode": ("6901234567892", "6901234567892", "4006381333931", "4006381333931"),
    "f_rating": ("4", 4, 5, 5),
    "f_colour": ("#abc", "#AABBCC", "ff0000", "#FF0000"),
    "f_tags": ("急单，样品, 急单", ["急单", "样品"], ["x"], ["x"]),
    "f_address": (
        {"province": "浙江", "city": "宁波", "district": "海曙", "detail": "中山路 1 号"},
        {"province": "浙江", "city": "宁波", "district": "海曙", "detail": "中山路 1 号"},
        ["广东", "深圳"],
        {"province": "广东", "city": "深圳"},
    ),
    "f_table": ([{"n": 1}, {"n": "2"}], [1, 2], [{"n": 5}], [5]),
    "f_group": (
        {"name": " 王 ", "credit": 5},
        {"name": "王", "credit": "5.00"},
        {"name": "李"},
        {"name": "李", "credit": None},
    ),
}
#: computed types: what the server sets, whatever the client sent
COMPUTED = {"f_autonumber", "f_formula", "f_rollup"}


@pytest.fixture
def refs(api: Any, client: Any, auth: Any) -> dict[str, Any]:
    p1 = api.ok("product", {"name": "合页", "price": "12.50"})["id"]
    p2 = api.ok("product", {"name": "拉手", "price": "30"})["id"]
    out = {"@p1": p1, "@p2": p2}
    for key, name, ctype, data in (("@txt", "a.txt", "text/plain", b"hello"), ("@png", "a.png", "image/png", PNG)):
        r = client.post(
            "/api/v1/files",
            headers=auth(),
            data={"file": (io.BytesIO(data), name, ctype)},
            content_type="multipart/form-data",
        )
        assert r.status_code == 201, r.get_json()
        out[key] = r.get_json()["id"]
    return out


def _sub(value: Any, refs: dict[str, Any]) -> Any:
    if isinstance(value, str) and value in refs:
        return refs[value]
    if isinstance(value, list):
        return [_sub(v, refs) for v in value]
    return value


def test_at_least_30_types_each_with_schema_column_widget() -> None:
    names = FIELD_TYPES.names()
    assert len(names) >= 30
    for name in names:
        ftype = FIELD_TYPES[name]
        assert ftype.widget, name
    fields = {f[2:] for f in CASES} | {c[2:] for c in COMPUTED}
    assert fields == set(names), set(names) ^ fields


@pytest.mark.parametrize("field", sorted(CASES))
def test_round_trip_through_the_api(field: str, api: Any, refs: dict[str, Any]) -> None:
    create, created, update, updated = (_sub(v, refs) for v in CASES[field])
    rec = api.ok("item", {field: create})
    got = api.get("item", rec["id"])
    if field == "f_table":
        got_value: Any = [row["n"] for row in got[field]]
    else:
        got_value = got[field]
    if field == "f_signature":
        assert isinstance(got_value, int) and got_value not in refs.values()
    else:
        assert got_value == created
    status, body = api.patch("item", rec["id"], {field: update})
    assert status == 200, body
    got = api.get("item", rec["id"])
    got_value = [row["n"] for row in got[field]] if field == "f_table" else got[field]
    assert got_value == updated


def test_computed_types_ignore_what_the_client_sends(api: Any) -> None:
    rec = api.ok(
        "item", {"f_integer": 4, "f_formula": 99, "f_rollup": 1, "f_autonumber": "X", "f_table": [{"n": 2}, {"n": 3}]}
    )
    assert (rec["f_formula"], rec["f_rollup"], rec["f_autonumber"]) == (8, 5, "IT-0001")
    status, rec = api.patch("item", rec["id"], {"f_table": [{"n": 10}], "f_integer": 1})
    assert status == 200 and (rec["f_formula"], rec["f_rollup"]) == (2, 10)


BAD = [
    ("f_text", "x" * 21, "must have at most 20 characters", "长度不能超过 20 个字符"),
    ("f_integer", -1, "must be at least 0", "不能小于 0"),
    ("f_duration", "2 weeks", "must be a duration (seconds, or like 2h30m, 1d)", "必须是时长 (秒数, 或如 2h30m、1d)"),
    ("f_select", "green", "is not one of the options: green", "不是可选值: green"),
    ("f_checkboxes", ["red", "black", "silver"], "must have at most 2 items", "最多 2 项"),
    ("f_cascade", ["浙江", "深圳"], "is not a valid choice at level 2: 深圳", "不是有效的层级选项: 深圳"),
    ("f_cascade", ["浙江", "宁波"], "must go down to level 3", "请选到第 3 级"),
    ("f_role", "boss", "is not a defined role: boss", "不是已定义的角色: boss"),
    ("f_multilink", [999], "refers to record 999, which does not exist", "引用的记录 999 不存在"),
    ("f_attachment", [999], "file 999 does not exist", "文件 999 不存在"),
    ("f_location", {"lat": 91, "lng": 0}, "latitude must be between -90 and 90", "纬度必须在 -90 到 90 之间"),
    ("f_location", {"lat": 1, "lng": 0, "x": 1}, "unknown key: x", "未知的键: x"),
    ("f_barcode", "6901234567891", "is not a valid EAN13 code", "不是有效的 EAN13 条码"),
    ("f_rating", 6, "must be at most 5", "不能大于 5"),
    ("f_colour", "red", "must be a colour #RRGGBB", "必须是颜色 #RRGGBB"),
    (
        "f_address",
        {"city": "宁波"},
        "must be an address {province, city, district, detail}",
        "必须是地址 {province, city, district, detail}",
    ),
    (
        "f_signature",
        "data:image/png;base64,AAAA",
        "must be a PNG signature (data:image/png;base64,...)",
        "必须是 PNG 签名 (data:image/png;base64,...)",
    ),
]


@pytest.mark.parametrize("field, value, en, zh", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_values_in_both_languages(field: str, value: Any, en: str, zh: str, api: Any) -> None:
    for lang, message in (("en", en), ("zh-CN", zh)):
        status, body = api.post("item", {field: value}, lang=lang)
        assert status == 422, body
        assert body["error"]["fields"] == {field: [message]}


def test_unknown_fields_are_rejected_by_name(api: Any) -> None:
    status, body = api.post(
        "item", {"f_text": "a", "colour": "x", "f_table": [{"n": 1, "m": 2}], "f_group": {"credit": -1, "x": 1}}
    )
    assert status == 422
    assert body["error"]["fields"] == {
        "colour": ["unknown field"],
        "f_table[1].m": ["unknown field"],
        "f_group.x": ["unknown field"],
        "f_group.name": ["is required"],
        "f_group.credit": ["must be at least 0"],
    }


ESCAPES = [
    '<img src=x onerror="alert(1)">',
    "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    '<iframe src="https://evil"></iframe>',
    '<style>body{}</style><p style="x:expression(1)">t</p>',
    "<<script>script>alert(1)<</script>/script>",
    '<p><a href="JaVaScRiPt:alert(1)">y</a></p>',
]


@pytest.mark.parametrize("html", ESCAPES)
def test_richtext_strips_scripts_and_handlers(html: str, api: Any) -> None:
    value = api.ok("item", {"f_richtext": html})["f_richtext"] or ""
    low = value.lower()
    for bad in ("<script", "onerror", "onload", "javascript:", "<iframe", "<style", "expression("):
        assert bad not in low, value
