"""Record validation, compiled once per form version: all errors at once, by field path.

Sub-table rows are numbered from 1, as a person counts them: ``lines[3].qty``.

This is the first of two steps. :class:`FormValidator` checks the *shape* of what a client
sent (types, formats, ranges, options, unknown fields, unconditional ``required``) without a
database; it is what every entry point calls first. The second step,
:class:`engine.forms.compute.FormLogic`, runs at write time on the whole record (stored
values + the changes): conditions, computed values, lookups, files and form checks.

Values of computed fields (formula, rollup, lookup, auto number) sent by a client are
**ignored**: the server computes them.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional

from engine.definitions.model import FieldSpec, FormSpec
from engine.errors import ValidationError
from engine.field_errors import FieldError, render
from engine.forms.fieldtype import FIELD_TYPES
from engine.forms.group_json import json_safe

Errors = dict[str, list[str]]
_MISSING = object()
_EMPTY_TYPES = (str, list, dict)
_NO_EXTRA: frozenset[str] = frozenset()


def _is_computed(spec: FieldSpec) -> bool:
    return FIELD_TYPES[spec.type].computed or bool(spec.formula) or spec.prop("lookup") is not None


class _FieldCheck:
    """One field's compiled check: parse with its type, required-ness, default."""

    __slots__ = ("name", "spec", "parse", "required", "default", "computed", "rows", "group")

    def __init__(self, spec: FieldSpec, roles: Optional[frozenset[str]] = None) -> None:
        ftype = FIELD_TYPES[spec.type]
        self.name = spec.name
        self.spec = spec
        self.parse: Callable[[Any], Any] = ftype.fast(spec)
        if spec.type == "role" and roles is not None:
            self.parse = _in_roles(self.parse, roles)
        # conditional fields are checked on the whole record at write time (FormLogic)
        self.required = spec.required and not spec.visible_if and not spec.required_if
        default = spec.default
        self.default = None if isinstance(default, str) and default.startswith("=") else default
        self.computed = _is_computed(spec)
        self.rows: Optional[RowValidator] = RowValidator(spec.fields, roles) if spec.is_table else None
        self.group: Optional[RowValidator] = RowValidator(spec.fields, roles) if spec.is_group else None


def _in_roles(parse: Callable[[Any], Any], roles: frozenset[str]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        value = parse(value)
        if value not in roles:
            raise FieldError("not_role", value=value)
        return value

    return check


class RowValidator:
    """Checks a mapping of values against a list of fields (a form, or a sub-table row)."""

    def __init__(self, fields: tuple[FieldSpec, ...], roles: Optional[frozenset[str]] = None) -> None:
        self.checks = {f.name: _FieldCheck(f, roles) for f in fields}
        self.names = frozenset(self.checks)
        #: (name, parse, required, default, rows, group) of the fields a client may set
        self.plan = tuple(
            (c.name, c.parse, c.required, c.default, c.rows, c.group) for c in self.checks.values() if not c.computed
        )
        from engine.forms.codegen import generate

        #: the generated validator (same results as :meth:`interpret`, faster)
        self.run = generate(self)  # type: ignore[method-assign]
        #: the same, with positional arguments (what generated parents call for each row)
        self.run_p = self.run.positional  # type: ignore[attr-defined]

    def run(
        self,
        data: Any,
        errors: Errors,
        prefix: str,
        *,
        partial: bool,
        locale: str,  # type: ignore[no-redef]
        allowed_extra: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        return self.interpret(data, errors, prefix, partial=partial, locale=locale, allowed_extra=allowed_extra)

    def interpret(
        self,
        data: Any,
        errors: Errors,
        prefix: str,
        *,
        partial: bool,
        locale: str,
        allowed_extra: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        """The reference implementation the generated ``run`` must agree with."""
        if type(data) is not dict and not isinstance(data, Mapping):
            errors.setdefault(prefix.rstrip(".") or "_", []).append(render("not_object", locale))
            return {}
        extra = data.keys() - self.names
        if extra:
            for key in sorted(map(str, extra - allowed_extra)):
                errors.setdefault(prefix + key, []).append(render("unknown_field", locale))
        out: dict[str, Any] = {}
        get = data.get
        for name, parse, required, default, rows, group in self.plan:
            value = get(name, _MISSING)
            if value is _MISSING:
                if partial:
                    continue
                value = default
            if rows is not None:
                out[name] = self._rows(rows, required, value, errors, prefix + name, locale)
                continue
            if not value and (value is None or type(value) in _EMPTY_TYPES):
                if required:
                    errors.setdefault(prefix + name, []).append(render("required", locale))
                out[name] = None
                continue
            if group is not None:  # a nested object: its fields' errors as name.field
                before = len(errors)
                inner = group.run(value, errors, prefix + name + ".", partial=False, locale=locale)
                if len(errors) == before:
                    out[name] = json_safe(group_spec(self, name), inner)
                continue
            try:
                out[name] = parse(value)
            except FieldError as exc:
                errors.setdefault(prefix + name, []).append(exc.render(locale))
        return out

    def _rows(
        self, rows: "RowValidator", required: bool, value: Any, errors: Errors, path: str, locale: str
    ) -> list[Any]:
        if value is None or value == "":
            value = []
        if not isinstance(value, list):
            errors.setdefault(path, []).append(render("not_list", locale))
            return []
        if required and not value:
            errors.setdefault(path, []).append(render("required", locale))
        out = []
        keep_id = frozenset({"id"})
        run = rows.run
        for i, row in enumerate(value, start=1):
            clean = run(row, errors, f"{path}[{i}].", partial=False, locale=locale, allowed_extra=keep_id)
            if type(row) is dict and row.get("id") is not None:
                clean["id"] = row["id"]
            out.append(clean)
        return out


def group_spec(rows: RowValidator, name: str) -> FieldSpec:
    return rows.checks[name].spec


class FormValidator:
    """The compiled validator of one form version (``roles``: the role names a role field takes)."""

    def __init__(self, form: FormSpec, roles: Optional[frozenset[str]] = None) -> None:
        self.form = form
        self.rows = RowValidator(form.fields, roles)

    def validate(self, data: Any, *, partial: bool = False, locale: str = "zh-CN") -> dict[str, Any]:
        """Clean values by field name, or :class:`ValidationError` with every problem."""
        errors: Errors = {}
        clean = self.rows.run_p(data, errors, "", partial, locale, _NO_EXTRA)
        if errors:
            raise ValidationError(errors)
        return clean
