"""The generated validator agrees with the reference interpreter on any input.

Each field type's inlined common case (``FieldType.inline``) must give exactly what its
``parse`` gives; inputs here mix plain values with the near misses that must leave the fast
case (padding, a thousands separator, too many places, NaN, an impossible date, labels).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.definitions import load_pack_files
from engine.forms.fieldtype import FIELD_TYPES
from engine.forms.types_basic import Text
from engine.forms.validate import RowValidator

FORM = """\
name: lab
fields:
  - {name: t, type: text, required: true, min_length: 2, max_length: 6}
  - {name: tp, type: text, pattern: "[A-Z]+-[0-9]+"}
  - {name: ta, type: textarea, max_length: 8}
  - {name: em, type: email}
  - {name: ph, type: phone}
  - {name: url, type: url}
  - {name: rt, type: richtext}
  - {name: bc, type: barcode, symbology: ean13}
  - {name: i, type: integer, min: -5, max: 50}
  - {name: m, type: money, min: 0, max: 1000}
  - {name: pc, type: percent, min: 0, max: 1}
  - {name: dn, type: decimal, scale: 0}
  - {name: d, type: date, default: "2026-01-31"}
  - {name: b, type: boolean}
  - {name: s, type: select, options: [{value: a, label: {zh-CN: 甲, en: Alpha}}, b]}
  - {name: r, type: radio, options: [x, y]}
  - {name: u, type: user}
  - name: g
    type: group
    fields:
      - {name: code, type: text, required: true, max_length: 4}
      - {name: day, type: date}
      - {name: amount, type: money}
  - name: lines
    type: table
    fields:
      - {name: qty, type: integer, required: true, min: 1}
      - {name: price, type: money, min: 0}
"""

ROWS = RowValidator(
    load_pack_files({"pack.yaml": 'name: lab\nversion: "1.0.0"\n', "forms/lab.yaml": FORM}, "lab").forms["lab"].fields
)

TEXT_SAMPLES = [
    "",
    " ",
    "ab",
    " ab ",
    "abcdefg",
    "AB-12",
    "ab-12",
    "a\r\nb",
    "x@Y.com",
    " x@y.com",
    "x@",
    "+86 138-0000",
    "12",
    "https://a.cn/x",
    "ftp://a",
    "<b>hi</b><script>x</script>",
    "4006381333931",
    "4006381333932",
    "甲",
    "Alpha",
    "a",
    "b",
    "c",
    "x",
    "y",
]
NUMBER_SAMPLES = [
    "0",
    "1",
    "-1",
    "12.5",
    "12.50",
    "12.505",
    "12.5051",
    "1,000",
    "1e3",
    " 7 ",
    "NaN",
    "Infinity",
    "-0",
    "0.99995",
    "1000.004",
    "1000.005",
    "abc",
    "",
    "3.",
    ".5",
    "1_000",
    "1e30",
    "9" * 17,
    "-" + "9" * 16 + ".5",
]
DATE_SAMPLES = [
    "2026-01-31",
    "2026-02-30",
    "2026-13-01",
    "2026/01/31",
    " 2026-01-31",
    "20260131",
    "2026-1-3",
    "2026-W01-1",
    "2026-01-31T08:00",
    "tomorrow",
    "",
]
TEXTS, NUMBERS, DATES = map(st.sampled_from, (TEXT_SAMPLES, NUMBER_SAMPLES, DATE_SAMPLES))
SCALARS = st.one_of(
    TEXTS,
    NUMBERS,
    DATES,
    st.integers(-10, 60),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True),
    st.lists(st.integers(0, 3), max_size=2),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.dictionaries(
        st.sampled_from(["code", "day", "amount", "qty", "price", "id", "zz"]), inner, max_size=4
    ),
    max_leaves=6,
)
NAMES = st.sampled_from([f.name for f in ROWS.checks.values()] + ["unknown"])


def both(data: Any, partial: bool) -> tuple[Any, Any]:
    generated: dict[str, list[str]] = {}
    reference: dict[str, list[str]] = {}
    a = ROWS.run(data, generated, "", partial=partial, locale="en")
    b = ROWS.interpret(data, reference, "", partial=partial, locale="en")
    return (a, generated), (b, reference)


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(NAMES, st.one_of(VALUES, st.lists(VALUES, max_size=3))), st.booleans())
def test_generated_validator_agrees_with_the_interpreter(data: dict[str, Any], partial: bool) -> None:
    generated, reference = both(data, partial)
    assert generated == reference


def test_every_near_miss_is_exercised_per_type() -> None:
    """Not left to chance: every sample against every field, whole record and partial."""
    samples = [
        *TEXT_SAMPLES,
        *NUMBER_SAMPLES,
        *DATE_SAMPLES,
        0,
        7,
        -6,
        51,
        10**30,
        1e26,
        True,
        False,
        None,
        1.5,
        [],
        {},
        [{"qty": "2", "price": "1.5"}, {"qty": 0}],
        {"code": "A1", "day": "2026-02-30"},
    ]
    for name in ROWS.checks:
        for value in samples:
            for partial in (False, True):
                generated, reference = both({name: value}, partial)
                assert generated == reference, (name, value, partial)


def test_a_subclass_that_changes_parsing_loses_the_fast_case() -> None:
    class Shouting(Text):
        name = "shouting"

        def finish(self, value: str) -> str:
            return value.upper()

    spec = ROWS.checks["t"].spec
    assert FIELD_TYPES["text"].fast_case(spec, str) is not None
    assert Shouting().fast_case(spec, str) is None
    assert Shouting().fast(spec)(" hi ") == "HI"
    assert FIELD_TYPES["richtext"].fast(ROWS.checks["rt"].spec)("<p onclick='x()'>hi</p>") == "<p>hi</p>"
