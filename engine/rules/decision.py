"""Decision tables: rows of input tests -> outputs, hit policy ``first`` or ``collect``.

Written in YAML (``rules/<name>.decision.yaml`` of a pack) or kept in an .xlsx sheet
(:mod:`engine.rules.decision_xlsx`); both give the same structure, compiled here::

    table = load_decision_yaml(text, "rules/approval.decision.yaml", build_scopes(pack))  # decision_files
    table.evaluate(record, ctx)          # -> {"route": "auto"} / None   (first)
                                          # -> [{...}, {...}]             (collect)

Every cell is compiled by the one expression language against the form's scope (see
:mod:`engine.rules.decision_cells`), the table is checked (:mod:`engine.rules.decision_check`:
unreachable rows are errors, gaps are warnings) and generated as one straight-line function
(:mod:`engine.rules.decision_compile`). All errors of a table are raised at once as
:class:`~engine.errors.DefinitionErrors`, each at the file:line:col of its cell.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence

from engine.definitions.yaml_source import PosDict, PosList
from engine.errors import DefinitionError, DefinitionErrors, Position
from engine.expr import CompiledExpr, ExprError, Scope
from engine.expr import nodes as n
from engine.expr.types import ExprType
from engine.rules import decision_check as chk
from engine.rules.decision_cells import (
    CellText,
    Locate,
    Rewrite,
    RowList,
    cell_scope,
    cell_text,
    compile_cell,
    is_any,
    rewrite_input,
    rewrite_output,
)
from engine.rules.decision_compile import RowCode, build_table, generate_table

Options = Optional[Mapping[str, Sequence[Any]]]
HIT_POLICIES = ("first", "collect")
TABLE_KEYS = ("name", "label", "description", "form", "hit", "inputs", "outputs", "rows", "default")
OUTPUT_TYPES = {t.value: t for t in ExprType if t not in (ExprType.NULL, ExprType.TABLE, ExprType.RECORD)}


@dataclass(frozen=True)
class DecisionInput:
    """One input column: ``name`` (the key in mapping rows), the expression it reads, its type."""

    name: str
    expr: str
    type: ExprType
    label: Optional[str] = None
    options: Optional[tuple[Any, ...]] = None


@dataclass(frozen=True)
class DecisionOutput:
    name: str
    type: ExprType
    label: Optional[str] = None


class DecisionTable:
    """A compiled decision table. ``evaluate(record, ctx=None, data=None, old=None)`` is the
    generated function itself: ``first`` -> a read-only mapping of outputs (or the default, or
    None); ``collect`` -> a list of them."""

    __slots__ = (
        "name",
        "label",
        "form",
        "hit",
        "inputs",
        "outputs",
        "warnings",
        "names",
        "python_source",
        "evaluate",
        "__weakref__",
    )

    def __init__(
        self,
        name: str,
        label: Optional[str],
        form: str,
        hit: str,
        inputs: tuple[DecisionInput, ...],
        outputs: tuple[DecisionOutput, ...],
        warnings: tuple[DefinitionError, ...],
        names: frozenset[str],
        python_source: str,
        evaluate: Callable[..., Any],
    ) -> None:
        self.name, self.label, self.form, self.hit = name, label, form, hit
        self.inputs, self.outputs, self.warnings, self.names = inputs, outputs, warnings, names
        self.python_source = python_source
        self.evaluate = evaluate

    def __repr__(self) -> str:
        return f"DecisionTable({self.name!r}, form={self.form!r}, hit={self.hit!r}, rows->{len(self.outputs)} outputs)"


# ---------------------------------------------------------------- positions
def position_at(container: Any, key: Any, file: str) -> Position:
    if isinstance(container, (PosDict, PosList, RowList)):
        return container.value_pos(key)
    return Position(file)


def _locator(container: Any, key: Any, value: Any, file: str) -> Locate:
    if isinstance(value, CellText):
        return value.locate
    if isinstance(container, (PosDict, PosList)):
        p = container.text_pos(key)
        return lambda offset: Position(p.file, p.line, p.column + offset, p.source_line)
    return lambda offset: Position(file)


def did_you_mean(word: str, choices: Sequence[str]) -> Optional[str]:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f"did you mean '{close[0]}'?" if close else None


# ---------------------------------------------------------------- compile
class _Compiler:
    """One compilation of one table; collects every error."""

    def __init__(self, node: Mapping[str, Any], scope: Scope, file: str, options: Options) -> None:
        self.node, self.scope, self.file, self.known_options = node, scope, file, options or {}
        self.errors: list[DefinitionError] = []

    def error(self, message: str, position: Position, hint: Optional[str] = None) -> None:
        self.errors.append(DefinitionError(message, position, hint))

    def fail_if_errors(self) -> None:
        if self.errors:
            raise DefinitionErrors(self.errors)

    def expr(
        self, rewrite: Rewrite, scope: Scope, locate: Locate, expect: Optional[ExprType]
    ) -> Optional[CompiledExpr]:
        try:
            return compile_cell(rewrite, scope, locate, expect)
        except ExprError as exc:
            self.errors.append(exc)
            return None

    # -------------------------------------------------------- header
    def header(self) -> tuple[str, str, list[DecisionInput], list[DecisionOutput], list[CompiledExpr]]:
        node, file = self.node, self.file
        if not isinstance(node, Mapping):
            raise DefinitionErrors([DefinitionError("a decision table must be a mapping", Position(file))])
        for key in node:
            if key not in TABLE_KEYS:
                self.error(
                    f"unknown key '{key}' in a decision table",
                    node.pos_of(key) if isinstance(node, PosDict) else Position(file),
                    did_you_mean(str(key), TABLE_KEYS),
                )
        for key in ("inputs", "outputs", "rows"):
            if not isinstance(node.get(key), list) or not node.get(key):
                self.error(
                    f"a decision table needs '{key}': a non-empty list",
                    position_at(node, key, file)
                    if key in node
                    else (node.here() if isinstance(node, PosDict) else Position(file)),
                )
        hit = node.get("hit", "first")
        if hit not in HIT_POLICIES:
            self.error(
                f"unknown hit policy '{hit}': use first or collect",
                position_at(node, "hit", file),
                did_you_mean(str(hit), HIT_POLICIES),
            )
        form = node.get("form")
        if form is not None and form != self.scope.form:
            self.error(
                f"this table is for form '{form}' but is compiled against '{self.scope.form}'",
                position_at(node, "form", file),
            )
        self.fail_if_errors()
        name = str(node.get("name") or file.rsplit("/", 1)[-1].split(".")[0])
        inputs, compiled = self.inputs(node["inputs"])
        outputs = self.outputs(node["outputs"])
        names = [i.name for i in inputs] + [o.name for o in outputs]
        for i, col in enumerate(names):
            if col in names[:i]:
                self.error(f"two columns are named '{col}'", Position(file))
        return name, str(hit), inputs, outputs, compiled

    def inputs(self, items: list[Any]) -> tuple[list[DecisionInput], list[CompiledExpr]]:
        found: list[DecisionInput] = []
        compiled: list[CompiledExpr] = []
        for i, item in enumerate(items):
            container: Any = items
            key: Any = i
            label, options = None, None
            if isinstance(item, Mapping):
                key = "expr" if "expr" in item else "name"
                container, name, text = item, item.get("name"), item.get(key)
                label, options = item.get("label"), item.get("options")
                if text is None:
                    self.error("an input needs a name (a field) or an expr", position_at(items, i, self.file))
                    continue
                name = name if name is not None else text
            elif isinstance(item, str):
                name = text = item
            else:
                self.error(
                    "an input is a field name or a mapping {name, expr, label}", position_at(items, i, self.file)
                )
                continue
            expr = self.expr(Rewrite().add(str(text), 0), self.scope, _locator(container, key, text, self.file), None)
            if expr is None:
                continue
            known = self.known_options.get(_field_key(expr))
            opts = tuple(options) if isinstance(options, list) else tuple(known) if known else None
            found.append(DecisionInput(str(name), str(text), expr.type, label, opts))
            compiled.append(expr)
        return found, compiled

    def outputs(self, items: list[Any]) -> list[DecisionOutput]:
        found: list[DecisionOutput] = []
        for i, item in enumerate(items):
            if isinstance(item, str):
                found.append(DecisionOutput(item, ExprType.STRING))
                continue
            if not isinstance(item, Mapping) or "name" not in item:
                self.error("an output is a name or a mapping {name, type, label}", position_at(items, i, self.file))
                continue
            type_name = str(item.get("type", "string"))
            t = OUTPUT_TYPES.get(type_name)
            if t is None:
                self.error(
                    f"unknown output type '{type_name}'",
                    position_at(item, "type", self.file),
                    did_you_mean(type_name, list(OUTPUT_TYPES)),
                )
                continue
            found.append(DecisionOutput(str(item["name"]), t, item.get("label")))
        return found

    # -------------------------------------------------------- rows
    def row_cells(
        self, row: Any, index: int, rows: list[Any], inputs: list[DecisionInput], outputs: list[DecisionOutput]
    ) -> Optional[list[tuple[Any, Any, Any]]]:
        """(container, key, value) per column, or None after an error."""
        width = len(inputs) + len(outputs)
        if isinstance(row, list):
            if len(row) != width:
                self.error(
                    f"row {index + 1} has {len(row)} cells, expected {width} "
                    f"({len(inputs)} inputs and {len(outputs)} outputs)",
                    position_at(rows, index, self.file),
                )
                return None
            return [(row, k, v) for k, v in enumerate(row)]
        if isinstance(row, Mapping):
            columns = [c.name for c in inputs] + [c.name for c in outputs]
            columns_all: list[DecisionInput | DecisionOutput] = [*inputs, *outputs]
            labels = {c.label: c.name for c in columns_all if c.label}
            by_name: dict[str, tuple[Any, Any, Any]] = {}
            for key, value in row.items():
                name = labels.get(key, key)
                if name not in columns:
                    self.error(
                        f"row {index + 1}: unknown column '{key}'",
                        row.pos_of(key) if isinstance(row, PosDict) else Position(self.file),
                        did_you_mean(str(key), columns),
                    )
                    continue
                by_name[name] = (row, key, value)
            return [by_name.get(c, (rows, index, None)) for c in columns]
        self.error(
            f"row {index + 1} must be a list of cells or a mapping by column", position_at(rows, index, self.file)
        )
        return None

    def output_cells(
        self, cells: Sequence[tuple[Any, Any, Any]], outputs: list[DecisionOutput]
    ) -> Optional[tuple[tuple[str, CompiledExpr], ...]]:
        found: list[tuple[str, CompiledExpr]] = []
        for out, (container, key, value) in zip(outputs, cells):
            text = cell_text(value)
            rewrite = Rewrite().add("null") if text is None or not text.strip() else rewrite_output(text, out.type)
            expr = self.expr(rewrite, self.scope, _locator(container, key, value, self.file), out.type)
            if expr is not None:
                found.append((out.name, expr))
        return tuple(found) if len(found) == len(outputs) else None

    def compile(self) -> DecisionTable:
        name, hit, inputs, outputs, input_exprs = self.header()
        self.fail_if_errors()
        rows_node = self.node["rows"]
        scopes = [cell_scope(self.scope, i.type) for i in inputs]
        codes: list[RowCode] = []
        infos: list[chk.RowInfo] = []
        for index, row in enumerate(rows_node):
            cells = self.row_cells(row, index, rows_node, inputs, outputs)
            if cells is None:
                continue
            compiled: list[Optional[CompiledExpr]] = []
            positions: list[Position] = []
            ok = True
            for k, inp in enumerate(inputs):
                container, key, value = cells[k]
                text = cell_text(value)
                locate = _locator(container, key, value, self.file)
                positions.append(locate(0))
                if is_any(text):
                    compiled.append(None)
                    continue
                assert text is not None
                expr = self.expr(rewrite_input(text, inp.type), scopes[k], locate, ExprType.BOOLEAN)
                ok = ok and expr is not None
                compiled.append(expr)
            outs = self.output_cells(cells[len(inputs) :], outputs)
            if not ok or outs is None:
                continue
            codes.append(RowCode(tuple(compiled), outs))
            infos.append(
                chk.RowInfo(
                    index + 1,
                    tuple(chk.analyse(c.tree if c else None) for c in compiled),
                    position_at(rows_node, index, self.file),
                    tuple(positions),
                    tuple(e.tree for _, e in outs),
                )
            )
        default = self.default(outputs)
        self.fail_if_errors()
        self.errors.extend(chk.unreachable_rows(infos, hit))
        self.fail_if_errors()
        warnings: list[DefinitionError] = []
        if default is None:
            where = self.node.pos_of("rows") if isinstance(self.node, PosDict) else Position(self.file)
            warnings = chk.gaps(infos, [i.name for i in inputs], [i.options for i in inputs], where)
        warnings += chk.overlaps(infos, [i.name for i in inputs], hit)
        source, bindings = generate_table(
            self.scope.form, input_exprs, codes, hit, default, {o.name: o.type for o in outputs}
        )
        names = frozenset().union(
            *(e.names for e in input_exprs),
            *(c.names for r in codes for c in r.cells if c is not None),
            *(e.names for r in codes for _, e in r.outputs),
        ) - {"_"}
        label = self.node.get("label")
        return DecisionTable(
            name,
            str(label) if label else None,
            self.scope.form,
            hit,
            tuple(inputs),
            tuple(outputs),
            tuple(warnings),
            names,
            source,
            build_table(source, bindings, name),
        )

    def default(self, outputs: list[DecisionOutput]) -> Optional[tuple[tuple[str, CompiledExpr], ...]]:
        node = self.node.get("default")
        if node is None:
            return None
        if not isinstance(node, Mapping):
            self.error(
                "default is a mapping of outputs, e.g. {route: manager}", position_at(self.node, "default", self.file)
            )
            return None
        names = [o.name for o in outputs]
        for key in node:
            if key not in names:
                self.error(
                    f"default: unknown output '{key}'",
                    node.pos_of(key) if isinstance(node, PosDict) else Position(self.file),
                    did_you_mean(str(key), names),
                )
        cells = [(node, o.name, node.get(o.name)) for o in outputs]
        return self.output_cells(cells, outputs)


def _field_key(expr: CompiledExpr) -> str:
    """``form.field`` of an input that reads one field (directly or through links), else ''."""
    tree = expr.tree
    if isinstance(tree, n.FieldRef):
        return f"{expr.form}.{tree.name}"
    if isinstance(tree, n.LinkRef):
        return f"{tree.target_form}.{tree.name}"
    return ""


def compile_decision_table(
    node: Mapping[str, Any], scope: Scope, *, file: str = "<decision>", options: Options = None
) -> DecisionTable:
    """Check and compile a decision table (a YAML mapping, a plain dict or an .xlsx reading).

    ``options`` (``form.field`` -> values, see :func:`select_options`) gives the values of
    select fields, for the gap warnings; an input's own ``options:`` wins.
    """
    return _Compiler(node, scope, file, options).compile()


__all__ = [
    "CellText",
    "RowList",
    "DecisionInput",
    "DecisionOutput",
    "DecisionTable",
    "compile_decision_table",
]
