"""Record validation, compiled once per form version: all errors at once, by field path.

Sub-table rows are numbered from 1, as a person counts them: ``lines[3].qty``.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Optional

from engine.definitions.model import FieldSpec, FormSpec
from engine.errors import ValidationError
from engine.forms.fieldtype import FIELD_TYPES
from engine.forms.messages import FieldError, render

Errors = dict[str, list[str]]
_EMPTY = (None, "")


class _FieldCheck:
    """One field's compiled check: parse with its type, required-ness, default."""

    __slots__ = ("name", "spec", "parse", "required", "default", "computed", "rows")

    def __init__(self, spec: FieldSpec) -> None:
        ftype = FIELD_TYPES[spec.type]
        self.name = spec.name
        self.spec = spec
        self.parse: Callable[[FieldSpec, Any], Any] = ftype.parse
        self.required = spec.required
        self.default = spec.default
        self.computed = ftype.computed
        self.rows: Optional[RowValidator] = RowValidator(spec.fields) if spec.type == "table" else None


class RowValidator:
    """Checks a mapping of values against a list of fields (a form, or a sub-table row)."""

    def __init__(self, fields: tuple[FieldSpec, ...]) -> None:
        self.checks = {f.name: _FieldCheck(f) for f in fields}

    def run(self, data: Any, errors: Errors, prefix: str, *, partial: bool, locale: str,
            allowed_extra: frozenset[str] = frozenset()) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            errors.setdefault(prefix.rstrip(".") or "_", []).append(render("not_object", locale))
            return {}
        out: dict[str, Any] = {}
        for key in data:
            if key not in self.checks and key not in allowed_extra:
                errors.setdefault(prefix + str(key), []).append(render("unknown_field", locale))
        for name, check in self.checks.items():
            present = name in data
            if check.computed:
                continue
            if not present:
                if partial:
                    continue
                value = check.default
            else:
                value = data[name]
            path = prefix + name
            if check.rows is not None:
                out[name] = self._rows(check, value, errors, path, locale)
                continue
            if value in _EMPTY or (isinstance(value, list) and not value):
                if check.required:
                    errors.setdefault(path, []).append(render("required", locale))
                out[name] = None
                continue
            try:
                out[name] = check.parse(check.spec, value)
            except FieldError as exc:
                errors.setdefault(path, []).append(exc.render(locale))
        return out

    def _rows(self, check: _FieldCheck, value: Any, errors: Errors, path: str, locale: str) -> list[Any]:
        if value in _EMPTY:
            value = []
        if not isinstance(value, list):
            errors.setdefault(path, []).append(render("not_list", locale))
            return []
        if check.required and not value:
            errors.setdefault(path, []).append(render("required", locale))
        assert check.rows is not None
        rows = []
        for i, row in enumerate(value, start=1):
            clean = check.rows.run(row, errors, f"{path}[{i}].", partial=False, locale=locale,
                                   allowed_extra=frozenset({"id"}))
            if isinstance(row, Mapping) and row.get("id") is not None:
                clean["id"] = row["id"]
            rows.append(clean)
        return rows


class FormValidator:
    """The compiled validator of one form version."""

    def __init__(self, form: FormSpec) -> None:
        self.form = form
        self.rows = RowValidator(form.fields)

    def validate(self, data: Any, *, partial: bool = False, locale: str = "zh-CN") -> dict[str, Any]:
        """Clean values by field name, or :class:`ValidationError` with every problem."""
        errors: Errors = {}
        clean = self.rows.run(data, errors, "", partial=partial, locale=locale)
        if errors:
            raise ValidationError(errors)
        return clean
