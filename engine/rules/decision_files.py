"""A pack's decision tables read from its files: YAML (``rules/*.decision.yaml``) or an .xlsx sheet,
each checked and compiled by :func:`engine.rules.decision.compile_decision_table`."""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Mapping, Optional

from engine.definitions.yaml_source import PosDict, parse_yaml
from engine.errors import DefinitionError, DefinitionErrors, Position
from engine.expr import Scope
from engine.rules.decision import DecisionTable, Options, compile_decision_table, did_you_mean, position_at


def select_options(forms: Iterable[Any]) -> dict[str, tuple[Any, ...]]:
    """``form.field`` -> option values of every select-like field (FormSpecs of a pack).

    Pass it as ``options=`` so gaps over select inputs are reported without listing the
    options in each table: ``select_options(pack.forms.values())``.
    """
    found: dict[str, tuple[Any, ...]] = {}
    for form in forms:
        for f in form.fields:
            if f.options:
                found[f"{form.name}.{f.name}"] = tuple(o.value for o in f.options)
    return found


def read_decision_yaml(text: str, file: str) -> Any:
    """Parse a ``*.decision.yaml`` file into positioned dicts and lists (raises DefinitionErrors)."""
    data, problems = parse_yaml(text, file)
    if problems:
        raise DefinitionErrors(problems)
    if not isinstance(data, dict):
        raise DefinitionErrors([DefinitionError("a decision table file must hold a mapping", Position(file, 1, 1))])
    return data


def _scope_for(data: Mapping[str, Any], scopes: Mapping[str, Scope], file: str) -> Scope:
    form = data.get("form")
    if form is None:
        where = data.here() if isinstance(data, PosDict) else Position(file)
        raise DefinitionErrors(
            [DefinitionError("a decision table needs 'form': the form whose record it reads", where)]
        )
    scope = scopes.get(str(form))
    if scope is None:
        raise DefinitionErrors(
            [
                DefinitionError(
                    f"unknown form '{form}'", position_at(data, "form", file), did_you_mean(str(form), list(scopes))
                )
            ]
        )
    return scope


def load_decision_yaml(text: str, file: str, scopes: Mapping[str, Scope], *, options: Options = None) -> DecisionTable:
    """Read, check and compile a ``*.decision.yaml`` file; ``scopes`` as from ``build_scopes(pack)``."""
    data = read_decision_yaml(text, file)
    return compile_decision_table(data, _scope_for(data, scopes, file), file=file, options=options)


def load_decision_xlsx(
    path: str,
    scopes: Mapping[str, Scope],
    *,
    sheet: Optional[str] = None,
    content: Optional[bytes] = None,
    options: Options = None,
) -> DecisionTable:
    """Read, check and compile a decision table kept in an .xlsx sheet (see decision_xlsx).

    ``content`` gives the workbook's bytes (then ``path`` only names it in messages).
    """
    from engine.rules.decision_xlsx import read_decision_xlsx

    data = read_decision_xlsx(path, sheet=sheet, content=content)
    return compile_decision_table(data, _scope_for(data, scopes, str(path)), file=str(path), options=options)


#: where a pack keeps its decision tables
DECISION_FILE = re.compile(r"rules/[^/]+\.decision\.(?:ya?ml|json)")


def compile_pack_decisions(
    files: Mapping[str, str],
    scopes: Mapping[str, Scope],
    *,
    display: Callable[[str], str] = lambda rel: rel,
    options: Options = None,
) -> dict[str, DecisionTable]:
    """Every ``rules/*.decision.yaml`` among a pack's files (relative path -> text), by table name.

    All errors of all tables are raised together; ``display`` turns a relative path into the
    name shown in messages (e.g. ``packs/sales/rules/approval.decision.yaml``).
    """
    tables: dict[str, DecisionTable] = {}
    where: dict[str, str] = {}
    errors: list[DefinitionError] = []
    for rel in sorted(files):
        if not DECISION_FILE.fullmatch(rel):
            continue
        shown = display(rel)
        try:
            table = load_decision_yaml(files[rel], shown, scopes, options=options)
        except DefinitionErrors as exc:
            errors.extend(exc.errors)
            continue
        if table.name in tables:
            errors.append(
                DefinitionError(
                    f"decision table '{table.name}' is defined twice (first in {where[table.name]})", Position(shown)
                )
            )
            continue
        tables[table.name], where[table.name] = table, shown
    if errors:
        raise DefinitionErrors(errors)
    return tables
