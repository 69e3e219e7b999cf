"""demo/data.yaml: demo users, departments and records, checked against the pack's forms and roles.

Records are listed in dependency order: a link value ``"@acme"`` names the ``_ref`` of an
earlier record of the linked form; ``owner`` (and ``user`` fields) name a demo username.
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.definitions.common import Broken
from engine.definitions.fieldkinds import field_types
from engine.definitions.model import FieldSpec, FormSpec, RoleSpec
from engine.definitions.schema_check import did_you_mean, show
from engine.definitions.yaml_source import PosDict, PosList, empty_like
from engine.errors import DefinitionError, Position
from engine.field_errors import FieldError


class _Demo:
    def __init__(self, forms: Mapping[str, FormSpec], broken: Broken, errors: list[DefinitionError]) -> None:
        self.forms, self.broken, self.errors = forms, broken, errors
        self.refs: dict[str, str] = {}  # _ref -> form
        self.users: set[str] = set()

    def err(self, message: str, pos: Position, hint: Any = None, path: Any = None) -> None:
        self.errors.append(DefinitionError(message, pos, hint, path))

    def ref(self, value: str, target: str | None, pos: Position, path: str) -> None:
        name = value[1:]
        if name not in self.refs:
            self.err(
                f"unknown reference '{value}': no earlier record has _ref {name}",
                pos,
                did_you_mean(name, self.refs, "@"),
                path,
            )
        elif target is not None and self.refs[name] != target:
            self.err(f"'{value}' is a {self.refs[name]} record, but this field links to {target}", pos, None, path)


def check_demo(
    node: PosDict,
    forms: Mapping[str, FormSpec],
    roles: Mapping[str, RoleSpec],
    broken: Broken,
    errors: list[DefinitionError],
) -> None:
    """Report unknown forms, fields, roles, users and references in the demo data.

    ``broken`` names forms, fields and roles that failed to load; references to them are
    not checked again.
    """
    demo = _Demo(forms, broken, errors)
    users = node.get("users") or PosList(node.source, node.start)
    for i, user in enumerate(users):
        if user["username"] in demo.users:
            demo.err(
                f"duplicate username '{user['username']}'", user.value_pos("username"), None, f"users[{i}].username"
            )
        demo.users.add(user["username"])
        for j, role in enumerate(user.get("roles") or []):
            if role not in roles and not broken.role(role):
                demo.err(
                    f"unknown role '{role}'",
                    user["roles"].pos_of(j),
                    did_you_mean(role, roles),
                    f"users[{i}].roles[{j}]",
                )
    _departments(demo, node.get("departments") or PosList(node.source, node.start))
    records: PosDict = node.get("records") or empty_like(node)
    for form_name, items in records.items():
        form = forms.get(form_name)
        if broken.form(form_name):
            _refs_only(demo, form_name, items)
            continue
        if form is None:
            demo.err(
                f"unknown form '{form_name}'",
                records.pos_of(form_name),
                did_you_mean(form_name, forms),
                f"records.{form_name}",
            )
            continue
        for i, record in enumerate(items):
            path = f"records.{form_name}[{i}]"
            _record(demo, form_name, form.fields, record, path, top=True)
            ref = record.get("_ref")
            if isinstance(ref, str):
                if ref in demo.refs:
                    demo.err(f"duplicate _ref '{ref}'", record.value_pos("_ref"), None, f"{path}._ref")
                demo.refs[ref] = form_name
    for i, user in enumerate(users):  # portal users point at records listed anywhere
        if "customer" in user:
            demo.ref(user["customer"], None, user.value_pos("customer"), f"users[{i}].customer")


def _departments(demo: _Demo, departments: PosList) -> None:
    """Names unique, a parent listed before, heads and members demo users, each user in one."""
    names: list[str] = []
    member_of: dict[str, str] = {}
    for i, dept in enumerate(departments):
        where, name = f"departments[{i}]", dept["name"]
        if name in names:
            demo.err(f"duplicate department '{name}'", dept.value_pos("name"), None, f"{where}.name")
        parent = dept.get("parent")
        if parent is not None and parent not in names:
            hint = "list it before this one" if any(d.get("name") == parent for d in departments) else None
            demo.err(
                f"unknown parent department '{parent}': no earlier department has that name",
                dept.value_pos("parent"),
                hint or did_you_mean(parent, names),
                f"{where}.parent",
            )
        names.append(name)
        head = dept.get("head")
        if head is not None and head not in demo.users:
            demo.err(
                f"head '{head}' is not a demo user",
                dept.value_pos("head"),
                did_you_mean(head, demo.users),
                f"{where}.head",
            )
        for j, member in enumerate(dept.get("members") or []):
            at = dept["members"].pos_of(j)
            if member not in demo.users:
                demo.err(
                    f"member '{member}' is not a demo user",
                    at,
                    did_you_mean(member, demo.users),
                    f"{where}.members[{j}]",
                )
            elif member in member_of:
                demo.err(
                    f"'{member}' is a member of '{member_of[member]}' already: a user belongs to one department",
                    at,
                    None,
                    f"{where}.members[{j}]",
                )
            else:
                member_of[member] = name


def _refs_only(demo: _Demo, form_name: str, items: Any) -> None:
    for record in items:
        if isinstance(record, dict) and isinstance(record.get("_ref"), str):
            demo.refs[record["_ref"]] = form_name


def _record(demo: _Demo, form: str, fields: tuple[FieldSpec, ...], record: Any, path: str, top: bool) -> None:
    if not isinstance(record, PosDict):
        return
    by_name = {f.name: f for f in fields}
    allowed = [*by_name, *(("_ref", "owner") if top else ())]
    for key, value in record.items():
        pos, where = record.value_pos(key), f"{path}.{key}"
        if top and demo.broken.field(form, key):
            continue
        if key not in allowed:
            demo.err(f"unknown field '{key}'", record.pos_of(key), did_you_mean(key, allowed), where)
            continue
        if key == "owner":
            if not isinstance(value, str) or value not in demo.users:
                demo.err(f"owner {show(value)} is not a demo user", pos, did_you_mean(value, demo.users), where)
            continue
        field = by_name.get(key)
        if field is None or value is None:
            continue
        _value(demo, field, value, pos, where)
    for field in fields:
        if field.required and field.name not in record:
            demo.err(f"missing required field '{field.name}'", record.here(), None, path)


def _value(demo: _Demo, field: FieldSpec, value: Any, pos: Position, where: str) -> None:
    ftype = field_types().get(field.type)
    if ftype is None:
        return
    if ftype.computed:
        demo.err(f"field '{field.name}' is computed and cannot be set", pos, None, where)
    elif field.is_link and isinstance(value, str) and value.startswith("@"):
        if not demo.broken.form(field.form or ""):
            demo.ref(value, field.form if field.form in demo.forms else None, pos, where)
    elif field.is_user and isinstance(value, str):
        if value not in demo.users:
            demo.err(f"'{value}' is not a demo user", pos, did_you_mean(value, demo.users), where)
    elif ftype.choices and not field.options:
        pass  # the field itself is wrong (no options): reported already
    elif field.is_table:
        if not isinstance(value, list):
            demo.err(f"field '{field.name}' takes a list of rows", pos, None, where)
            return
        for j, row in enumerate(value):
            _record(demo, "", field.fields, row, f"{where}[{j}]", top=False)
    else:
        try:
            ftype.parse(field, value)
        except FieldError as exc:
            demo.err(f"field '{field.name}': {show(value)} {exc.render('en')}", pos, None, where)
        except Exception:  # noqa: BLE001  the field's own properties are wrong: reported already
            pass
