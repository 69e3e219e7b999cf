"""roles.yaml -> RoleSpecs, checked against the pack's forms and fields."""
from __future__ import annotations

from typing import Mapping

from engine.definitions.common import Broken, frozen, to_labels
from engine.definitions.model import FormGrant, FormSpec, RoleSpec
from engine.definitions.schema_check import did_you_mean
from engine.definitions.yaml_source import PosDict, empty_like
from engine.errors import DefinitionError

ALL_FORMS = "*"


def build_roles(node: PosDict, locale: str, forms: Mapping[str, FormSpec], broken: Broken,
                errors: list[DefinitionError]) -> dict[str, RoleSpec]:
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
            errors.append(DefinitionError(
                f"role '{name}': a portal role cannot be a superuser", role.pos_of("superuser"),
                None, f"{where}.superuser"))
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


def _check_grant(role: str, form_name: str, form_nodes: PosDict, grant: PosDict,
                 forms: Mapping[str, FormSpec], broken: Broken,
                 errors: list[DefinitionError]) -> None:
    where = f"roles.{role}.forms.{form_name}"
    if form_name != ALL_FORMS and form_name not in forms and not broken.form(form_name):
        errors.append(DefinitionError(
            f"role '{role}': unknown form '{form_name}'", form_nodes.pos_of(form_name),
            did_you_mean(form_name, forms), where))
        return
    if broken.form(form_name):
        return
    field_nodes: PosDict = grant.get("fields") or empty_like(grant)
    if form_name == ALL_FORMS:
        known = {f for spec in forms.values() for f in spec.field_names}
        known |= {f for names in broken.fields.values() for f in names}
        for field in field_nodes:
            if field not in known:
                errors.append(DefinitionError(
                    f"role '{role}': no form has a field '{field}'", field_nodes.pos_of(field),
                    did_you_mean(field, known), f"{where}.fields.{field}"))
        return
    names = forms[form_name].field_names
    for field in field_nodes:
        if field not in names and not broken.field(form_name, field):
            errors.append(DefinitionError(
                f"role '{role}': form '{form_name}' has no field '{field}'",
                field_nodes.pos_of(field), did_you_mean(field, names), f"{where}.fields.{field}"))
