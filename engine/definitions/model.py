"""Typed, immutable specs that a loaded pack turns into (compiled once per version)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Mapping, Optional

from engine import registry
from engine.errors import Position

EMPTY: Mapping[str, Any] = MappingProxyType({})

#: Columns every form table has; a form field may not take these names.
SYSTEM_FIELDS = ("id", "version", "owner", "created_at", "created_by", "updated_at", "updated_by")
#: Keys a record's answer carries besides its fields (the rules' flags); no field takes these names.
ANSWER_FIELDS = ("flags",)
#: Columns every sub-table (child) table has.
CHILD_SYSTEM_FIELDS = ("id", "parent_id", "pos")

ACTIONS = ("read", "create", "update", "delete", "approve", "export", "print")
FIELD_ACCESS = ("hidden", "readonly", "editable")


@dataclass(frozen=True)
class Labels:
    """A text in several languages; ``get`` falls back to any language, then to ``default``."""

    texts: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    default: str = ""

    def get(self, locale: str = "zh-CN") -> str:
        if not self.texts:
            return self.default
        from engine.i18n import pick

        return pick(self.texts, locale, fallback=next(iter(self.texts)))

    def all(self) -> tuple[str, ...]:
        return tuple(self.texts.values())


@dataclass(frozen=True)
class Option:
    """One choice of a select-like field."""

    value: str
    label: Labels


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form (or of a sub-table row)."""

    name: str
    type: str
    label: Labels
    position: Position = field(compare=False)
    required: bool = False
    unique: bool = False
    index: bool = False
    searchable: bool = False
    default: Any = None
    help: Optional[Labels] = None
    options: tuple[Option, ...] = ()
    form: Optional[str] = None  # link target
    fields: tuple["FieldSpec", ...] = ()  # sub-table columns
    formula: Optional[str] = None  # computed value (expression)
    visible_if: Optional[str] = None
    required_if: Optional[str] = None
    readonly_if: Optional[str] = None
    props: Mapping[str, Any] = field(default_factory=lambda: EMPTY)  # type-specific properties, checked by the type
    prop_positions: Mapping[str, Position] = field(default_factory=lambda: EMPTY, compare=False)
    placeholder: Optional[Labels] = None
    #: where the value of every key given in the definition stands (name, type, form, ...)
    positions: Mapping[str, Position] = field(default_factory=lambda: EMPTY, compare=False)
    #: where the text of each expression (formula, visible_if, ...) starts: pass it to
    #: ``compile_expression(..., file=, line=, column=)`` so errors point into the file
    expr_positions: Mapping[str, Position] = field(default_factory=lambda: EMPTY, compare=False)

    def prop(self, name: str, default: Any = None) -> Any:
        return self.props.get(name, default)

    # What the field's type is, by the flags of the type registered under ``type`` (see
    # engine.forms.FieldType; a plugin type behaves by its flags, not its name); an unknown
    # type is none of them. Read on every write: each is asked once per spec and kept.

    @cached_property
    def is_table(self) -> bool:
        """A sub-table: rows of ``fields`` in a child table."""
        return _flag(self.type, "is_table")

    @cached_property
    def is_group(self) -> bool:
        """A nested object of ``fields``, kept as one JSON value."""
        return _flag(self.type, "is_group")

    @cached_property
    def is_link(self) -> bool:
        """One record of ``form`` (its id)."""
        return _flag(self.type, "is_link")

    @cached_property
    def is_multilink(self) -> bool:
        """A list of records of ``form`` (their ids)."""
        return _flag(self.type, "is_multilink")

    @cached_property
    def refers_to_records(self) -> bool:
        """A link or a multilink: the value names records of ``form``."""
        return self.is_link or self.is_multilink

    @cached_property
    def is_user(self) -> bool:
        """One platform user (the user's id)."""
        return _flag(self.type, "is_user")

    @cached_property
    def is_autonumber(self) -> bool:
        """A number the server draws from a sequence when the record is created."""
        return _flag(self.type, "is_autonumber")

    def child(self, name: str) -> Optional["FieldSpec"]:
        for f in self.fields:
            if f.name == name:
                return f
        return None


def _flag(type_name: str, flag: str) -> bool:
    """``flag`` of the field type named ``type_name`` (False for an unknown type)."""
    return bool(getattr(registry.FIELD_TYPES.get(type_name), flag, False))


@dataclass(frozen=True)
class Check:
    """A named form-level check: an expression that must hold, with a message."""

    name: str
    expr: str
    message: Labels
    position: Position = field(compare=False)  # where the text of ``expr`` starts


@dataclass(frozen=True)
class FormSpec:
    """A form: its fields, keys and indexes."""

    name: str
    label: Labels
    fields: tuple[FieldSpec, ...]
    position: Position = field(compare=False)
    file: str = field(compare=False)
    unique: tuple[tuple[str, ...], ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    title: Optional[str] = None  # field shown as the record's label
    checks: tuple[Check, ...] = ()
    #: how the generated form is laid out: {"tabs": [...]} or {"sections": [...]} (docs/forms.md)
    layout: Optional[Mapping[str, Any]] = None

    def field(self, name: str) -> Optional[FieldSpec]:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def searchable(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.searchable)


@dataclass(frozen=True)
class FormGrant:
    """What one role may do with one form."""

    actions: frozenset[str]
    rows: Optional[str] = None  # row filter expression, e.g. "owner == me"
    rows_position: Position = field(default_factory=Position, compare=False)  # where the text of ``rows`` starts
    fields: Mapping[str, str] = field(default_factory=lambda: EMPTY)  # field -> hidden | readonly (editable if absent)


@dataclass(frozen=True)
class RoleSpec:
    """A role from roles.yaml."""

    name: str
    label: Labels
    position: Position = field(compare=False)
    superuser: bool = False
    portal: bool = False  # customers' portal users
    forms: Mapping[str, FormGrant] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class PackSpec:
    """A whole loaded pack: what a version of the definitions is."""

    name: str
    version: str
    label: Labels
    root: str
    timezone: str = "Asia/Shanghai"
    locale: str = "zh-CN"
    depends: tuple[str, ...] = ()
    forms: Mapping[str, FormSpec] = field(default_factory=lambda: EMPTY)
    roles: Mapping[str, RoleSpec] = field(default_factory=lambda: EMPTY)
    files: Mapping[str, str] = field(default_factory=lambda: EMPTY)  # relative path -> exact text (lossless export)
    extras: Mapping[str, Mapping[str, Any]] = field(
        default_factory=lambda: EMPTY
    )  # flows/reports/prints raw data by file
    demo: Mapping[str, Any] = field(
        default_factory=lambda: EMPTY
    )  # demo data: {"users": [...], "records": {form: [...]}}
    description: Optional[Labels] = None
    checksum: str = ""  # pack_checksum(files): identifies this exact text
    #: the form whose records portal users belong to (``lc_user.customer_id``): pack.yaml ``portal_form``
    portal_form: Optional[str] = None
    rules: Mapping[str, str] = field(
        default_factory=lambda: EMPTY
    )  # rules/*.rules by relative path (text, parsed elsewhere)
