"""The rules' check at load: a pack's decision tables (``rules/*.decision.yaml``) compile
against its forms, registered with the loader (:mod:`engine.definitions.checks`)."""

from __future__ import annotations

from engine.definitions.checks import PACK_CHECKS, Draft
from engine.errors import DefinitionErrors
from engine.rules.decision_files import compile_pack_decisions, select_options


def check_decisions(draft: Draft) -> None:
    """Compile every decision table of the pack, or report why not."""
    rels = draft.kinds.get("decision", [])
    if not rels or draft.errors:  # with other errors, a table's errors would only echo the forms'
        return
    try:
        compile_pack_decisions(
            {r: draft.files[r] for r in rels},
            draft.scopes,
            display=draft.display,
            options=select_options(draft.forms.values()),
        )
    except DefinitionErrors as exc:
        draft.errors.extend(exc.errors)


PACK_CHECKS.register("rules.decisions", check_decisions)
