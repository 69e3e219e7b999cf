"""roles.yaml -> RoleSpecs, checked against the pack's forms and fields."""

from __future__ import annotations

from typing import Mapping, Optional

from engine.definitions.common import Broken, frozen, to_labels
from engine.definitions.model import FormGrant, FormSpec, RoleSpec
from engine.definitions.schema_check import did_you_mean
from engine.definitions.yaml_source import PosDict, empty_like
from engine.errors import DefinitionError

ALL_FORMS = "*"


def build_roles(
    node: PosDict, locale: str, forms: Mapping[str, FormSpec], broken: Broken, errors: list[DefinitionError]
) -> dict[str, RoleSpec]:
    """The roles of roles.yaml (``node`` is the ``roles:`` mapping); unknown forms and fields
    go to ``errors``.

    ``broken`` names forms that exist but failed to build: references to them are not
    checked further (their own errors are reported already).
    """
    out: dict[str, RoleSpec] = {}
    roles = node
    for name, role in roles.items():
        where = f"roles.{name}"
        if role.get("portal") and role.get("superuser"):
            errors.append(
                DefinitionError(
                    f"role '{name}': a portal role cannot be a superuser",
                    role.pos_of("superuser"),
                    None,
                    f"{where}.superuser",
                )
            )
        grants = {}
        form_nodes: PosDict = role.get("forms") or empty_like(role)
        for form_name, grant in form_nodes.items():
            _check_grant(name, form_name, form_nodes, grant, forms, broken, errors)
            grants[form_name] = FormGrant(
                actions=frozenset(grant.get("actions") or ()),
                rows=grant.get("rows"),
                rows_position=grant.text_pos("rows") if "rows" in grant else form_nodes.pos_of(form_name),
                fields=frozen(grant.get("fields") or {}),
            )
        out[name] = RoleSpec(
            name=name,
            label=to_labels(role.get("label"), locale, name),
            position=roles.pos_of(name),
            superuser=bool(role.get("superuser", False)),
            portal=bool(role.get("portal", False)),
            forms=frozen(grants),
        )
    return out


def _check_grant(
    role: str,
    form_name: str,
    form_nodes: PosDict,
    grant: PosDict,
    forms: Mapping[str, FormSpec],
    broken: Broken,
    errors: list[DefinitionError],
) -> None:
    where = f"roles.{role}.forms.{form_name}"
    if form_name != ALL_FORMS and form_name not in forms and not broken.form(form_name):
        errors.append(
            DefinitionError(
                f"role '{role}': unknown form '{form_name}'",
                form_nodes.pos_of(form_name),
                did_you_mean(form_name, forms),
                where,
            )
        )
        return
    if broken.form(form_name):
        return
    field_nodes: PosDict = grant.get("fields") or empty_like(grant)
    for field in field_nodes:
        problem = (
            _all_forms_field(field, forms, broken)
            if form_name == ALL_FORMS
            else _form_field(form_name, field, forms[form_name], broken)
        )
        if problem is not None:
            errors.append(
                DefinitionError(
                    f"role '{role}': {problem[0]}", field_nodes.pos_of(field), problem[1], f"{where}.fields.{field}"
                )
            )


def _form_field(form_name: str, path: str, form: FormSpec, broken: Broken) -> Optional[tuple[str, Optional[str]]]:
    """Why ``path`` (a field, or ``<sub-table>.<column>``) names nothing in ``form``: (message, hint)."""
    name, _, column = path.partition(".")
    spec = form.field(name)
    if spec is None:
        if broken.field(form_name, name):
            return None
        what = "sub-table" if column else "field"
        names = [f.name for f in form.fields if f.is_table] if column else form.field_names
        return f"form '{form_name}' has no {what} '{name}'", did_you_mean(name, names)
    if not column:
        return None
    if not spec.is_table:
        return (
            f"'{name}' of form '{form_name}' is a {spec.type}, not a sub-table: only a sub-table's "
            f"columns are named '<sub-table>.<column>'",
            f"a linked record's fields are set under form '{spec.form}'" if spec.form else None,
        )
    columns = [c.name for c in spec.fields]
    if column not in columns:
        return (
            f"sub-table '{name}' of form '{form_name}' has no column '{column}'",
            did_you_mean(column, columns, f"{name}."),
        )
    return None


def _all_forms_field(path: str, forms: Mapping[str, FormSpec], broken: Broken) -> Optional[tuple[str, Optional[str]]]:
    """Why ``path`` under ``"*"`` names a field (or sub-table column) of no form."""
    known = {f for spec in forms.values() for f in spec.field_names}
    known |= {f for names in broken.fields.values() for f in names}
    if "." in path:
        if path.partition(".")[0] in {f for names in broken.fields.values() for f in names}:
            return None
        known = {f"{t.name}.{c.name}" for spec in forms.values() for t in spec.fields if t.is_table for c in t.fields}
        if path not in known:
            return f"no form has a sub-table column '{path}'", did_you_mean(path, known)
        return None
    if path not in known:
        return f"no form has a field '{path}'", did_you_mean(path, known)
    return None
