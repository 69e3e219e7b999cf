"""Check parsed definition files against the shipped JSON Schemas, errors in plain words.

Every jsonschema error becomes a :class:`DefinitionError` positioned at the offending
node (via :mod:`engine.definitions.yaml_source` positions). A schema may carry an
``x-message`` (``{value}`` is replaced by the offending value) to say what is wrong
in the words of the domain rather than the words of JSON Schema.
"""

from __future__ import annotations

import difflib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

import jsonschema
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from engine.definitions.yaml_source import PosDict, PosList, Source, _Node
from engine.errors import DefinitionError, Position

SCHEMA_DIR = Path(__file__).with_name("schemas")
SCHEMA_NAMES = ("common", "pack", "form", "roles", "flow", "report", "print", "demo", "options")

_TYPE_WORDS = {
    "string": "a text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping (key: value)",
    "null": "empty",
}


@lru_cache(maxsize=None)
def _registry() -> Registry:
    resources = []
    for name in SCHEMA_NAMES:
        schema = json.loads((SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


@lru_cache(maxsize=None)
def validator(name: str) -> Draft202012Validator:
    """The compiled validator of a shipped schema (``pack``, ``form``, ``roles``, ...)."""
    schema = json.loads((SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=_registry())


def props_validator(properties: Mapping[str, Any]) -> Draft202012Validator:
    """A validator for a field type's properties (``props_schema``), compiled once per type."""
    key = json.dumps(properties, sort_keys=True)
    return _props_validator(key)


@lru_cache(maxsize=None)
def _props_validator(key: str) -> Draft202012Validator:
    return Draft202012Validator({"type": "object", "properties": json.loads(key)})


def closest(word: Any, candidates: Iterable[str]) -> Optional[str]:
    """The candidate closest to ``word`` (difflib), or None."""
    if not isinstance(word, str):
        return None
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: Any, candidates: Iterable[str], prefix: str = "") -> Optional[str]:
    """``did you mean 'x'?`` for the closest candidate, or None."""
    close = closest(word, candidates)
    return f"did you mean '{prefix}{close}'?" if close else None


def show(value: Any) -> str:
    """A value as a message shows it: texts in quotes, containers by kind."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "an empty value"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return "'" + text.replace("\n", "\\n") + "'"
    return str(value)


def path_text(path: Sequence[Any]) -> str:
    """``fields[2].type`` from ``['fields', 2, 'type']``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def locate(root: Any, path: Sequence[Any], source: Source) -> tuple[Any, Position]:
    """The node at ``path`` under ``root`` and the position of its value."""
    node: Any = root
    parent: Any = None
    key: Any = None
    for part in path:
        parent, key = node, part
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    if isinstance(parent, (PosDict, PosList)):
        return node, parent.value_pos(key)
    if isinstance(node, _Node):
        return node, node.here()
    return node, source.position(1, 1)


def check(data: Any, schema: str, source: Source) -> list[DefinitionError]:
    """All schema errors of one file's data, each positioned and in plain words."""
    return check_with(validator(schema), data, source)


def check_with(
    v: Draft202012Validator, data: Any, source: Source, root: Any = None, base: Sequence[Any] = ()
) -> list[DefinitionError]:
    """Validate ``data`` with ``v``; ``root``/``base`` locate ``data`` inside its file."""
    root = data if root is None else root
    out: list[DefinitionError] = []
    seen: set[tuple[str, int, int]] = set()
    for error in v.iter_errors(data):
        for err in _translate(error, root, [*base, *error.absolute_path], source):
            mark = (err.message, err.position.line, err.position.column)
            if mark not in seen:
                seen.add(mark)
                out.append(err)
    return out


def _translate(error: jsonschema.ValidationError, root: Any, path: list[Any], source: Source) -> list[DefinitionError]:
    node, pos = locate(root, path, source)
    where = path_text(path)
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance = error.instance

    if "propertyNames" in error.relative_schema_path and isinstance(node, PosDict):
        # the offending key is the instance; point at the key itself
        key_pos = node.pos_of(instance)
        msg = _custom(schema, instance) or f"{show(instance)} is not an allowed key here"
        return [DefinitionError(msg, key_pos, None, path_text([*path, instance]))]
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = list(schema.get("properties", {}))
        out = []
        for key in instance:
            if key in known:
                continue
            out.append(
                DefinitionError(
                    f"unknown property '{key}'",
                    _key_pos(node, key, pos),
                    did_you_mean(key, known),
                    path_text([*path, key]),
                )
            )
        return out
    if kind == "required":
        required = error.validator_value
        assert isinstance(required, list)  # the schemas are read from JSON
        missing = [k for k in required if isinstance(instance, dict) and k not in instance]
        here = node.here() if isinstance(node, _Node) else pos
        return [DefinitionError(f"missing required property '{k}'", here, None, where) for k in missing]
    custom = _custom(schema, instance)
    if custom:
        return [DefinitionError(custom, pos, None, where)]
    return [DefinitionError(_words(error), pos, _hint(error), where)]


def _key_pos(node: Any, key: Any, fallback: Position) -> Position:
    return node.pos_of(key) if isinstance(node, PosDict) else fallback


def _custom(schema: Mapping[str, Any], instance: Any) -> Optional[str]:
    template = schema.get("x-message")
    return template.replace("{value}", show(instance)) if template else None


def _words(error: jsonschema.ValidationError) -> str:
    kind, value, instance = error.validator, error.validator_value, error.instance
    if kind == "type":
        kinds = value if isinstance(value, list) else [value]
        wanted = " or ".join(_TYPE_WORDS.get(str(k), str(k)) for k in kinds)
        if instance is None:
            return f"missing value (expected {wanted})"
        return f"{show(instance)} is not {wanted}"
    if kind == "enum":
        assert isinstance(value, list)  # the schemas are read from JSON
        return f"{show(instance)} is not one of " + ", ".join(show(v) for v in value)
    if kind == "const":
        return f"{show(instance)} must be {show(value)}"
    if kind == "pattern":
        return f"{show(instance)} does not match the pattern {value}"
    if kind == "minItems":
        return "this list must not be empty" if value == 1 else f"this list needs at least {value} items"
    if kind == "maxItems":
        return f"this list may have at most {value} items"
    if kind == "uniqueItems":
        return "this list has the same item twice"
    if kind == "minLength":
        return "this text must not be empty" if value == 1 else f"this text needs at least {value} characters"
    if kind == "maxLength":
        return f"{show(instance)} is longer than {value} characters"
    if kind == "minProperties":
        return "this mapping must not be empty"
    if kind == "minimum":
        return f"{show(instance)} is less than {value}"
    if kind == "maximum":
        return f"{show(instance)} is more than {value}"
    if kind in ("anyOf", "oneOf"):
        best = jsonschema.exceptions.best_match(error.context or [])
        return _words(best) if best is not None else f"{show(instance)} is not valid here"
    return str(error.message)


def _hint(error: jsonschema.ValidationError) -> Optional[str]:
    if error.validator == "enum" and isinstance(error.instance, str):
        options = error.validator_value
        assert isinstance(options, list)  # the schemas are read from JSON
        return did_you_mean(error.instance, [v for v in options if isinstance(v, str)])
    if (
        error.validator == "type"
        and error.validator_value == "string"
        and not isinstance(error.instance, (dict, list, type(None)))
    ):
        return "write it in quotes"
    return None
