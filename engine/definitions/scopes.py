"""Expression scopes of a pack: what names a formula, condition or row filter can use."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Iterable, Mapping, Optional

from engine.definitions.common import frozen
from engine.definitions.fieldkinds import field_types
from engine.definitions.model import FieldSpec, FormSpec, PackSpec
from engine.expr.scope import FieldInfo, Scope
from engine.expr.types import ExprType

#: system columns every form has, as expressions see them
SYSTEM_INFO = {
    "id": ExprType.INTEGER,
    "version": ExprType.INTEGER,
    "owner": ExprType.INTEGER,
    "created_by": ExprType.INTEGER,
    "updated_by": ExprType.INTEGER,
    "created_at": ExprType.DATETIME,
    "updated_at": ExprType.DATETIME,
}
#: system columns of a sub-table row
CHILD_INFO = {"id": ExprType.INTEGER, "parent_id": ExprType.INTEGER, "pos": ExprType.INTEGER}


def scope_version(pack: PackSpec) -> str:
    """What compiled expressions are cached by: ``<pack version>:<checksum>``."""
    return f"{pack.version}:{pack.checksum}"


def build_scopes(pack: PackSpec) -> dict[str, Scope]:
    """One Scope per form; every Scope's ``forms`` is this same dict (links resolve)."""
    return scopes_for(pack.forms.values(), scope_version(pack))


def scopes_for(forms: Iterable[FormSpec], version: str) -> dict[str, Scope]:
    """Scopes of ``forms`` (used while loading, before the PackSpec exists)."""
    registry = field_types()
    scopes: dict[str, Scope] = {}
    view = MappingProxyType(scopes)  # every scope sees the others, read-only
    for form in forms:
        scopes[form.name] = Scope(
            form.name, _infos(form.name, form.fields, SYSTEM_INFO, registry, version, view), version, view
        )
    return scopes


def _infos(
    owner: str,
    fields: Iterable[FieldSpec],
    system: dict[str, ExprType],
    registry: Any,
    version: str,
    scopes: Mapping[str, Scope],
    parent_form: Optional[str] = None,
) -> Any:
    infos: dict[str, FieldInfo] = {n: FieldInfo(n, t) for n, t in system.items()}
    if parent_form is not None:  # a sub-table row: ``parent.customer`` reads its record
        infos["parent"] = FieldInfo("parent", ExprType.RECORD, column="parent_id", link_form=parent_form)
    for f in fields:
        ftype = registry.get(f.type)
        children = None
        if f.is_table:
            child = f"{owner}.{f.name}"
            children = Scope(
                child,
                _infos(child, f.fields, CHILD_INFO, registry, version, scopes, parent_form=owner),
                version,
                scopes,
            )
        infos[f.name] = FieldInfo(
            name=f.name,
            type=_expr_type(ftype, f),
            labels=tuple(dict.fromkeys(t for t in f.label.all() if t and t != f.name)),
            link_form=f.form if f.is_link else None,
            children=children,
            element_type=getattr(ftype, "element_type", ExprType.ANY) if ftype is not None else ExprType.ANY,
            options=tuple((o.value, o.label.all()) for o in f.options) if getattr(ftype, "choices", False) else (),
        )
    return frozen(infos)


def _expr_type(ftype: Any, f: FieldSpec) -> ExprType:
    if ftype is None:
        return ExprType.ANY
    try:
        return ftype.expr_type_of(f)  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001  a broken property (reported by the loader)
        return ftype.expr_type  # type: ignore[no-any-return]
