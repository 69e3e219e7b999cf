"""Checks across a form's own parts and across forms: titles, keys, links."""

from __future__ import annotations

from typing import Iterable, Mapping

from engine.definitions.common import Broken
from engine.definitions.model import FormSpec
from engine.definitions.schema_check import did_you_mean
from engine.definitions.yaml_source import PosDict, PosList
from engine.errors import DefinitionError


def check_forms(
    forms: Mapping[str, FormSpec],
    nodes: Mapping[str, PosDict],
    broken: Broken,
    errors: list[DefinitionError],
    outside: Iterable[str] = (),
) -> None:
    """Link targets exist (here or in ``outside``: other packs' forms); title, unique and
    indexes name fields of the form."""
    known = set(forms) | broken.forms | set(outside)
    for name, form in forms.items():
        node = nodes[name]
        for field in _all_fields(form):
            if field.is_link and field.form and field.form not in known:
                errors.append(
                    DefinitionError(
                        f"field '{field.name}': links to unknown form '{field.form}'",
                        field.positions.get("form", field.position),
                        did_you_mean(field.form, known),
                        None,
                    )
                )
        names = form.field_names
        if form.title is not None and form.title not in names and not broken.field(name, form.title):
            errors.append(
                DefinitionError(
                    f"form '{name}': title names no field '{form.title}'",
                    node.value_pos("title"),
                    did_you_mean(form.title, names),
                    "title",
                )
            )
        for key in ("unique", "indexes"):
            groups = node.get(key)
            if isinstance(groups, PosList):
                _check_groups(form, key, groups, broken, errors)


def _check_groups(form: FormSpec, key: str, groups: PosList, broken: Broken, errors: list[DefinitionError]) -> None:
    names = form.field_names
    for i, group in enumerate(groups):
        for j, field_name in enumerate(group):
            path = f"{key}[{i}][{j}]"
            field = form.field(field_name)
            if field is None and broken.field(form.name, field_name):
                continue
            if field is None:
                errors.append(
                    DefinitionError(
                        f"form '{form.name}': {key} names no field '{field_name}'",
                        group.pos_of(j),
                        did_you_mean(field_name, names),
                        path,
                    )
                )
            elif field.is_table:
                errors.append(
                    DefinitionError(
                        f"form '{form.name}': the table field '{field_name}' cannot be in {key}",
                        group.pos_of(j),
                        None,
                        path,
                    )
                )


def _all_fields(form: FormSpec):  # type: ignore[no-untyped-def]
    for field in form.fields:
        yield field
        yield from field.fields
