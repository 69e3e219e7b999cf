"""The runnable examples in docs/forms.md run and print what the page says."""

from __future__ import annotations

from tests.docs_example import DOCS, check_example


def test_form_engine_example_runs(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    check_example("forms.md", "The form engine at work")


def test_every_field_type_is_documented() -> None:
    from engine.forms import FIELD_TYPES

    text = (DOCS / "forms.md").read_text(encoding="utf-8")
    for name in FIELD_TYPES.names():
        assert f"`{name}`" in text, name


def test_definition_errors_for_option_libraries_layout_lookups_and_cycles(tmp_path) -> None:
    import textwrap

    import pytest

    from engine.definitions import load_pack
    from engine.errors import DefinitionErrors

    root = tmp_path / "shop"
    (root / "forms").mkdir(parents=True)
    (root / "options").mkdir()
    (root / "pack.yaml").write_text('name: shop\nversion: "1.0.0"\n')
    (root / "options/colours.yaml").write_text("options: [red, blue]\n")
    (root / "forms/item.yaml").write_text(
        textwrap.dedent("""\
        name: item
        fields:
          - {name: name, type: text}
          - {name: price, type: money}
          - {name: colour, type: select, options: "@colors"}
        layout:
          sections:
            - {name: main, fields: [name, pricee]}
        """),
        encoding="utf-8",
    )
    (root / "forms/calc.yaml").write_text(
        textwrap.dedent("""\
        name: calc
        fields:
          - {name: price, type: money}
          - {name: a, type: formula, formula: b + 1}
          - {name: b, type: formula, formula: a + 1}
          - {name: lk, type: money, lookup: {from: itemx, value: price}}
          - {name: d, type: date, default: "=todayy()"}
        """),
        encoding="utf-8",
    )
    with pytest.raises(DefinitionErrors) as exc:
        load_pack(root)
    got = [
        f"{e.position.file.rsplit('/', 1)[1]}:{e.position.line}:{e.position.column}: {e.message}"
        for e in exc.value.errors
    ]
    assert got == [
        "calc.yaml:4:39: computed fields depend on each other in a circle: a -> b -> a",
        "calc.yaml:6:44: lookup: unknown form 'itemx' (forms: calc, item)",
        "calc.yaml:7:38: unknown function 'todayy'",
        "item.yaml:5:43: field 'colour': no option library 'colors' (options/colors.yaml)",
        "item.yaml:8:35: layout: unknown field 'pricee'",
    ]
