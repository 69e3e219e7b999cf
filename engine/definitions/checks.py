"""The checks the layers above add to loading a pack: what they compile, they check at load.

The loader itself checks files, forms, roles and every expression. What only a higher layer
can compile registers a :data:`PackCheck` here, by name: the form engine its form logic
(lookups, rollups, expression defaults, formula cycles; :mod:`engine.forms`), the rules their
decision tables (:mod:`engine.rules`), later the flows, reports and prints their files. A
check runs after the loader's own checks, on a :class:`Draft` of the pack, and reports into
it. Checks register when their package is imported (the composition root imports them all);
a plugin adds one as a ``lowcode.checks`` entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

from engine.definitions.model import FormSpec, RoleSpec
from engine.errors import DefinitionError
from engine.expr.scope import Scope
from engine.registry import Registry


@dataclass
class Draft:
    """A pack being loaded, as far as the loader's own checks got."""

    files: Mapping[str, str]  # relative path -> text
    kinds: Mapping[str, Sequence[str]]  # "decision", "flow", ... -> relative paths
    root: str  # what file names in errors start with
    forms: Mapping[str, FormSpec]  # the forms that built (links resolve among them)
    roles: Mapping[str, RoleSpec]
    scopes: Mapping[str, Scope]
    errors: list[DefinitionError] = field(default_factory=list)

    def display(self, rel: str) -> str:
        """The file name errors show for ``rel``."""
        return f"{self.root}/{rel}" if self.root else rel

    def report(self, errors: Iterable[DefinitionError]) -> None:
        """Add ``errors``, each once (two checks may find one mistake)."""
        seen = {_key(e) for e in self.errors}
        for e in errors:
            if _key(e) not in seen:
                seen.add(_key(e))
                self.errors.append(e)

    @property
    def dirty(self) -> set[str]:
        """The files that have errors already (a check skips them: no echo of one mistake)."""
        return {e.position.file for e in self.errors}


PackCheck = Callable[[Draft], None]

#: the registered checks, run in registration order
PACK_CHECKS: Registry[PackCheck] = Registry("lowcode.checks", callable)


def run_checks(draft: Draft) -> None:
    """Run every registered check on ``draft``."""
    for name in list(PACK_CHECKS.names_in_order()):
        PACK_CHECKS[name](draft)


def _key(e: DefinitionError) -> tuple[str, str, int, int]:
    return (e.message, e.position.file, e.position.line, e.position.column)
