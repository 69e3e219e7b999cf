"""Rule files: both forms, every trigger, errors with exact positions, all at once."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from engine.definitions import load_pack
from engine.definitions.loader import load_pack_files, read_pack_files
from engine.errors import DefinitionErrors
from engine.rules.syntax import parse_rules
from engine.runtime import compile_definitions
from tests.engine.rules.conftest import PACK

ISSUE_TEXT = """on material
rule "low stock"
  when updated if stock < safety_stock and changed(stock)
  then notify role buyer "{name}: {stock} left (safety {safety_stock})"
       create purchase_request {material: id, qty: reorder_qty}
stock < 20 → notify buyer
stock < 10 -> notify buyer
"""


def rules_of(text: str):
    files = read_pack_files(PACK)
    files["rules/stock.rules"] = text
    pack = load_pack_files(files, root="stock")
    return compile_definitions([pack]).rules


def errors_of(text: str) -> list[str]:
    with pytest.raises(DefinitionErrors) as info:
        rules_of(text)
    return [str(e) for e in info.value.errors]


def test_the_issue_text_compiles_long_and_short_forms():
    ruleset = rules_of(ISSUE_TEXT)
    names = [r.name for r in ruleset.rules]
    assert names == ["low stock", "stock < 20 → notify buyer", "stock < 10 -> notify buyer"]
    low = ruleset.rules[0]
    assert low.trigger.kind == "updated" and [a.kind for a in low.actions] == ["notify", "create"]
    assert low.condition is not None and low.condition.names == {"stock", "safety_stock"}
    assert ruleset.rules[1].trigger.kind == "saved" and ruleset.rules[1].short
    assert str(low.position) == "stock/rules/stock.rules:2:1"


def test_chinese_labels_and_rule_names():
    ruleset = rules_of(
        'on 物料\nrule "库存预警" when 库存 changed if 库存 < 安全库存 then set 状态 = "低库存"\n'
        "库存 < 0 → 标记 = 1\n".replace("库存 < 0 → 标记 = 1\n", '库存 < 0 → set 优先级 = "高"\n')
    )
    first, second = ruleset.rules
    assert first.form == "material" and first.name == "库存预警"
    assert first.trigger.kind == "changed" and first.trigger.fields == ("stock",)
    assert second.condition.names == {"stock"}


def test_every_trigger_kind_parses_and_timers_are_exposed():
    ruleset = rules_of(
        "on node\n"
        'rule "a" when created then notify owner\n'
        'rule "b" when deleted then notify owner\n'
        'rule "c" when created or updated then notify owner\n'
        'rule "d" when hits changed then notify owner\n'
        'rule "e" when every day at 08:00 then notify owner\n'
        'rule "f" when 72h before due then notify owner\n'
        'rule "g" when 2h after due then notify owner\n'
        'rule "h" when webhook "erp" then notify owner\n'
        'rule "i" when flow approval enter review then notify owner\n'
        'rule "j" when every 30m then notify owner\n'
    )
    by = {r.name: r.trigger for r in ruleset.rules}
    assert by["a"].events == {"created"} and by["b"].events == {"deleted"}
    assert by["c"].events == {"created", "updated"} and by["d"].fields == ("hits",)
    e = by["e"].timer
    assert e.kind == "schedule" and e.every == "day" and e.at == dt.time(8, 0) and e.timezone == "Asia/Shanghai"
    # 08:00 in Shanghai is 00:00 UTC
    assert e.next_after(dt.datetime(2026, 1, 1, 1, 0, tzinfo=dt.timezone.utc)) == dt.datetime(
        2026, 1, 2, 0, 0, tzinfo=dt.timezone.utc
    )
    assert by["f"].timer.offset == -dt.timedelta(hours=72) and by["f"].timer.path == ("due",)
    assert by["g"].timer.offset == dt.timedelta(hours=2)
    assert by["h"].kind == "webhook" and by["h"].webhook == "erp"
    assert (by["i"].flow, by["i"].direction, by["i"].node) == ("approval", "enter", "review")
    assert by["j"].timer.interval == dt.timedelta(minutes=30)
    assert {r.name for r in ruleset.timers} == {"e", "f", "g", "j"}
    # timers and flow rules never run on record events
    assert all(r.name in "abcd" for key, rs in ruleset.by_event.items() for r in rs)


def test_syntax_errors_all_at_once_with_positions_and_expected_words():
    errs = errors_of(
        "on material\n"
        'rule "a" when updated if stock < then notify owner\n'
        'rule "b" when stock then notify owner\n'
        "stock < 3 → notify\n"
    )
    assert errs == [
        "stock/rules/stock.rules:2:39: unexpected 'notify'; expected one of: then, a new line\n"
        '    rule "a" when updated if stock < then notify owner\n'
        "                                          ^",
        "stock/rules/stock.rules:3:21: unexpected 'then'; expected one of: changed\n"
        '    rule "b" when stock then notify owner\n'
        "                        ^",
        "stock/rules/stock.rules:4:19: unexpected end of the rule; expected one of: role, user, an expression (owner, a user field, a link, a user name)\n"
        "    stock < 3 → notify\n"
        "                      ^",
    ]


def test_name_and_type_errors_point_into_the_rules_file():
    errs = errors_of(
        "on material\n"
        'rule "a" when updated if stok < 3 then notify role buyr\n'
        'rule "b" when updated if name < 3 then create purchase_reqest {qty: 1}\n'
        'rule "c" then set stock = "x", pirce = 1\n'
        'rule "d" then flag rad\n'
        'rule "e" then call sms_out {x: 1}\n'
        'rule "f" then for line in lines delete\n'
    )
    assert errs[0].startswith("stock/rules/stock.rules:2:26: unknown field 'stok' in material (did you mean 'stock'?)")
    assert errs[0].endswith('    rule "a" when updated if stok < 3 then notify role buyr\n' + " " * 29 + "^")
    assert errs[1].startswith("stock/rules/stock.rules:2:52: unknown role 'buyr' (did you mean 'buyer'?)")
    assert errs[2].startswith("stock/rules/stock.rules:3:26: cannot compare string < integer")
    assert errs[3].startswith(
        "stock/rules/stock.rules:3:47: unknown form 'purchase_reqest' (did you mean 'purchase_request'?)"
    )
    assert errs[4].startswith("stock/rules/stock.rules:4:27: stock is an integer, the value is a string")
    assert errs[5].startswith("stock/rules/stock.rules:4:32: unknown field 'pirce' in material (did you mean 'price'?)")
    assert errs[6].startswith("stock/rules/stock.rules:5:20: unknown colour 'rad' (did you mean 'red'?)")
    assert errs[7].startswith("stock/rules/stock.rules:6:20: unknown action 'sms_out'")
    assert errs[8].startswith("stock/rules/stock.rules:7:27: unknown field 'lines' in material")
    assert len(errs) == 9


def test_placeholders_and_loop_fields_are_checked():
    errs = errors_of(
        "on order\n"
        'rule "a" when created then notify role buyer "{totl}"\n'
        'rule "b" when created then for line in lines update material where id == line.materal '
        "set reserved = reserved + line.qty\n"
    )
    assert errs[0].startswith(
        "stock/rules/stock.rules:2:46: placeholder {totl}: unknown field 'totl' in order (did you mean 'total'?)"
    )
    assert errs[1].startswith(
        "stock/rules/stock.rules:3:74: unknown field 'materal' in lines (did you mean 'material'?)"
    )


def test_a_rule_needs_a_form_and_names_are_unique():
    errs = errors_of('rule "a" then notify owner\non node\nrule "b" then notify owner\nrule "b" then delete\n')
    assert errs[0].startswith("stock/rules/stock.rules:1:1: a rule needs a form first")
    assert errs[1].startswith(
        "stock/rules/stock.rules:4:1: rule 'b' on node is defined twice (first at stock/rules/stock.rules:3:1)"
    )


def test_settings():
    ruleset = rules_of('limit depth 3\nkeep runs 30d\non node\nrule "a" then notify owner\n')
    assert ruleset.max_depth == 3 and ruleset.retention == dt.timedelta(days=30)


def test_no_lark_object_survives_and_comments_are_ignored():
    from lark import Token, Tree

    items, errors = parse_rules('# c\non material # trailing\n\nrule "x" # c\n  then set stock = 1 # c\n', "f")
    assert not errors and len(items) == 2

    def walk(x):
        assert not isinstance(x, (Tree, Token)), x
        if isinstance(x, (list, tuple)):
            for y in x:
                walk(y)
        elif isinstance(x, dict):
            for y in x.values():
                walk(y)
        elif hasattr(x, "__dataclass_fields__"):
            for name in x.__dataclass_fields__:
                walk(getattr(x, name))

    walk(items)


def test_random_text_only_gives_our_errors():
    import random

    rnd = random.Random(7)
    alphabet = 'on rule when then if → -> " { } ( ) , = . : stock 12 2h set create update where require else \n'
    words = alphabet.split(" ")
    for _ in range(300):
        text = " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 25)))
        items, errors = parse_rules(text, "fuzz.rules")
        for e in errors:
            assert str(e).startswith("fuzz.rules:")


def test_the_oms_pack_rules_load():
    pack = load_pack(os.path.join(os.path.dirname(__file__), "..", "..", "..", "definitions", "oms"))
    ruleset = compile_definitions([pack]).rules
    assert len(ruleset.rules) >= 1
    assert all(r.form in pack.forms for r in ruleset.rules)


def test_a_misspelt_action_gets_a_did_you_mean():
    (err,) = errors_of('on material\nrule "a" then notfy owner\n')
    assert err.startswith("stock/rules/stock.rules:2:15: unexpected 'notfy'; expected one of: ")
    assert "(did you mean 'notify'?)" in err.splitlines()[0]


ESCAPES = [
    line
    for line in (os.path.join(os.path.dirname(__file__), "..", "expr", "escapes.txt"),)
    for line in (open(line, encoding="utf-8").read().splitlines() if os.path.exists(line) else [])
    if line.strip() and not line.startswith("#")
]


@pytest.mark.parametrize("attempt", ESCAPES or ["__import__('os')"])
def test_escape_attempts_in_rules_are_definition_errors(attempt):
    for text in (
        f"on material\n{attempt} → flag red\n",
        f'on material\nrule "x" then set status = {attempt}\n',
        f'on material\nrule "x" then update material where {attempt} set stock = 1\n',
    ):
        try:
            rules_of(text)
        except DefinitionErrors as exc:
            assert all(str(e).startswith("stock/rules/stock.rules:") for e in exc.errors)
        else:  # it compiled: then it is a harmless expression of our language, never Python
            pass


def test_message_templates_never_reach_attributes():
    from engine.rules.actions import render

    assert render("{name.__class__}", {"name": "x"}) == ""
    assert render("{0.__class__.__mro__}", {"name": "x"}) == ""
    assert render("{name!r:>{width}}", {"name": "x"}) == "{name!r:>}"  # no format specs, no conversion
    assert render("{name}", {"name": "{stock}", "stock": 1}) == "{stock}"


def test_publish_refuses_a_pack_with_broken_rules(platform):
    files = read_pack_files(PACK)
    files["rules/stock.rules"] = 'on material\nrule "a" when updated if stok < 1 then flag red\n'
    with pytest.raises(DefinitionErrors) as info:
        platform.publish(PACK, files)
    assert "rules/stock.rules:2:26: unknown field 'stok' in material (did you mean 'stock'?)" in str(info.value)
    assert [r.name for r in platform.definitions().rules.rules][0] == "low stock"  # the old version stays


def test_a_keyword_where_a_name_belongs_is_reported_at_the_keyword() -> None:
    (error,) = errors_of('on material\nrule "x" when updated if stock > 5 and and price > 1 then flag red\n')
    assert error.splitlines()[0].startswith("stock/rules/stock.rules:2:40: unexpected 'and'; expected one of: (")
    assert error.splitlines()[0].endswith("('and' is a keyword, not a name)")
