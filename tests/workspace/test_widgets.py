"""Every registered field type gets a widget, and types the workspace has never seen render too."""

from __future__ import annotations

from typing import Any

import pytest
from flask import render_template_string

from apps.workspace.fields import WIDGETS, field_view, widget_for
from engine.definitions.model import FieldSpec, Labels, Option
from engine.errors import Position
from engine.expr.types import ExprType
from engine.forms import FIELD_TYPES
from engine.forms.fieldtype import FieldType

OPTIONS = (Option("a", Labels({"zh-CN": "甲", "en": "A"})), Option("b", Labels({"zh-CN": "乙", "en": "B"})))


def spec_of(type_name: str, **extra: Any) -> FieldSpec:
    child = FieldSpec("qty", "integer", Labels({"en": "Qty"}), Position())
    return FieldSpec(
        "f",
        type_name,
        Labels({"zh-CN": "字段", "en": "Field"}),
        Position(),
        options=OPTIONS,
        form="client",
        fields=(child,) if type_name == "table" else (),
        **extra,
    )


def render(app: Any, view: Any, value: Any = None) -> str:
    with app.test_request_context("/w/order/new"):
        return render_template_string(
            '{% import "widgets.html" as W with context %}{{ W.field(v, value, {}, {}) }}', v=view, value=value
        )


@pytest.mark.parametrize("type_name", FIELD_TYPES.names())
def test_every_registered_type_renders(app: Any, type_name: str) -> None:
    spec = spec_of(type_name)
    widget = widget_for(spec)
    assert widget in WIDGETS
    html = render(app, field_view(spec, "zh-CN"))
    assert 'data-field="f"' in html and "字段" in html


class Hologram(FieldType):
    """A type this workspace has never heard of, with a widget it does not draw."""

    name = "hologram_date"
    widget = "hologram"
    expr_type = ExprType.DATE


def test_an_unknown_widget_falls_back_by_expression_type(app: Any) -> None:
    FIELD_TYPES.register(Hologram.name, Hologram())
    try:
        spec = spec_of("hologram_date")
        assert widget_for(spec) == "date"
        assert (
            '<div class="datebox" data-date="date"><input type="text" name="f" id="f-f" value="2026-11-02"'
            in render(app, field_view(spec, "en"), "2026-11-02")
        )
    finally:
        FIELD_TYPES.unregister("hologram_date")


def test_formulas_and_lookups_are_shown_not_typed(app: Any) -> None:
    assert widget_for(spec_of("money", formula="1 + 1")) == "readonly"
    html = render(app, field_view(spec_of("money", formula="1 + 1"), "en"), "2.00")
    assert "<output" in html and "<input" not in html


def test_cascade_choices_are_paths_with_labels_in_the_users_language() -> None:
    from apps.workspace.fields import cascade_paths

    tree = [
        {
            "value": "浙江",
            "label": {"zh-CN": "浙江省", "en": "Zhejiang"},
            "children": [{"value": "宁波", "children": ["海曙", "鄞州"]}],
        },
        "上海",
    ]
    assert cascade_paths(tree, "en") == [
        ("浙江/宁波/海曙", "Zhejiang / 宁波 / 海曙"),
        ("浙江/宁波/鄞州", "Zhejiang / 宁波 / 鄞州"),
        ("上海", "上海"),
    ]
    assert [v for v, _ in cascade_paths(tree, "zh-CN", full_path=False)] == [
        "浙江",
        "浙江/宁波",
        "浙江/宁波/海曙",
        "浙江/宁波/鄞州",
        "上海",
    ]


def test_a_file_field_takes_several_files_unless_it_holds_one(app: Any) -> None:
    many = field_view(spec_of("image"), "en")
    one = field_view(spec_of("image", props={"max_items": 1}), "en")
    assert 'multiple accept="image/png,image/jpeg,image/gif,image/webp"' in render(app, many)
    assert "multiple" not in render(app, one) and 'type="file"' in render(app, one)
