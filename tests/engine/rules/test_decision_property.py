"""Property: the compiled table agrees with a naive interpreter of the same rows on random inputs.

The interpreter below reads the cell texts itself (it shares no code with the compiler), tests
rows one by one, and applies the hit policy. Random tables under ``first`` that the checker
rejects as unreachable must really be shadowed: the earlier row fires whenever the later does.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Optional

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import DefinitionErrors
from engine.expr import FieldInfo, Scope
from engine.expr.types import ExprType as T
from engine.rules.decision import compile_decision_table

SCOPE = Scope(
    "sales_order",
    {f.name: f for f in [FieldInfo("amount", T.DECIMAL), FieldInfo("tier", T.STRING), FieldInfo("channel", T.STRING)]},
    "1",
)
NUMS = [0, 100, 5000, 10000, 50000, 200000]
TIERS = ["A", "B", "C"]
CHANNELS = ["web", "api", "shop"]


# ---------------------------------------------------------------- the naive interpreter
def naive_cell(text: str, v: Any) -> bool:
    t = text.strip()
    if t in ("", "-"):
        return True
    if v is None:  # as in expressions: only != and not in hold for an empty value
        return t.startswith(("!=", "not in"))
    m = re.fullmatch(r"(<=|>=|<|>|==|!=)\s*(.+)", t)
    if m:
        w = _value(m.group(2))
        return {"<": v < w, "<=": v <= w, ">": v > w, ">=": v >= w, "==": v == w, "!=": v != w}[m.group(1)]
    m = re.fullmatch(r"([\[(])(.+)\.\.(.+)([\])])", t)
    if m:
        lo, hi = _value(m.group(2)), _value(m.group(3))
        return (v >= lo if m.group(1) == "[" else v > lo) and (v <= hi if m.group(4) == "]" else v < hi)
    m = re.fullmatch(r"between (.+) and (.+)", t)
    if m:
        return _value(m.group(1)) <= v <= _value(m.group(2))
    m = re.fullmatch(r"(not )?in \[(.*)\]", t)
    if m:
        inside = v in [_value(x) for x in m.group(2).split(",")]
        return not inside if m.group(1) else inside
    return v in [_value(x) for x in t.split(",")]


def _value(text: str) -> Any:
    text = text.strip()
    if text.startswith('"'):
        return text.strip('"')
    if re.fullmatch(r"-?\d+", text):
        return Decimal(text)
    return text  # a bare word


def naive(rows: list[list[str]], hit: str, record: dict[str, Any]) -> Any:
    matched = [
        {"out": row[-1]}
        for row in rows
        if all(naive_cell(c, record[k]) for c, k in zip(row, ("amount", "tier", "channel")))
    ]
    if hit == "collect":
        return matched
    return matched[0] if matched else None


# ---------------------------------------------------------------- random tables
def num_cell() -> st.SearchStrategy[str]:
    n = st.sampled_from(NUMS)
    return st.one_of(
        st.just("-"),
        n.map(str),
        st.tuples(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), n).map(lambda p: f"{p[0]} {p[1]}"),
        st.tuples(st.sampled_from("[("), n, n, st.sampled_from("])")).map(
            lambda p: f"{p[0]}{min(p[1], p[2])}..{max(p[1], p[2])}{p[3]}"
        ),
        st.tuples(n, n).map(lambda p: f"between {min(p)} and {max(p)}"),
        st.lists(n, min_size=1, max_size=3, unique=True).map(lambda xs: ", ".join(map(str, xs))),
    )


def text_cell(words: list[str]) -> st.SearchStrategy[str]:
    w = st.sampled_from(words)
    some = st.lists(w, min_size=1, max_size=2, unique=True)
    return st.one_of(
        st.just("-"),
        w,
        w.map(lambda x: f'"{x}"'),
        some.map(", ".join),
        some.map(lambda xs: "in [" + ", ".join(f'"{x}"' for x in xs) + "]"),
        some.map(lambda xs: "not in [" + ", ".join(f'"{x}"' for x in xs) + "]"),
        w.map(lambda x: f'!= "{x}"'),
    )


ROW = st.tuples(num_cell(), text_cell(TIERS), text_cell(CHANNELS), st.sampled_from(["x", "y", "z"])).map(list)
RECORD = st.fixed_dictionaries(
    {
        "amount": st.one_of(st.none(), st.sampled_from(NUMS), st.integers(-10, 300000)).map(
            lambda v: None if v is None else Decimal(v)
        ),
        "tier": st.one_of(st.none(), st.sampled_from(TIERS + ["D"])),
        "channel": st.one_of(st.none(), st.sampled_from(CHANNELS + ["fax"])),
    }
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(ROW, min_size=1, max_size=6),
    hit=st.sampled_from(["first", "collect"]),
    records=st.lists(RECORD, min_size=1, max_size=25),
)
def test_compiled_table_equals_naive_interpreter(
    rows: list[list[str]], hit: str, records: list[dict[str, Any]]
) -> None:
    node = {
        "form": "sales_order",
        "hit": hit,
        "inputs": ["amount", "tier", "channel"],
        "outputs": ["out"],
        "rows": rows,
    }
    try:
        table = compile_decision_table(node, SCOPE, file="p.yaml")
    except DefinitionErrors as exc:
        for err in exc.errors:
            m = re.match(r"row (\d+) can never fire(?:: row (\d+) above)?", err.message)
            assert m, err.message
            later = rows[int(m.group(1)) - 1]
            earlier: Optional[list[str]] = rows[int(m.group(2)) - 1] if m.group(2) else None
            for rec in records:
                if naive([later], "first", rec) is not None:
                    assert earlier is not None and naive([earlier], "first", rec) is not None, (rows, rec)
        return
    for rec in records:
        assert table.evaluate(rec) == naive(rows, hit, rec), (rows, rec, table.python_source)
