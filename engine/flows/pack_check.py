"""The flows' check at load: each ``flows/*.yaml`` of a pack builds against its forms and roles
and passes the graph checks, registered with the loader (:mod:`engine.definitions.checks`).

A file with schema errors is left to the loader, which reports those itself (after the
registered checks run); while a form, the roles or the pack file have errors, the flows wait for
their fix (their errors would only echo those).
"""

from __future__ import annotations

from typing import Any

from engine.definitions.checks import PACK_CHECKS, Draft
from engine.errors import DefinitionError, DefinitionErrors
from engine.flows.graph_checks import check_graphs
from engine.flows.loader import FlowContext, build_flow, parse_flow_file, stem_of
from engine.flows.model import FlowSpec


def check_flows(draft: Draft) -> None:
    """Build every schema-clean flow file of the pack, and check the graphs of those that built."""
    rels = draft.kinds.get("flow", [])
    if not rels or _forms_or_roles_broken(draft):
        return
    stems = {stem_of(r) for r in draft.kinds.get("form", [])}
    ctx = FlowContext(
        draft.forms,
        draft.scopes,
        draft.roles,
        decisions=_decisions(draft),
        broken_forms=frozenset(stems - set(draft.forms)),
    )
    built: list[FlowSpec] = []
    for rel in rels:
        node, problems = parse_flow_file(draft.files[rel], draft.display(rel))
        if problems or node is None:
            continue  # the loader reports these
        errors: list[DefinitionError] = []
        flow = build_flow(node, rel, ctx, errors)
        draft.report(errors)
        if flow is not None and not errors:
            built.append(flow)
    draft.report(check_graphs(built, draft.forms, draft.roles))


def _forms_or_roles_broken(draft: Draft) -> bool:
    """Whether a file flows depend on has errors: the flows' errors would only echo those."""
    under = {draft.display(r) for kind in ("pack", "roles", "form", "options") for r in draft.kinds.get(kind, [])}
    return bool(draft.dirty & under)


def _decisions(draft: Draft) -> dict[str, Any]:
    """The pack's decision tables (what ``do: decide <table>`` may name); {} when they are broken."""
    rels = draft.kinds.get("decision", [])
    if not rels:
        return {}
    from engine.rules.decision_files import compile_pack_decisions, select_options

    try:
        return dict(
            compile_pack_decisions(
                {r: draft.files[r] for r in rels},
                draft.scopes,
                display=draft.display,
                options=select_options(draft.forms.values()),
            )
        )
    except DefinitionErrors:
        return {}  # the rules' check reports them


PACK_CHECKS.register("flows", check_flows)
