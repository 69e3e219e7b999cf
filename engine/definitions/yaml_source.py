"""YAML/JSON text -> dicts and lists that remember where every key and value stood.

Only ``yaml.SafeLoader`` is used (JSON is read with the same loader, so positions work
for both). Mappings come back as :class:`PosDict`, sequences as :class:`PosList`; both
answer ``pos_of`` / ``value_pos`` with a :class:`~engine.errors.Position` that carries
the source line, so any later check can print ``file:line:col`` and a caret.
"""

from __future__ import annotations

import re
from typing import Any, Hashable, Iterator, Optional

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.errors import DefinitionError, Position

# (line, column) 1-based, plus the scalar style ('' plain, "'" / '"' quoted, '|' / '>' block)
Mark = tuple[int, int, str]


class Source:
    """One file's text and display name; turns (line, column) into a Position."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.lines = text.splitlines()

    def line(self, number: int) -> Optional[str]:
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1]
        return None

    def position(self, line: int = 1, column: int = 1) -> Position:
        return Position(self.file, line, column, self.line(line))

    def error(
        self, message: str, line: int = 1, column: int = 1, hint: Optional[str] = None, path: Optional[str] = None
    ) -> DefinitionError:
        return DefinitionError(message, self.position(line, column), hint, path)


class _Node:
    """Position bookkeeping shared by PosDict and PosList."""

    source: Source
    start: Mark

    def here(self) -> Position:
        """Where the mapping / sequence itself starts."""
        return self.source.position(self.start[0], self.start[1])

    def _pos(self, mark: Optional[Mark]) -> Position:
        return self.here() if mark is None else self.source.position(mark[0], mark[1])

    def _text_pos(self, mark: Optional[Mark]) -> Position:
        """Where a scalar's text starts: after the quote, or on the line after ``|``/``>``."""
        if mark is None:
            return self.here()
        line, column, style = mark
        if style in ("'", '"'):
            return self.source.position(line, column + 1)
        if style in ("|", ">"):
            nxt = self.source.line(line + 1) or ""
            return self.source.position(line + 1, len(nxt) - len(nxt.lstrip(" ")) + 1)
        return self.source.position(line, column)


class PosDict(dict, _Node):  # type: ignore[type-arg]
    """A mapping that knows the position of each key and each value."""

    def __init__(self, source: Source, start: Mark) -> None:
        super().__init__()
        self.source = source
        self.start = start
        self.key_marks: dict[Hashable, Mark] = {}
        self.value_marks: dict[Hashable, Mark] = {}

    def pos_of(self, key: Hashable) -> Position:
        """Position of ``key`` itself (the mapping's start if absent)."""
        return self._pos(self.key_marks.get(key))

    def value_pos(self, key: Hashable) -> Position:
        """Position of the value under ``key`` (the key's position if absent)."""
        return self._pos(self.value_marks.get(key) or self.key_marks.get(key))

    def text_pos(self, key: Hashable) -> Position:
        """Where the text of a scalar value starts (quoted: one column to the right)."""
        return self._text_pos(self.value_marks.get(key) or self.key_marks.get(key))


def empty_like(node: Any) -> "PosDict":
    """An empty PosDict placed where ``node`` is (for an optional mapping left out)."""
    return PosDict(node.source, node.start)


class PosList(list, _Node):  # type: ignore[type-arg]
    """A sequence that knows the position of each item."""

    def __init__(self, source: Source, start: Mark) -> None:
        super().__init__()
        self.source = source
        self.start = start
        self.item_marks: list[Mark] = []

    def pos_of(self, index: int) -> Position:
        """Position of item ``index``."""
        return self._pos(self.item_marks[index] if 0 <= index < len(self.item_marks) else None)

    value_pos = pos_of

    def text_pos(self, index: int) -> Position:
        return self._text_pos(self.item_marks[index] if 0 <= index < len(self.item_marks) else None)


def _mark(node: Node) -> Mark:
    style = node.style if isinstance(node, ScalarNode) and node.style else ""
    return (node.start_mark.line + 1, node.start_mark.column + 1, style)


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds PosDict/PosList and refuses duplicate keys."""

    source: Source
    problems: list[DefinitionError]


def _construct_map(loader: _Loader, node: MappingNode) -> Iterator[PosDict]:
    data = PosDict(loader.source, _mark(node))
    yield data
    own = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)
    merged = len(node.value) - own
    explicit: set[Any] = set()
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        line, column, _ = _mark(key_node)
        if not isinstance(key, Hashable):
            loader.problems.append(loader.source.error("a mapping key must be a plain text", line, column))
            continue
        if index >= merged:
            if key in explicit:
                first = data.key_marks[key]
                loader.problems.append(
                    loader.source.error(f"duplicate key '{key}' (first given on line {first[0]})", line, column)
                )
                continue
            explicit.add(key)
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_marks[key] = _mark(key_node)
        data.value_marks[key] = _mark(value_node)


def _construct_seq(loader: _Loader, node: SequenceNode) -> Iterator[PosList]:
    data = PosList(loader.source, _mark(node))
    yield data
    for child in node.value:
        data.append(loader.construct_object(child, deep=True))
        data.item_marks.append(_mark(child))


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same with libyaml's parser when present (errors are re-read with _Loader's words)."""

    source: Source
    problems: list[DefinitionError]


for _cls in (_Loader, _FastLoader):
    _cls.add_constructor("tag:yaml.org,2002:map", _construct_map)
    _cls.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
    # JSON numbers such as 1e3 (YAML 1.1 wants a dot: 1.0e+3)
    _cls.add_implicit_resolver(
        "tag:yaml.org,2002:float", re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?[eE][-+]?[0-9]+$"), list("-0123456789")
    )

_PLAIN_WORDS = {
    "mapping values are not allowed here": "a ':' is not allowed here (quote the text, or check the indentation of this line)",
    "could not find expected ':'": "expected a ':' after the key",
    "found character '\\t' that cannot start any token": "a tab character is not allowed here; indent with spaces",
    "found unexpected end of stream": "the file ends inside an unclosed quote or bracket",
    "found undefined alias": "this alias (*name) refers to no anchor (&name)",
}


def _plain(problem: str, context: Optional[str]) -> str:
    for raw, words in _PLAIN_WORDS.items():
        if problem.startswith(raw):
            return words
    if problem.startswith("expected <block end>"):
        return "this line is indented wrongly (it does not line up with the lines above)"
    if problem.startswith("found duplicate anchor"):
        return "an anchor (&name) is defined twice"
    if problem.startswith("did not find expected"):
        wanted = problem[len("did not find expected ") :]
        return f"expected {wanted.replace('<', '').replace('>', '')} here"
    text = problem.replace("<", "").replace(">", "")
    return f"{text} ({context})" if context else text


#: the most nodes a file may expand to through aliases (defeats "billion laughs")
MAX_NODES = 200_000


def _expanded_size(node: Node, sizes: dict[int, int], visiting: set[int]) -> int:
    """How many nodes ``node`` stands for once aliases are expanded; -1 if it contains itself."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in visiting:
        return -1
    visiting.add(key)
    total = 1
    children: list[Node] = []
    if isinstance(node, SequenceNode):
        children = list(node.value)
    elif isinstance(node, MappingNode):
        children = [n for pair in node.value for n in pair]
    for child in children:
        size = _expanded_size(child, sizes, visiting)
        if size < 0:
            return -1
        total += size
        if total > MAX_NODES:
            break
    visiting.discard(key)
    sizes[key] = total
    return total


def parse_yaml(text: str, file: str) -> tuple[Any, list[DefinitionError]]:
    """Parse ``text`` (YAML or JSON); return the data and the problems found (never raises)."""
    if _FastLoader is not _Loader:
        data, problems = _parse(text, file, _FastLoader)
        if data is not None or not problems:
            return data, problems
    return _parse(text, file, _Loader)  # the pure-Python parser words its errors better


def _parse(text: str, file: str, loader_class: type) -> tuple[Any, list[DefinitionError]]:
    source = Source(file, text)
    kind = "JSON" if file.endswith(".json") else "YAML"
    if kind == "JSON":
        text = text.replace("\t", " ")  # JSON allows tab indentation, YAML does not; same columns
    loader = loader_class(text)
    loader.source = source
    loader.problems = []
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        size = _expanded_size(node, {}, set())
        if size < 0 or size > MAX_NODES:
            why = "refers to itself" if size < 0 else f"expands to more than {MAX_NODES} values"
            return None, [
                source.error(
                    f"invalid {kind}: this document {why} through aliases (*name)",
                    node.start_mark.line + 1,
                    node.start_mark.column + 1,
                )
            ]
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"invalid {kind}: " + _plain(exc.problem or "syntax error", exc.context)
        return None, [source.error(message, line, column)]
    except yaml.YAMLError as exc:  # e.g. a reader error on a control character
        return None, [source.error(f"invalid {kind}: {exc}")]
    except RecursionError:
        return None, [source.error(f"invalid {kind}: the data is nested too deeply")]
    finally:
        loader.dispose()
    return data, loader.problems


def bool_key_as_text(node: Any, key: bool, text: str) -> None:
    """YAML 1.1 reads the keys on/off/yes/no as true/false: turn ``key`` of mapping ``node``
    back into ``text`` (``start: {on: create}`` of a flow), keeping positions and order."""
    if not isinstance(node, PosDict) or key not in node:
        return
    items = [(text if k is key else k, v) for k, v in node.items()]
    keys = {(text if k is key else k): m for k, m in node.key_marks.items()}
    values = {(text if k is key else k): m for k, m in node.value_marks.items()}
    node.clear()
    node.update(items)
    node.key_marks, node.value_marks = keys, values


def plain_data(value: Any) -> Any:
    """A copy with PosDict/PosList turned into ordinary dicts and lists."""
    if isinstance(value, dict):
        return {k: plain_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_data(v) for v in value]
    return value
