"""Positions, duplicate keys and malformed input in the YAML/JSON reader."""

from __future__ import annotations

from engine.definitions.yaml_source import PosDict, PosList, parse_yaml


def test_positions_of_keys_values_and_items() -> None:
    text = "name: order\nfields:\n  - name: qty\n    label: '数量'\n"
    data, errors = parse_yaml(text, "f.yaml")
    assert errors == []
    assert isinstance(data, PosDict) and isinstance(data["fields"], PosList)
    assert str(data.pos_of("fields")) == "f.yaml:2:1"
    assert str(data.value_pos("name")) == "f.yaml:1:7"
    assert str(data["fields"].pos_of(0)) == "f.yaml:3:5"
    field = data["fields"][0]
    assert str(field.value_pos("label")) == "f.yaml:4:12"
    assert str(field.text_pos("label")) == "f.yaml:4:13"  # quoted: the text starts after the quote
    assert field.value_pos("label").source_line == "    label: '数量'"


def test_block_scalar_text_starts_on_the_next_line() -> None:
    data, _ = parse_yaml("expr: |\n    qty > 0\n", "f.yaml")
    assert str(data.text_pos("expr")) == "f.yaml:2:5"


def test_json_has_positions_too() -> None:
    data, errors = parse_yaml('{\n  "name": "order",\n  "fields": [1, 2]\n}\n', "f.json")
    assert errors == []
    assert str(data.value_pos("name")) == "f.json:2:11"
    assert str(data["fields"].pos_of(1)) == "f.json:3:17"


def test_duplicate_key_is_an_error_and_the_first_value_is_kept() -> None:
    data, errors = parse_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert [str(e).split("\n")[0] for e in errors] == ["f.yaml:3:1: duplicate key 'a' (first given on line 1)"]
    assert data["a"] == 1


def test_merge_keys_may_be_overridden() -> None:
    data, errors = parse_yaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n", "f.yaml")
    assert errors == []
    assert data["other"] == {"x": 1, "y": 3}


def test_malformed_yaml_in_plain_words_with_a_caret() -> None:
    _, errors = parse_yaml("name: a\nlabel: b: c\n", "f.yaml")
    assert str(errors[0]) == (
        "f.yaml:2:9: invalid YAML: a ':' is not allowed here (quote the text, or check the "
        "indentation of this line)\n    label: b: c\n            ^"
    )


def test_tabs_and_bad_indentation() -> None:
    _, errors = parse_yaml("a:\n\tb: 1\n", "f.yaml")
    assert str(errors[0]).split("\n")[0] == (
        "f.yaml:2:1: invalid YAML: a tab character is not allowed here; indent with spaces"
    )
    _, errors = parse_yaml("a:\n  - x\n - y\n", "f.yaml")
    assert str(errors[0]).split("\n")[0] == (
        "f.yaml:3:2: invalid YAML: this line is indented wrongly (it does not line up with the lines above)"
    )


def test_python_tags_are_refused() -> None:
    """Only SafeLoader: no object construction from a definition file."""
    data, errors = parse_yaml("a: !!python/object/apply:os.system ['echo hi']\n", "f.yaml")
    assert data is None
    assert str(errors[0]).split("\n")[0].startswith("f.yaml:1:4: invalid YAML: could not determine a constructor")


def test_alias_bombs_and_self_reference_are_refused() -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi")
    )
    data, errors = parse_yaml(laughs, "f.yaml")
    assert data is None
    assert str(errors[0]).split("\n")[0] == (
        "f.yaml:1:1: invalid YAML: this document expands to more than 200000 values through aliases (*name)"
    )
    data, errors = parse_yaml("a: &a [*a]\n", "f.yaml")
    assert str(errors[0]).split("\n")[0] == (
        "f.yaml:1:1: invalid YAML: this document refers to itself through aliases (*name)"
    )


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    data, errors = parse_yaml("[" * 1500 + "]" * 1500, "f.yaml")
    assert data is None and errors[0].message == "invalid YAML: the data is nested too deeply"


def test_json_tabs_and_exponents() -> None:
    data, errors = parse_yaml('{\n\t"a": 1e3,\n\t"b": "x"\n}\n', "f.json")
    assert errors == [] and data == {"a": 1000.0, "b": "x"}
    assert str(data.value_pos("b")) == "f.json:3:7"
    _, errors = parse_yaml('{"a": [1, 2}', "f.json")
    assert str(errors[0]).split("\n")[0] == (
        "f.json:1:12: invalid JSON: expected ',' or ']', but got '}' (while parsing a flow sequence)"
    )
