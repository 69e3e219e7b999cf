"""SQLAlchemy tables built from form specs: one table per form, one per sub-table."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import sqlalchemy as sa

from engine.definitions.model import FieldSpec, FormSpec
from engine.forms import FIELD_TYPES
from engine.forms.coltypes import UTCDateTime
from engine.store import files as _files  # noqa: F401  (registers lc_file on SYSTEM)


def table_name(form: str) -> str:
    return f"f_{form}"


def child_table_name(form: str, field: str) -> str:
    return f"f_{form}__{field}"


def _index_name(table: str, cols: Iterable[str], unique: bool) -> str:
    return ("uq_" if unique else "ix_") + table + "__" + "_".join(cols)


def _field_columns(fields: Iterable[FieldSpec]) -> list[sa.Column[Any]]:
    cols: list[sa.Column[Any]] = []
    for spec in fields:
        ftype = FIELD_TYPES[spec.type]
        if ftype.stored and not spec.prop("live"):
            cols.append(sa.Column(spec.name, ftype.column_type(spec), nullable=True))
    return cols


class FormTables:
    """The tables of every form of a set of packs, on their own MetaData.

    Implements the expression language's ``SqlTables`` protocol.
    """

    def __init__(self, forms: Mapping[str, FormSpec]) -> None:
        self.metadata = sa.MetaData()
        self.forms = forms
        self._tables: dict[str, sa.Table] = {}
        self._children: dict[tuple[str, str], sa.Table] = {}
        for form in forms.values():
            self._build(form)

    def _build(self, form: FormSpec) -> None:
        name = table_name(form.name)
        args: list[Any] = [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("version", sa.Integer, nullable=False, default=1),
            sa.Column("owner", sa.Integer, nullable=True),
            sa.Column("created_at", UTCDateTime(), nullable=False),
            sa.Column("created_by", sa.Integer, nullable=True),
            sa.Column("updated_at", UTCDateTime(), nullable=False),
            sa.Column("updated_by", sa.Integer, nullable=True),
            *_field_columns(form.fields),
        ]
        args.append(sa.Index(_index_name(name, ["owner"], False), "owner"))
        for spec in form.fields:
            if not FIELD_TYPES[spec.type].stored or spec.prop("live"):
                continue
            if spec.unique or spec.is_autonumber:
                args.append(sa.Index(_index_name(name, [spec.name], True), spec.name, unique=True))
            elif spec.index or spec.is_link or spec.is_user:
                args.append(sa.Index(_index_name(name, [spec.name], False), spec.name))
        for cols in form.unique:
            args.append(sa.Index(_index_name(name, cols, True), *cols, unique=True))
        for cols in form.indexes:
            args.append(sa.Index(_index_name(name, cols, False), *cols))
        # AUTOINCREMENT: a deleted record's id is never given again (its history keeps it).
        self._tables[form.name] = sa.Table(name, self.metadata, *args, sqlite_autoincrement=True)
        for spec in form.fields:
            if spec.is_table:
                self._build_child(form, spec)

    def _build_child(self, form: FormSpec, spec: FieldSpec) -> None:
        name = child_table_name(form.name, spec.name)
        parent = table_name(form.name)
        args: list[Any] = [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("parent_id", sa.Integer, sa.ForeignKey(f"{parent}.id", ondelete="CASCADE"), nullable=False),
            sa.Column("pos", sa.Integer, nullable=False),
            *_field_columns(spec.fields),
            sa.Index(_index_name(name, ["parent_id"], False), "parent_id", "pos"),
        ]
        for child in spec.fields:
            if child.is_link or child.is_user or child.index:
                args.append(sa.Index(_index_name(name, [child.name], False), child.name))
        self._children[(form.name, spec.name)] = sa.Table(name, self.metadata, *args, sqlite_autoincrement=True)

    # SqlTables protocol
    def table(self, form: str) -> sa.Table:
        return self._tables[form]

    def child_table(self, form: str, field: str) -> sa.Table:
        return self._children[(form, field)]

    def children_of(self, form: str) -> dict[str, sa.Table]:
        return {f: t for (name, f), t in self._children.items() if name == form}

    def all_tables(self) -> list[sa.Table]:
        return list(self.metadata.sorted_tables)
