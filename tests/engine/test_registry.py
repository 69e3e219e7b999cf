"""The one registry (engine.registry): what the layers above and the plugins register by name,
and what the loader and the compilers find there."""

from __future__ import annotations

import os
from typing import Callable

import pytest

import engine.forms  # noqa: F401  (register the field types and the form-logic check, as the platform does)
import engine.rules  # noqa: F401  (register the action builders and the decision-table check)
from engine import registry
from engine.definitions import load_pack
from engine.definitions.checks import PACK_CHECKS
from engine.errors import DefinitionErrors, LowcodeError
from engine.expr import FieldInfo, Scope, compile_expression
from engine.expr.types import ExprType
from engine.registry import Registry

PACK = os.path.join(os.path.dirname(__file__), "..", "..", "definitions", "oms")

DOUBLE = """
    from engine.expr.functions import Function
    from engine.expr.types import ExprType

    DOUBLE = Function("double", 1, 1, lambda types: ExprType.INTEGER,
                      lambda x: None if x is None else 2 * x, None, "twice x")
"""

NO_CUSTOMER = """
    from engine.errors import DefinitionError

    def no_customer(draft):
        form = draft.forms.get("customer")
        if form is not None:
            draft.report([DefinitionError("acme: this shop has no form 'customer'", form.position)])
"""


def test_a_plugin_function_is_called_from_expressions(fake_dist: Callable[..., None]) -> None:
    fake_dist("lcfake", "[lowcode.functions]\ndouble = lcfake_double:DOUBLE\n", lcfake_double=DOUBLE)
    scope = Scope("order", {"qty": FieldInfo("qty", ExprType.INTEGER)}, "plugin-function", {})
    try:
        compiled = compile_expression("double(qty) + 1", scope)
        assert (compiled.type, compiled.evaluate({"qty": 20}), compiled.evaluate({"qty": None})) == (
            ExprType.INTEGER,
            41,
            None,
        )
    finally:
        registry.FUNCTIONS.unregister("double")


def test_an_unknown_function_still_names_the_known_ones() -> None:
    scope = Scope("order", {"qty": FieldInfo("qty", ExprType.INTEGER)}, "plugin-function", {})
    with pytest.raises(LowcodeError, match=r"unknown function 'doubel'"):
        compile_expression("doubel(qty)", scope)


def test_a_plugin_check_refuses_a_pack_at_load(fake_dist: Callable[..., None]) -> None:
    fake_dist("lcfake", "[lowcode.checks]\nno_customer = lcfake_check:no_customer\n", lcfake_check=NO_CUSTOMER)
    try:
        # the layers above registered theirs when imported; the plugin's comes after them
        assert PACK_CHECKS.names_in_order() == ["forms.logic", "rules.decisions", "flows", "no_customer"]
        with pytest.raises(DefinitionErrors) as info:
            load_pack(PACK)
        assert [str(e).splitlines()[0] for e in info.value.errors] == [
            f"{PACK}/forms/customer.yaml:1:1: acme: this shop has no form 'customer'"
        ]
    finally:
        PACK_CHECKS.unregister("no_customer")
    assert "customer" in load_pack(PACK).forms


def test_loading_without_the_form_engine_says_what_to_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "FIELD_TYPES", Registry("lowcode.fields"))
    with pytest.raises(LowcodeError, match=r"^no field types are registered: import engine.forms"):
        load_pack(PACK)
