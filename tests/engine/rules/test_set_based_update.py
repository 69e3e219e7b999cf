"""A set-based ``update <form> where ... set ...`` is an ordinary write: the written form's
stored formulas are recomputed (in the same statement), write guards are asked, and the
journal (audit + versions) records it."""

from __future__ import annotations

from typing import Any

from engine.definitions.loader import read_pack_files
from engine.platform import Platform
from engine.service import Records
from tests.engine.rules.conftest import PACK

RESERVE = """on order
rule "reserve stock"
  when created
  then for line in lines
         update material where id == line.material set reserved = reserved + line.qty
         require on_hand - reserved >= 0 else "物料 {name} 库存不足"
"""
AVAILABLE = """
  - name: available
    type: integer
    label: {zh-CN: 可用, en: Available}
    formula: on_hand - reserved
"""


def publish_with_available(platform: Platform, rules: str = RESERVE) -> Any:
    """The stock pack whose material has the stored formula ``available = on_hand - reserved``."""
    files = read_pack_files(PACK)
    files["rules/stock.rules"] = rules
    files["forms/material.yaml"] = files["forms/material.yaml"].rstrip("\n") + "\n" + AVAILABLE.lstrip("\n")
    return platform.publish(PACK, files)


def test_reserving_recomputes_the_stored_formula(platform: Platform, records: Records, ctx: Any) -> None:
    publish_with_available(platform)
    m = records.create(ctx, "material", {"name": "钢板", "on_hand": 10})
    assert m["available"] == 10
    records.create(ctx, "order", {"lines": [{"material": m["id"], "qty": 3}]})
    after = records.get(ctx, "material", m["id"])
    assert (after["on_hand"], after["reserved"], after["available"]) == (10, 3, 7)
    assert after["version"] == 2
    hist = records.history(ctx, "material", m["id"])
    last = hist["audit"][-1]
    assert (last["action"], last["source"], last["version"]) == ("update", "rule", 2)
    assert last["changes"] == {"reserved": [0, 3], "available": [10, 7]}
    assert hist["versions"][-1]["data"]["available"] == 7


def test_many_rows_in_one_update_each_get_their_formula(platform: Platform, records: Records, ctx: Any) -> None:
    publish_with_available(
        platform,
        """on order
rule "reserve everything"
  when created
  then update material where on_hand > 0 set reserved = reserved + 1
""",
    )
    made = [records.create(ctx, "material", {"name": f"m{i}", "on_hand": 5 + i}) for i in range(3)]
    empty = records.create(ctx, "material", {"name": "none", "on_hand": 0})
    records.create(ctx, "order", {"lines": [{"material": made[0]["id"], "qty": 1}]})
    got = {m["id"]: records.get(ctx, "material", m["id"]) for m in made + [empty]}
    assert [got[m["id"]]["available"] for m in made] == [4, 5, 6]
    assert got[empty["id"]]["available"] == 0 and got[empty["id"]]["version"] == 1


def test_an_update_may_not_set_a_computed_field(platform: Platform) -> None:
    import pytest

    from engine.errors import DefinitionErrors

    with pytest.raises(DefinitionErrors) as err:
        publish_with_available(
            platform,
            """on order
rule "overwrite"
  when created
  then update material where id == 1 set available = 0
""",
        )
    assert str(err.value).splitlines()[0] == (
        "stock/rules/stock.rules:4:42: update cannot set material.available: it is computed "
        "(the store computes it on every write; set the fields it is computed from)"
    )


def test_a_set_based_update_is_validated_like_any_write(platform: Platform, records: Records, ctx: Any) -> None:
    import pytest

    from engine.rules.errors import RuleFailed

    files = read_pack_files(PACK)
    files["rules/stock.rules"] = """on order
rule "release"
  when created
  then for line in lines
         update material where id == line.material set reserved = reserved - line.qty
"""
    reserved = "  - name: reserved\n    type: integer\n    label: {zh-CN: 已预留, en: Reserved}\n    default: 0\n"
    assert reserved in files["forms/material.yaml"]
    files["forms/material.yaml"] = files["forms/material.yaml"].replace(reserved, reserved + "    min: 0\n")
    platform.publish(PACK, files)
    m = records.create(ctx, "material", {"name": "钢板", "on_hand": 10, "reserved": 3})
    with pytest.raises(RuleFailed) as err:
        records.create(ctx, "order", {"lines": [{"material": m["id"], "qty": 5}]})
    assert "rule 'release' failed in its 'update' action" in str(err.value)
    assert "reserved: 不能小于 0" in str(err.value)
    assert records.get(ctx, "material", m["id"])["reserved"] == 3
    records.create(ctx, "order", {"lines": [{"material": m["id"], "qty": 2}]})
    assert records.get(ctx, "material", m["id"])["reserved"] == 1
