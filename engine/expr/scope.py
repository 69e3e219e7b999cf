"""What an expression may name: the fields of a form (and of linked forms / sub-tables)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping, Optional, Protocol

from engine.expr.types import ExprType

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy import Table


@dataclass(frozen=True)
class FieldInfo:
    """One name an expression can use.

    ``column`` is the SQL column on the form's table (defaults to ``name``).
    For a link (``RECORD``) ``link_form`` names the target form; for a sub-table
    (``TABLE``) ``children`` is the scope of a child row.
    """

    name: str
    type: ExprType
    labels: tuple[str, ...] = ()  # aliases, e.g. the zh-CN label '库存'
    column: Optional[str] = None
    link_form: Optional[str] = None
    children: Optional["Scope"] = None
    element_type: ExprType = ExprType.ANY  # for LIST
    #: a choice field's options as (value, labels): a literal compared with it must be a value
    options: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def sql_column(self) -> str:
        return self.column or self.name


@dataclass(frozen=True)
class Scope:
    """The fields of one form, plus how to find other forms' scopes (for paths and aggregates)."""

    form: str
    fields: Mapping[str, FieldInfo]
    version: str = "0"
    forms: Optional[Mapping[str, "Scope"]] = field(default=None, compare=False, hash=False, repr=False)

    def resolve(self, name: str) -> Optional[FieldInfo]:
        """A field by name or by one of its label aliases."""
        info = self.fields.get(name)
        if info is not None:
            return info
        for candidate in self.fields.values():
            if name in candidate.labels:
                return candidate
        return None

    def spellings(self) -> list[str]:
        """Every name a field answers to: its name, then its label aliases (for did-you-mean)."""
        return list(self.fields) + [label for f in self.fields.values() for label in f.labels]

    def other(self, form: str) -> Optional["Scope"]:
        """The scope of another form of the same pack (for links and cross-form aggregates)."""
        return None if self.forms is None else self.forms.get(form)


class SqlTables(Protocol):
    """How the SQL back end finds tables: one per form, one per sub-table.

    A form's table has an integer primary key ``id`` and one column per scalar field.
    A child table has ``id``, ``parent_id`` (the parent's id), ``pos`` and the child fields.
    """

    def table(self, form: str) -> "Table": ...

    def child_table(self, form: str, field: str) -> "Table": ...
