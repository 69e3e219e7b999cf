"""What the server does with a record at write time, after the shape is valid.

:class:`FormLogic` is compiled once per form version and runs inside the writing
transaction (called by :class:`engine.store.records.RecordStore` on every create and
update, whatever the entry point): on the whole record (stored values + the changes) it

1. applies ``visible_if`` (a hidden field's value is cleared and it is not required),
   ``required_if`` and ``required``, and refuses a change to a field whose ``readonly_if``
   holds (on the record as it was);
2. fills expression defaults (``default: "=today()"``) of new records and rows;
3. computes formulas, rollups and lookups in dependency order (a cycle is a definition
   error); a value the client sent for them is ignored;
4. checks files (existence, size and type limits; signatures are saved) and multi-links;
5. runs the form's named checks.

Every problem is collected and raised at once as a ValidationError (``lines[2].qty``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional

import sqlalchemy as sa

from engine.definitions.model import FieldSpec, FormSpec
from engine.errors import DefinitionError, DefinitionErrors, ValidationError
from engine.expr.compiled import CompiledExpr, compile_expression
from engine.expr.scope import Scope
from engine.expr.types import ExprType
from engine.field_errors import FieldError, render
from engine.forms.computations import (
    EMPTY_VALUES,
    Computation,
    differs,
    expected_type,
    heads,
    in_order,
    inputs_changed,
    is_computed,
    is_live,
)
from engine.forms.fieldtype import FIELD_TYPES
from engine.forms.file_limits import check_limits, field_limits

#: the id a sub-table row sees for ``parent`` while its record is being saved
PARENT = -1
Errors = dict[str, list[str]]


@dataclass
class _Conditions:
    visible: Optional[Callable[..., Any]] = None
    required: Optional[Callable[..., Any]] = None
    readonly: Optional[Callable[..., Any]] = None


class FormLogic:
    """The compiled write-time logic of one form version."""

    def __init__(self, form: FormSpec, scope: Scope) -> None:
        self.form = form
        self.scope = scope
        errors: list[DefinitionError] = []
        self.conditions: dict[Optional[str], dict[str, _Conditions]] = {}
        self.defaults: dict[Optional[str], dict[str, Callable[..., Any]]] = {}
        #: every expression compiled, by (sub-table or None, field, ``visible_if`` | ``required_if`` |
        #: ``readonly_if`` | ``default`` | ``formula``): what the workspace's JavaScript is made from
        self.expressions: dict[tuple[Optional[str], str, str], CompiledExpr] = {}
        computations: list[Computation] = []
        self._compile_fields(None, form.fields, scope, computations, errors)
        for f in form.fields:
            if f.is_table:
                child = scope.fields[f.name].children
                assert child is not None
                self._compile_fields(f.name, f.fields, child, computations, errors)
        self.computations = in_order(computations, form, errors)
        self.checks = []
        for chk in form.checks:
            try:
                ce = compile_expression(
                    chk.expr,
                    scope,
                    expect=ExprType.BOOLEAN,
                    file=chk.position.file,
                    line=chk.position.line,
                    column=chk.position.column,
                )
            except DefinitionError as exc:
                errors.append(exc)
                continue
            reads = [h for h in heads(ce.names) if h in scope.fields and scope.fields[h].type != ExprType.TABLE]
            self.checks.append((chk, ce.evaluate, tuple(reads)))
        self.files: list[tuple[Optional[str], FieldSpec]] = [
            (None, f) for f in form.fields if getattr(FIELD_TYPES[f.type], "files", False)
        ]
        self.files += [
            (f.name, c) for f in form.fields for c in f.fields if getattr(FIELD_TYPES[c.type], "files", False)
        ]
        self.multilinks = [f for f in form.fields if f.is_multilink]
        self.live = [c for c in self.computations if c.live]
        self.stored_fields = [f.name for f in form.fields if not is_live(f)]
        self.trivial = not (
            any(self.conditions.values())
            or any(self.defaults.values())
            or self.computations
            or self.checks
            or self.files
            or self.multilinks
        )
        if errors:
            raise DefinitionErrors(errors)

    # ---- compiling ------------------------------------------------------------------

    def _compile_fields(
        self,
        table: Optional[str],
        fields: Iterable[FieldSpec],
        scope: Scope,
        out: list[Computation],
        errors: list[DefinitionError],
    ) -> None:
        conds: dict[str, _Conditions] = {}
        defaults: dict[str, Callable[..., Any]] = {}
        for f in fields:

            def compile_(src: str, key: str, expect: Optional[ExprType], f: FieldSpec = f) -> Any:
                pos = f.expr_positions.get(key, f.position)
                try:
                    ce = compile_expression(src, scope, expect=expect, file=pos.file, line=pos.line, column=pos.column)
                except DefinitionError as exc:
                    errors.append(exc)
                    return None
                slot = key if key in ("visible_if", "required_if", "readonly_if", "default") else "formula"
                self.expressions[(table, f.name, slot)] = ce
                return ce

            c = _Conditions()
            for key in ("visible_if", "required_if", "readonly_if"):
                src = getattr(f, key)
                if src:
                    ce = compile_(src, key, ExprType.BOOLEAN)
                    if ce is not None:
                        setattr(c, key.split("_")[0], ce.evaluate)
            if c.visible or c.required or c.readonly:
                conds[f.name] = c
            expect = expected_type(scope, f)
            if isinstance(f.default, str) and f.default.startswith("="):
                ce = compile_(f.default[1:], "default", expect)
                if ce is not None:
                    defaults[f.name] = ce.evaluate
            comp = self._computation(table, f, scope, compile_, expect, errors)
            if comp is not None:
                out.append(comp)
        self.conditions[table] = conds
        self.defaults[table] = defaults

    def _computation(
        self,
        table: Optional[str],
        f: FieldSpec,
        scope: Scope,
        compile_: Any,
        expect: Optional[ExprType],
        errors: list[DefinitionError],
    ) -> Optional[Computation]:
        from engine.forms.types_computed import rollup_expression

        live = bool(f.prop("live"))
        lookup = f.prop("lookup")
        if f.type == "rollup":
            if f.prop("rollup") is None:
                errors.append(
                    DefinitionError(
                        f"field '{f.name}': a rollup field needs 'rollup', e.g. {{of: lines.amount, fn: sum}}",
                        f.position,
                    )
                )
                return None
            key = "rollup" if isinstance(f.prop("rollup"), str) else "rollup.of"
            ce = compile_(rollup_expression(f), key, expect)
            return None if ce is None else Computation(f.name, table, f, ce.evaluate, ce.names, False, live, ce.tree)
        if f.formula:
            ce = compile_(f.formula, "formula", expect)
            return None if ce is None else Computation(f.name, table, f, ce.evaluate, ce.names, False, live, ce.tree)
        if f.type == "formula":
            errors.append(
                DefinitionError(
                    f"field '{f.name}': a formula field needs 'formula', e.g. \"qty * unit_price\"", f.position
                )
            )
            return None
        if isinstance(lookup, str):
            ce = compile_(lookup, "lookup", expect)
            return None if ce is None else Computation(f.name, table, f, ce.evaluate, ce.names, not live, live, ce.tree)
        if isinstance(lookup, Mapping):
            from engine.forms.lookup import Lookup

            try:
                lk = Lookup(lookup, scope, f.expr_positions, f.position)
            except DefinitionError as exc:
                errors.append(exc)
                return None
            return Computation(f.name, table, f, lk.evaluate, lk.names, not live, live)
        if live:
            errors.append(
                DefinitionError(
                    f"field '{f.name}': 'live' is only for formula, rollup and lookup fields",
                    f.prop_positions.get("live", f.position),
                )
            )
        return None

    def expression(self, table: Optional[str], name: str, key: str) -> Optional[CompiledExpr]:
        """The compiled condition (``visible_if``, ...), ``default`` or ``formula`` (formula,
        rollup or lookup path) of a field, or of a column of the sub-table ``table``."""
        return self.expressions.get((table, name, key))

    # ---- at write time --------------------------------------------------------------

    def prepare(
        self, data: Any, ctx: Any, values: Mapping[str, Any], old: Optional[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """The values to store: ``values`` (clean changes) merged over ``old``, computed."""
        if self.trivial:
            return dict(values)
        locale = getattr(ctx, "locale", "zh-CN")
        errors: Errors = {}
        record: dict[str, Any] = dict(old) if old is not None else {}
        record.update(values)
        old_rows: dict[str, dict[Any, Mapping[str, Any]]] = {}
        for f in self.form.fields:
            if f.is_table:
                record[f.name] = [dict(r) for r in record.get(f.name) or []]
                before = (old or {}).get(f.name) or []
                old_rows[f.name] = {r.get("id"): r for r in before if r.get("id") is not None}
        # conditions on the record, then on every row
        self._conditions(None, self.form.fields, record, old, ctx, data, errors, "")
        for f in self.form.fields:
            if f.is_table:
                for i, row in enumerate(record[f.name], start=1):
                    row["parent"] = PARENT
                    self._conditions(
                        f.name,
                        f.fields,
                        row,
                        old_rows[f.name].get(row.get("id")),
                        ctx,
                        _WithParent(data, self.form.name, record),
                        errors,
                        f"{f.name}[{i}].",
                    )
        if old is None:
            self._defaults(None, record, ctx, data)
        for f in self.form.fields:
            if f.is_table:
                for row in record[f.name]:
                    if row.get("id") not in old_rows[f.name]:
                        self._defaults(f.name, row, ctx, _WithParent(data, self.form.name, record))
        self._compute(record, old, old_rows, ctx, data, errors, locale)
        self._files(data, ctx, record, errors, locale)
        self._multilinks(data, record, errors, locale)
        if not errors:
            for chk, evaluate, reads in self.checks:
                # like SQL CHECK constraints, a check over an empty field passes
                if not evaluate(record, ctx, data=data) and all(record.get(r) not in EMPTY_VALUES for r in reads):
                    errors.setdefault(chk.name, []).append(chk.message.get(locale))
        if errors:
            raise ValidationError(errors)
        out = {name: record.get(name) for name in self.stored_fields}
        for f in self.form.fields:
            if f.is_table:
                keep = [c.name for c in f.fields if not is_live(c)]
                out[f.name] = [
                    {**({"id": r["id"]} if r.get("id") is not None else {}), **{k: r.get(k) for k in keep}}
                    for r in record[f.name]
                ]
        return out

    def _conditions(
        self,
        table: Optional[str],
        fields: Iterable[FieldSpec],
        row: dict[str, Any],
        old: Optional[Mapping[str, Any]],
        ctx: Any,
        data: Any,
        errors: Errors,
        prefix: str,
    ) -> None:
        conds = self.conditions[table]
        locale = getattr(ctx, "locale", "zh-CN")
        for f in fields:
            c = conds.get(f.name)
            computed = is_computed(f) or f.is_table
            if c is not None and c.visible is not None and not c.visible(row, ctx, data=data):
                row[f.name] = [] if f.is_table else None
                continue
            value = row.get(f.name)
            if c is not None and c.readonly is not None and not computed:
                base = old if old is not None else row
                if c.readonly(base, ctx, data=data) and differs(value, (old or {}).get(f.name)):
                    errors.setdefault(prefix + f.name, []).append(render("readonly_now", locale))
            if computed:
                continue
            need = f.required or (c is not None and c.required is not None and c.required(row, ctx, data=data))
            if (
                need
                and value in EMPTY_VALUES
                and not (isinstance(f.default, str) and f.default.startswith("=") and old is None)
            ):
                errors.setdefault(prefix + f.name, []).append(render("required", locale))

    def _defaults(self, table: Optional[str], row: dict[str, Any], ctx: Any, data: Any) -> None:
        for name, evaluate in self.defaults[table].items():
            if row.get(name) in EMPTY_VALUES:
                spec = self._spec(table, name)
                value = evaluate(row, ctx, data=data)
                row[name] = None if value is None else FIELD_TYPES[spec.type].parse(spec, value)

    def _spec(self, table: Optional[str], name: str) -> FieldSpec:
        f = self.form.field(table) if table else self.form.field(name)
        assert f is not None
        if table:
            child = f.child(name)
            assert child is not None
            return child
        return f

    def _compute(
        self,
        record: dict[str, Any],
        old: Optional[Mapping[str, Any]],
        old_rows: Mapping[str, Mapping[Any, Mapping[str, Any]]],
        ctx: Any,
        data: Any,
        errors: Errors,
        locale: str,
    ) -> None:
        for comp in self.computations:
            if comp.live:
                continue
            if comp.table is None:
                if comp.copy and old is not None and not inputs_changed(comp.inputs, record, old):
                    record[comp.name] = old.get(comp.name)
                    continue
                self._set(comp, record, record, ctx, data, errors, comp.name, locale)
                continue
            access = _WithParent(data, self.form.name, record)
            for i, row in enumerate(record[comp.table], start=1):
                before = old_rows[comp.table].get(row.get("id"))
                if (
                    comp.copy
                    and before is not None
                    and not inputs_changed(comp.inputs, row, before)
                    and not (old is not None and inputs_changed(comp.parent_inputs, record, old))
                ):
                    row[comp.name] = before.get(comp.name)
                    continue
                self._set(comp, row, row, ctx, access, errors, f"{comp.table}[{i}].{comp.name}", locale)

    def _set(
        self,
        comp: Computation,
        target: dict[str, Any],
        row: Mapping[str, Any],
        ctx: Any,
        data: Any,
        errors: Errors,
        path: str,
        locale: str,
    ) -> None:
        value = comp.evaluate(row, ctx, data=data)
        if value is None:
            target[comp.name] = None
            return
        try:
            target[comp.name] = FIELD_TYPES[comp.spec.type].parse(comp.spec, value)
        except FieldError as exc:
            target[comp.name] = None
            errors.setdefault(path, []).append(exc.render(locale))

    def _files(self, data: Any, ctx: Any, record: dict[str, Any], errors: Errors, locale: str) -> None:
        if not self.files:
            return
        from engine.forms.types_files import PendingFile

        wanted: list[tuple[str, FieldSpec, dict[str, Any], Any]] = []
        for table, f in self.files:
            rows = (
                [(f.name, record)]
                if table is None
                else [(f"{table}[{i}].{f.name}", r) for i, r in enumerate(record[table], start=1)]
            )
            for path, row in rows:
                value = row.get(f.name)
                if isinstance(value, PendingFile):
                    max_size, accept = field_limits(f)
                    try:
                        row[f.name] = data.save_file(
                            ctx, value.name, value.content_type, value.data, max_size=max_size, accept=accept
                        )["id"]
                    except FieldError as exc:
                        errors.setdefault(path, []).append(exc.render(locale))
                elif value not in EMPTY_VALUES:
                    wanted.append((path, f, row, value))
        ids = [i for _, _, _, v in wanted for i in (v if isinstance(v, list) else [v])]
        found = data.file_info(ids)
        for path, f, _, value in wanted:
            max_size, accept = field_limits(f)
            for file_id in value if isinstance(value, list) else [value]:
                meta = found.get(file_id)
                if meta is None:
                    errors.setdefault(path, []).append(render("no_such_file", locale, id=file_id))
                    continue
                try:
                    check_limits(meta["name"], meta["content_type"], meta["size"], max_size, accept)
                except FieldError as exc:
                    errors.setdefault(path, []).append(exc.render(locale))

    def _multilinks(self, data: Any, record: Mapping[str, Any], errors: Errors, locale: str) -> None:
        for f in self.multilinks:
            ids = record.get(f.name) or []
            if not ids or f.form is None:
                continue
            t = data.tables.table(f.form)
            found = {i for (i,) in data.conn.execute(sa.select(t.c.id).where(t.c.id.in_(ids)))}
            for i in ids:
                if i not in found:
                    errors.setdefault(f.name, []).append(render("no_such_record", locale, id=i))

    # ---- at read time ---------------------------------------------------------------

    def fill_live(self, data: Any, ctx: Any, record: dict[str, Any]) -> None:
        """Compute the ``live: true`` fields of a record read from the store (in place)."""
        for comp in self.live:
            try:
                if comp.table is None:
                    value = comp.evaluate(record, ctx, data=data)
                    record[comp.name] = None if value is None else FIELD_TYPES[comp.spec.type].parse(comp.spec, value)
                    continue
                access = _WithParent(data, self.form.name, record)
                for row in record.get(comp.table) or []:
                    value = comp.evaluate({**row, "parent": PARENT}, ctx, data=access)
                    row[comp.name] = None if value is None else FIELD_TYPES[comp.spec.type].parse(comp.spec, value)
            except FieldError:
                record[comp.name] = None


class _WithParent:
    """Data access for a sub-table row: ``parent`` is the record being saved (not yet stored)."""

    def __init__(self, data: Any, form: str, record: Mapping[str, Any]) -> None:
        self.data, self.form, self.record = data, form, record
        self.tables = getattr(data, "tables", None)
        self.conn = getattr(data, "conn", None)

    def fetch(self, form: str, id: int) -> Optional[Mapping[str, Any]]:
        if id == PARENT and form == self.form:
            return self.record
        return self.data.fetch(form, id)  # type: ignore[no-any-return]

    def scalar(self, statement: Any) -> Any:
        return self.data.scalar(statement)
