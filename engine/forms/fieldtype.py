"""The field-type base class; the types register in :data:`engine.registry.FIELD_TYPES`."""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Optional

import sqlalchemy as sa

from engine import registry
from engine.definitions.model import FieldSpec
from engine.expr.types import ExprType
from engine.registry import Registry

#: the built-ins generated parsing code may use (nothing else is reachable from it)
INLINE_BUILTINS: dict[str, Any] = {
    "type": type,
    "str": str,
    "int": int,
    "bool": bool,
    "len": len,
    "dict": dict,
    "list": list,
    "isinstance": isinstance,
}


class FieldType:
    """What one kind of field is: its properties, SQL column, parsing and JSON form.

    Subclasses set ``name`` and ``expr_type`` and override what differs. ``parse`` turns
    input (JSON, a spreadsheet cell, a form post) into the Python value or raises
    :class:`engine.field_errors.FieldError`; ``dump`` gives the JSON value back.
    """

    name: ClassVar[str] = ""
    expr_type: ClassVar[ExprType] = ExprType.ANY
    #: JSON Schema of the type-specific properties a definition may give.
    props_schema: ClassVar[dict[str, Any]] = {}
    #: False for types without a column of their own (sub-tables, live lookups).
    stored: ClassVar[bool] = True
    #: True for types whose value the server computes (formula, auto number).
    computed: ClassVar[bool] = False
    #: the widget the generated HTML form draws for this type (see docs/forms.md).
    widget: ClassVar[str] = "text"
    #: True when a value is one of the field's ``options`` (or a list of them): the expression
    #: checker then refuses a literal that is not an option (``status == "aproved"``).
    choices: ClassVar[bool] = False
    #: element type of a list value (multiselect, tags, multilink, ...), for expressions.
    element_type: ClassVar[ExprType] = ExprType.ANY
    # What the engine treats specially; a plugin type sets the one it is (the specs ask them:
    # ``spec.is_link`` ...). At most one is True.
    #: a sub-table: rows of ``spec.fields`` in a child table (``table``).
    is_table: ClassVar[bool] = False
    #: a nested object of ``spec.fields`` in one JSON column (``group``).
    is_group: ClassVar[bool] = False
    #: one record of ``spec.form``, stored as its id (``link``).
    is_link: ClassVar[bool] = False
    #: a list of records of ``spec.form``, stored as their ids (``multilink``).
    is_multilink: ClassVar[bool] = False
    #: one platform user, stored as the user's id (``user``).
    is_user: ClassVar[bool] = False
    #: a number the server draws from a sequence when a record is created (``autonumber``).
    is_autonumber: ClassVar[bool] = False

    def column_type(self, spec: FieldSpec) -> sa.types.TypeEngine[Any]:
        return sa.Text()

    def parse(self, spec: FieldSpec, value: Any) -> Any:
        return value

    def dump(self, spec: FieldSpec, value: Any) -> Any:
        return value

    def json_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {}

    def expr_type_of(self, spec: FieldSpec) -> ExprType:
        """The value type expressions see; most types have one, formula/rollup depend on ``spec``."""
        return self.expr_type

    def inline(self, spec: FieldSpec, const: Callable[[Any], str]) -> Optional[tuple[str, str]]:
        """The common case of ``parse`` as Python source: ``(condition, value)`` over ``v``.

        When ``condition`` holds for an input ``v``, ``value`` is what ``parse`` returns for
        it; otherwise the caller calls ``parse``. Both are expressions (they may bind locals
        with ``:=``); ``const(x)`` names a constant they use. Only the type's own code and
        constants named through ``const`` reach the source, never a definition's text.
        ``None``: no fast case (the default). Generated validators inline these fragments.
        Callers use :meth:`fast_case`, which ignores ``inline`` where a subclass changed ``parse``.
        """
        return None

    def fast_case(self, spec: FieldSpec, const: Callable[[Any], str]) -> Optional[tuple[str, str]]:
        """:meth:`inline`, if it still describes this type's ``parse`` (a subclass may override it)."""
        if owner(type(self), "parse") is not owner(type(self), "inline"):
            return None
        return self.inline(spec, const)

    def fast(self, spec: FieldSpec) -> Callable[[Any], Any]:
        """A one-argument parser with the field's properties bound (validation's hot path)."""
        parse = self.parse
        env: dict[str, Any] = {}

        def const(value: Any) -> str:
            name = f"K{len(env)}"
            env[name] = value
            return name

        fragment = self.fast_case(spec, const)
        if fragment is None:
            return lambda value: parse(spec, value)
        cond, value = fragment
        env.update(INLINE_BUILTINS, SLOW=parse, SPEC=spec)
        source = f"lambda v: ({value}) if ({cond}) else SLOW(SPEC, v)"
        namespace = {"__builtins__": {}, **env}
        fast: Callable[[Any], Any] = eval(compile(source, f"<fast {self.name}>", "eval"), namespace)  # noqa: S307
        return fast

    def link_form(self, spec: FieldSpec) -> Optional[str]:
        """The form this field refers to, if it is a reference."""
        return None


def owner(cls: type, attr: str) -> Optional[type]:
    """The class in ``cls``'s MRO that defines ``attr``."""
    return next((k for k in cls.__mro__ if attr in vars(k)), None)


#: the field types by name (:data:`engine.registry.FIELD_TYPES`, which the definitions loader
#: consults): the built-in types register themselves when ``engine.forms`` is imported,
#: ``lowcode.fields`` plugins (a FieldType subclass or instance) on first use.
FIELD_TYPES: Registry[FieldType] = registry.FIELD_TYPES


def register(cls: type[FieldType]) -> type[FieldType]:
    """Class decorator: register one instance of the type."""
    FIELD_TYPES.register(cls.name, cls())
    return cls
