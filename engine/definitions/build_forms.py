"""One schema-checked form file -> FormSpec, with the checks that need only that file."""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable, Mapping, Optional

from engine.definitions.common import frozen, opt_labels, to_labels
from engine.definitions.fieldkinds import COMMON_PROPS, FieldKind, field_types
from engine.definitions.model import (
    ANSWER_FIELDS,
    CHILD_SYSTEM_FIELDS,
    SYSTEM_FIELDS,
    Check,
    FieldSpec,
    FormSpec,
    Option,
)
from engine.definitions.schema_check import check_with, did_you_mean, props_validator, show
from engine.definitions.yaml_source import PosDict, PosList, Source
from engine.errors import DefinitionError, Position
from engine.expr.parser import keywords
from engine.expr.types import ExprType
from engine.field_errors import FieldError

#: keys every field may have, whatever its type
COMMON_KEYS = (
    "name",
    "type",
    "label",
    "help",
    "placeholder",
    "required",
    "unique",
    "index",
    "searchable",
    "default",
    "options",
    "form",
    "fields",
    "formula",
    "visible_if",
    "required_if",
    "readonly_if",
)
EXPR_KEYS = ("formula", "visible_if", "required_if", "readonly_if")
#: keys that only some types take (by the type's flags): key -> (takes it, what to say)
ONLY_FOR: dict[str, tuple[Callable[[FieldKind], bool], str]] = {
    "options": (lambda t: t.choices, "select, radio, multiselect, checkboxes and department fields"),
    "form": (lambda t: t.is_link or t.is_multilink, "link and multilink fields"),
    "fields": (lambda t: t.is_table or t.is_group, "table and group fields"),
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
#: option libraries of the pack being loaded: name -> options (``options: "@name"``)
Libraries = Mapping[str, tuple[Option, ...]]
_SEQ_PARTS = re.compile(r"YYYY|YY|MM|DD|seq|seq:0[1-9][0-9]?")


def build_form(
    node: PosDict,
    source: Source,
    stem: str,
    locale: str,
    errors: list[DefinitionError],
    skip: frozenset[int] = frozenset(),
    libraries: Optional[Libraries] = None,
) -> FormSpec:
    """Build the FormSpec of one form file; append what is wrong to ``errors``.

    ``skip`` holds the indexes of fields that failed the schema check: they are left out.
    """
    name = node["name"]
    if name != stem:
        errors.append(
            DefinitionError(
                f"form name '{name}' must match the file name '{stem}'",
                node.value_pos("name"),
                f"rename the file to {name}.yaml or the form to '{stem}'",
                "name",
            )
        )
    fields = _build_fields(node["fields"], source, locale, False, "fields", errors, skip, libraries)
    checks: list[Check] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(node.get("checks") or []):
        if item["name"] in seen:
            errors.append(
                DefinitionError(
                    f"duplicate check '{item['name']}' (first defined on line {seen[item['name']]})",
                    item.value_pos("name"),
                    None,
                    f"checks[{i}].name",
                )
            )
        seen.setdefault(item["name"], item.pos_of("name").line)
        checks.append(Check(item["name"], item["expr"], to_labels(item["message"], locale), item.text_pos("expr")))
    return FormSpec(
        name=name,
        label=to_labels(node.get("label"), locale, name),
        fields=fields,
        position=node.here(),
        file=source.file,
        unique=tuple(tuple(k) for k in node.get("unique") or ()),
        indexes=tuple(tuple(k) for k in node.get("indexes") or ()),
        title=node.get("title"),
        checks=tuple(checks),
        layout=_layout(node.get("layout"), fields, errors),
    )


def _build_fields(
    items: PosList,
    source: Source,
    locale: str,
    in_table: bool,
    path: str,
    errors: list[DefinitionError],
    skip: frozenset[int] = frozenset(),
    libraries: Optional[Libraries] = None,
) -> tuple[FieldSpec, ...]:
    out: list[FieldSpec] = []
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        if i in skip:
            continue
        name = item["name"]
        if name in first:
            errors.append(
                DefinitionError(
                    f"duplicate field '{name}' (first defined on line {first[name]})",
                    item.value_pos("name"),
                    None,
                    f"{path}[{i}].name",
                )
            )
            continue
        first[name] = item.pos_of("name").line
        out.append(_build_field(item, source, locale, in_table, f"{path}[{i}]", errors, libraries))
    return tuple(out)


def _build_field(
    node: PosDict,
    source: Source,
    locale: str,
    in_table: bool,
    path: str,
    errors: list[DefinitionError],
    libraries: Optional[Libraries] = None,
) -> FieldSpec:
    name, type_name = node["name"], node["type"]

    def err(message: str, pos: Position, hint: Optional[str] = None, key: str = "") -> None:
        errors.append(DefinitionError(message, pos, hint, f"{path}.{key}" if key else path))

    reserved = CHILD_SYSTEM_FIELDS if in_table else SYSTEM_FIELDS + ANSWER_FIELDS
    if name in reserved:
        what = "sub-table row" if in_table else "record"
        err(f"'{name}' is a reserved name (every {what} has it); choose another", node.value_pos("name"), None, "name")
    elif isinstance(name, str) and name.lower() in keywords():
        err(
            f"'{name}' is a keyword of the expression language, so no expression could name the field; choose another",
            node.value_pos("name"),
            None,
            "name",
        )
    registry = field_types()
    ftype = registry.get(type_name)
    props_schema: dict[str, Any] = {**COMMON_PROPS, **ftype.props_schema} if ftype else {}
    if ftype is None:
        err(
            f"field '{name}': unknown type '{type_name}'",
            node.value_pos("type"),
            did_you_mean(type_name, registry.names()),
            "type",
        )
    else:
        allowed = [*COMMON_KEYS, *props_schema]
        for key in node:
            if key not in allowed:
                err(f"unknown property '{key}'", node.pos_of(key), did_you_mean(key, allowed), str(key))
        for key, (takes, what) in ONLY_FOR.items():
            if key in node and not takes(ftype):
                err(f"field '{name}': '{key}' is only for {what}", node.pos_of(key), None, key)
        for e in check_with(props_validator(props_schema), node, source, node, ()):
            e.path = f"{path}.{e.path}" if e.path else path
            errors.append(e)
        _check_needs(node, name, ftype, in_table, err)

    options = _options(node, locale, err, libraries or {})
    sub: tuple[FieldSpec, ...] = ()
    if ftype is not None and (ftype.is_table or ftype.is_group) and isinstance(node.get("fields"), list):
        sub = _build_fields(node["fields"], source, locale, True, f"{path}.fields", errors, libraries=libraries)
    spec = FieldSpec(
        name=name,
        type=type_name,
        label=to_labels(node.get("label"), locale, name),
        position=node.here(),
        required=bool(node.get("required", False)),
        unique=bool(node.get("unique", False)),
        index=bool(node.get("index", False)),
        searchable=bool(node.get("searchable", False)),
        default=node.get("default"),
        help=opt_labels(node.get("help"), locale),
        options=options,
        form=node.get("form"),
        fields=sub,
        formula=node.get("formula"),
        visible_if=node.get("visible_if"),
        required_if=node.get("required_if"),
        readonly_if=node.get("readonly_if"),
        props=frozen({k: node[k] for k in node if k in props_schema and k not in COMMON_KEYS}),
        prop_positions=frozen({k: node.value_pos(k) for k in node if k in props_schema and k not in COMMON_KEYS}),
        placeholder=opt_labels(node.get("placeholder"), locale),
        positions=frozen({str(k): node.value_pos(k) for k in node}),
        expr_positions=frozen(
            {**{k: node.text_pos(k) for k in EXPR_KEYS if k in node}, **_nested_expr_positions(node)}
        ),
    )
    if ftype is not None:
        _check_default(node, spec, ftype, err)
    return spec


def in_zone(form: FormSpec, timezone: str) -> FormSpec:
    """``form`` with the pack's ``timezone`` on every date-time field that names no zone of its own.

    A date-time written without an offset (``2026-11-08 14:30``: in an import, a JSON body, a
    filter) is read in this zone, whoever writes it; values with an offset or ``Z`` keep theirs.
    Fields of sub-tables and groups get it too; the definition's text is not changed.
    """
    fields = _zoned(form.fields, timezone)
    return form if fields is form.fields else dataclasses.replace(form, fields=fields)


def _zoned(fields: tuple[FieldSpec, ...], timezone: str) -> tuple[FieldSpec, ...]:
    out, changed = [], False
    for f in fields:
        new = f
        if f.fields:
            inner = _zoned(f.fields, timezone)
            if inner is not f.fields:
                new = dataclasses.replace(new, fields=inner)
        ftype = field_types().get(f.type)
        if ftype is not None and "timezone" not in f.props and _type_of(ftype, f) == ExprType.DATETIME:
            new = dataclasses.replace(new, props=frozen({**f.props, "timezone": timezone}))
        changed = changed or new is not f
        out.append(new)
    return tuple(out) if changed else fields


def _type_of(ftype: Any, spec: FieldSpec) -> Any:
    try:
        return ftype.expr_type_of(spec)
    except (KeyError, ValueError, TypeError):  # a formula whose result the pack got wrong: reported elsewhere
        return None


def _check_needs(node: PosDict, name: str, ftype: FieldKind, in_table: bool, err: Any) -> None:
    here, type_name = node.here(), ftype.name
    if ftype.choices and "options" not in node:
        err(f"field '{name}': a {type_name} field needs 'options'", here)
    if (ftype.is_link or ftype.is_multilink) and "form" not in node:
        err(f"field '{name}': a {type_name} field needs 'form' (the form it points to)", here)
    if ftype.is_table:
        if in_table:
            err(f"field '{name}': a table cannot hold another table", node.value_pos("type"), None, "type")
        elif "fields" not in node:
            err(f"field '{name}': a table field needs 'fields' (its columns)", here)
        for flag in ("unique", "index", "searchable", "default"):
            if flag in node:
                err(f"field '{name}': '{flag}' does not apply to a table field", node.pos_of(flag), None, flag)
    if ftype.is_group and "fields" not in node:
        err(f"field '{name}': a group field needs 'fields' (the fields of the nested object)", here)
    if ftype.is_autonumber:
        if "sequence" not in node:
            err(f"field '{name}': an autonumber field needs 'sequence', e.g. \"SO-{{YYYY}}{{MM}}-{{seq:05}}\"", here)
        elif isinstance(node["sequence"], str):
            _check_sequence(node, name, err)


def _check_sequence(node: PosDict, name: str, err: Any) -> None:
    text: str = node["sequence"]
    start = node.text_pos("sequence")

    def at(offset: int) -> Position:
        return Position(start.file, start.line, start.column + offset, start.source_line)

    seqs = 0
    for match in _PLACEHOLDER.finditer(text):
        part = match.group(1)
        if not _SEQ_PARTS.fullmatch(part):
            err(
                f"field '{name}': unknown placeholder '{{{part}}}' in sequence",
                at(match.start()),
                "use {YYYY} {YY} {MM} {DD} {seq} or {seq:05}",
                "sequence",
            )
        elif part.startswith("seq"):
            seqs += 1
    spans = [range(m.start(), m.end()) for m in _PLACEHOLDER.finditer(text)]
    stray = [i for i, ch in enumerate(text) if ch in "{}" and not any(i in s for s in spans)]
    if stray:
        err(f"field '{name}': unmatched brace in sequence {show(text)}", at(stray[0]), None, "sequence")
    if seqs != 1:
        err(f"field '{name}': the sequence must contain {{seq}} (or {{seq:05}}) exactly once", start, None, "sequence")


def _options(node: PosDict, locale: str, err: Any, libraries: Libraries) -> tuple[Option, ...]:
    items: Any = node.get("options")
    if isinstance(items, str) and items.startswith("@"):
        found = libraries.get(items[1:])
        if found is None:
            err(
                f"field '{node['name']}': no option library '{items[1:]}' (options/{items[1:]}.yaml)",
                node.value_pos("options"),
                did_you_mean(items[1:], list(libraries)),
                "options",
            )
            return ()
        return found
    if not isinstance(items, PosList):
        return ()
    out: list[Option] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        value = item if isinstance(item, str) else item["value"]
        label = to_labels(item.get("label") if isinstance(item, dict) else None, locale, value)
        if value in seen:
            err(f"field '{node['name']}': option '{value}' is given twice", items.pos_of(i), None, f"options[{i}]")
            continue
        seen.add(value)
        out.append(Option(value, label))
    return tuple(out)


def _check_default(node: PosDict, spec: FieldSpec, ftype: Any, err: Any) -> None:
    if "default" not in node or node["default"] is None:
        return
    value, pos = node["default"], node.value_pos("default")
    values = [o.value for o in spec.options]
    if isinstance(value, str) and value.startswith("="):
        return  # an expression: compiled with the others (engine.definitions.expressions)
    if ftype.choices and ftype.expr_type != ExprType.LIST:
        if value not in values:
            err(
                f"field '{spec.name}': default {show(value)} is not one of its options",
                pos,
                did_you_mean(value, values),
                "default",
            )
        return
    if ftype.choices:  # a list of options
        bad = [v for v in (value if isinstance(value, list) else [value]) if v not in values]
        if bad:
            err(
                f"field '{spec.name}': default {show(bad[0])} is not one of its options",
                pos,
                did_you_mean(bad[0], values),
                "default",
            )
        return
    if not ftype.stored or ftype.computed or spec.refers_to_records or spec.is_user:
        err(f"field '{spec.name}': a {spec.type} field cannot have a default", pos, None, "default")
        return
    try:
        ftype.parse(spec, value)
    except FieldError as exc:
        err(f"field '{spec.name}': default {show(value)} {exc.render('en')}", pos, None, "default")
    except Exception:  # noqa: BLE001  the field's own properties are wrong: reported already
        pass


def _nested_expr_positions(node: PosDict) -> dict[str, Position]:
    """Where expressions inside ``default``, ``lookup`` and ``rollup`` start."""
    out: dict[str, Position] = {}
    default = node.get("default")
    if isinstance(default, str) and default.startswith("="):
        pos = node.text_pos("default")
        out["default"] = Position(pos.file, pos.line, pos.column + 1, pos.source_line)
    for key in ("lookup", "rollup"):
        value = node.get(key)
        if isinstance(value, str):
            out[key] = node.text_pos(key)
        elif isinstance(value, PosDict):
            for sub in value:
                if isinstance(value[sub], str):
                    out[f"{key}.{sub}"] = value.text_pos(sub)
    return out


def _layout(layout: Any, fields: tuple[FieldSpec, ...], errors: list[DefinitionError]) -> Any:
    """Check a form's ``layout`` (tabs > sections > field names) and return it as plain data."""
    if not isinstance(layout, PosDict):
        return None
    from engine.definitions.yaml_source import plain_data

    known = [f.name for f in fields]
    placed: dict[str, str] = {}
    names: set[str] = set()
    tabs = layout.get("tabs")
    groups = [(f"layout.tabs[{i}]", t) for i, t in enumerate(tabs)] if isinstance(tabs, PosList) else []
    sections = [(f"layout.sections[{i}]", s) for i, s in enumerate(layout.get("sections") or [])]
    if tabs and layout.get("sections"):
        errors.append(
            DefinitionError(
                "a layout has either tabs or sections, not both",
                layout.pos_of("sections"),
                "put the sections inside tabs",
                "layout",
            )
        )
    for path, tab in groups:
        if tab["name"] in names:
            errors.append(
                DefinitionError(
                    f"layout: the name '{tab['name']}' is used twice", tab.value_pos("name"), None, f"{path}.name"
                )
            )
        names.add(tab["name"])
        sections += [(f"{path}.sections[{i}]", s) for i, s in enumerate(tab["sections"])]
    for path, section in sections:
        if section["name"] in names:
            errors.append(
                DefinitionError(
                    f"layout: the name '{section['name']}' is used twice",
                    section.value_pos("name"),
                    None,
                    f"{path}.name",
                )
            )
        names.add(section["name"])
        items = section["fields"]
        for i, name in enumerate(items):
            if name not in known:
                errors.append(
                    DefinitionError(
                        f"layout: unknown field '{name}'",
                        items.pos_of(i),
                        did_you_mean(name, known),
                        f"{path}.fields[{i}]",
                    )
                )
            elif name in placed:
                errors.append(
                    DefinitionError(
                        f"layout: field '{name}' is already in section '{placed[name]}'",
                        items.pos_of(i),
                        None,
                        f"{path}.fields[{i}]",
                    )
                )
            else:
                placed[name] = section["name"]
    return frozen(plain_data(layout))


def library_options(node: PosDict, stem: str, locale: str, errors: list[DefinitionError]) -> tuple[Option, ...]:
    """The options of one option-library file (``options/<stem>.yaml``)."""
    if node.get("name", stem) != stem:
        errors.append(
            DefinitionError(
                f"option library name '{node['name']}' must match the file name '{stem}'",
                node.value_pos("name"),
                None,
                "name",
            )
        )

    def err(message: str, pos: Position, hint: Optional[str] = None, key: str = "") -> None:
        errors.append(DefinitionError(message.replace("field ", "library ", 1), pos, hint, key or None))

    probe = PosDict(node.source, node.start)
    probe["name"] = stem
    probe["options"] = node["options"]
    probe.key_marks["options"] = node.key_marks["options"]
    probe.value_marks["options"] = node.value_marks["options"]
    return _options(probe, locale, err, {})
