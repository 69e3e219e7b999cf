"""The form engine's check at load: every form's logic compiles (lookups, rollups, expression
defaults, no formula cycle), registered with the loader (:mod:`engine.definitions.checks`)."""

from __future__ import annotations

from engine.definitions.checks import PACK_CHECKS, Draft
from engine.errors import DefinitionErrors
from engine.forms.compute import FormLogic


def check_form_logic(draft: Draft) -> None:
    """Compile the logic of each form that is otherwise clean (no second report of a mistake)."""
    dirty = draft.dirty
    for form in draft.forms.values():
        if form.file in dirty:
            continue
        scope = draft.scopes[form.name]
        targets = {f.form for f in form.fields if f.form} | {c.form for f in form.fields for c in f.fields if c.form}
        if scope.forms is not None and any(t not in scope.forms for t in targets):
            continue  # a linked form is broken (reported already): lookups through it wait for the fix
        try:
            FormLogic(form, scope)
        except DefinitionErrors as many:
            draft.report(many.errors)


PACK_CHECKS.register("forms.logic", check_form_logic)
