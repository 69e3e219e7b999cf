"""What the inbox pages draw from the inbox's answers: a task's field views (the node's field
permissions), the earlier nodes a reject may go back to, the time left, a record's flow panel."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

from apps.workspace.fields import FieldView, form_views
from apps.workspace.i18n import text
from engine.context import RunContext
from engine.flows.model import HUMAN_KINDS, FlowSpec, NodeSpec
from engine.runtime import Definitions

if TYPE_CHECKING:
    from engine.inbox import Inbox
    from engine.platform import Platform


def inbox_of(platform: "Platform") -> "Inbox":
    from engine.inbox import Inbox

    return Inbox(platform)


def flow_of(defs: Definitions, name: Optional[str]) -> Optional[FlowSpec]:
    flows: Mapping[str, FlowSpec] = getattr(defs, "flows", {}) or {}
    return flows.get(name or "")


def node_of(flow: Optional[FlowSpec], node: Optional[str]) -> Optional[NodeSpec]:
    return flow.nodes.get(node or "") if flow is not None else None


def label_of(flow: Optional[FlowSpec], node: Optional[str], locale: str) -> str:
    spec = node_of(flow, node)
    if spec is None or spec.label is None:
        return node or ""
    return spec.label.get(locale) or spec.id


@dataclass
class TaskFields:
    """The record as the task's node shows it: ``shown`` read only, ``editable`` as inputs."""

    shown: list[FieldView] = field(default_factory=list)
    editable: list[FieldView] = field(default_factory=list)

    @property
    def all(self) -> list[FieldView]:
        return self.shown + self.editable


def task_fields(defs: Definitions, ctx: RunContext, task: Mapping[str, Any], node: Optional[NodeSpec]) -> TaskFields:
    """The fields of the task's form the node lets its assignee see (``visible``; none named:
    as their role sees them) and change (``editable``, while the task is open)."""
    form = str(task.get("form") or "")
    if form not in defs.forms:
        return TaskFields()
    visible = task.get("visible", node.visible if node is not None else None)
    editable = set(task.get("editable", node.editable if node is not None else ()) or ())
    access = dict(defs.policy.field_access(ctx, form))
    spec = defs.forms[form]
    for f in spec.fields:
        if visible is not None and f.name not in visible and f.name not in editable:
            access[f.name] = "hidden"
        elif access.get(f.name) != "hidden":
            access[f.name] = "editable" if f.name in editable and task.get("status", "open") == "open" else "readonly"
    views = form_views(spec, ctx.locale, access, defs.timezone, defs.locale)
    out = TaskFields()
    for v in views:
        (out.shown if v.readonly else out.editable).append(v)
    return out


def return_targets(
    flow: Optional[FlowSpec], instance: Optional[Mapping[str, Any]], here: Optional[str], locale: str
) -> list[tuple[str, str]]:
    """Where a reject may send the record back: the start, then the human nodes the instance
    went through before this one (each once, latest last), as ``(node, label)``."""
    out: list[tuple[str, str]] = [("start", text("flow_start", locale))]
    seen = {"start", here}
    for step in path_nodes(instance):
        spec = node_of(flow, step)
        if step in seen or spec is None or spec.kind not in HUMAN_KINDS:
            continue
        seen.add(step)
        out.append((step, label_of(flow, step, locale)))
    return out


def path_nodes(instance: Optional[Mapping[str, Any]]) -> list[str]:
    if not instance:
        return []
    return [s if isinstance(s, str) else str(s.get("node")) for s in instance.get("path") or ()]


def as_moment(value: Any) -> Optional[dt.datetime]:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def time_left(due: Any, now: dt.datetime, locale: str) -> Optional[tuple[str, bool]]:
    """``("还剩 1天2小时", False)``, or ``("已超时 3小时", True)``; None without a due time."""
    moment = as_moment(due)
    if moment is None:
        return None
    seconds = int((moment - now).total_seconds())
    span = span_text(abs(seconds), locale)
    return (text("overdue", locale, span=span), True) if seconds < 0 else (text("time_left", locale, span=span), False)


#: the units of a time span, largest first: (seconds, zh-CN, en)
UNITS = ((86400, "天", "d"), (3600, "小时", "h"), (60, "分钟", "min"))


def span_text(seconds: int, locale: str) -> str:
    """A span as a person reads it, in its two largest units: ``1天2小时``, ``3 h 5 min``."""
    parts: list[str] = []
    for size, zh, en in UNITS:
        n, seconds = divmod(seconds, size)
        if n and len(parts) < 2:
            parts.append(f"{n}{zh}" if locale.startswith("zh") else f"{n} {en}")
        elif parts:
            break
    if not parts:
        return "1分钟" if locale.startswith("zh") else "1 min"
    return "".join(parts) if locale.startswith("zh") else " ".join(parts)


def who(task: Mapping[str, Any], locale: str, defs: Optional[Definitions] = None) -> str:
    """The assignee as the inbox names them: a user, a role by its label (any of its users may
    act), a delegated task both names (李四 (代 王五))."""
    role = str(task.get("assignee_role") or "")
    if defs is not None and role in defs.roles and not task.get("assignee_name"):
        role = defs.roles[role].label.get(locale) or role
    name = task.get("assignee_name") or role or ""
    behalf = task.get("delegated_from_name")
    return text("on_behalf", locale, name=name, other=behalf) if behalf else str(name)


#: history events the page leaves out (the path on the graph shows where the record went)
QUIET = frozenset({"entered", "left"})


def history_rows(instance: Optional[Mapping[str, Any]], flow: Optional[FlowSpec], locale: str) -> list[dict[str, Any]]:
    """The instance's history, newest last, with node labels and both names of a delegated act."""
    rows = []
    for event in (instance or {}).get("history") or ():
        if event.get("action") in QUIET:
            continue
        name = event.get("user_name") or ""
        if event.get("on_behalf_of"):
            name = text("on_behalf", locale, name=name, other=event["on_behalf_of"])
        rows.append(
            {
                "at": as_moment(event.get("at")),
                "node": label_of(flow, event.get("node"), locale),
                "action": text_or(f"act_{event.get('action')}", locale, str(event.get("action") or "")),
                "who": name,
                "comment": event.get("comment") or "",
                "to": label_of(flow, event.get("to_node"), locale) if event.get("to_node") else "",
                "attachments": list(event.get("attachments") or ()),
            }
        )
    return rows


def text_or(key: str, locale: str, fallback: str) -> str:
    from apps.workspace.i18n import TEXTS

    return text(key, locale) if key in TEXTS else fallback


def withdrawable(flow: Optional[FlowSpec], instance: Optional[Mapping[str, Any]], ctx: RunContext) -> bool:
    """Whether the page offers a withdraw (the engine decides again when it is pressed)."""
    if flow is None or not instance or instance.get("status") != "running" or flow.withdraw == "never":
        return False
    if instance.get("can_withdraw") is not None:
        return bool(instance["can_withdraw"])
    if instance.get("starter_id") not in (None, ctx.user_id):
        return False
    if flow.withdraw == "before_first_approval":
        return not any(e.get("action") == "approved" for e in instance.get("history") or ())
    return True


def open_count(platform: "Platform", ctx: RunContext) -> Optional[int]:
    """How many open tasks the user has (the menu's badge); None when the pack has no flows."""
    if not getattr(platform.definitions(), "flows", None):
        return None
    try:
        answer = inbox_of(platform).tasks(ctx, status="open", limit=1, offset=0)
    except (ImportError, AttributeError):
        return None
    return int(answer.get("total", 0))


def flow_choices(defs: Definitions, ctx: RunContext, counts: Mapping[str, int]) -> list[tuple[str, str, int]]:
    """``(flow, label, open count)`` for the inbox's filter, flows with tasks first."""
    out = []
    for name, n in counts.items():
        flow = flow_of(defs, name)
        out.append((name, flow.label.get(ctx.locale) if flow is not None else name, int(n)))
    return sorted(out, key=lambda c: (-c[2], c[1]))


def record_titles(
    platform: "Platform", defs: Definitions, items: Sequence[Mapping[str, Any]]
) -> dict[tuple[str, int], str]:
    """The title of each task's record (its form's ``title`` field), one query per form."""
    import sqlalchemy as sa

    wanted: dict[str, set[int]] = {}
    for t in items:
        if t.get("form") in defs.forms and t.get("record_id") is not None:
            wanted.setdefault(str(t["form"]), set()).add(int(t["record_id"]))
    out: dict[tuple[str, int], str] = {}
    with platform.db.connect() as conn:
        for form, ids in wanted.items():
            title = defs.forms[form].title
            table = defs.tables.table(form)
            if not title or title not in table.c:
                continue
            rows = conn.execute(sa.select(table.c.id, table.c[title]).where(table.c.id.in_(sorted(ids))))
            out.update({(form, int(r[0])): str(r[1]) for r in rows if r[1] not in (None, "")})
    return out


def ids_from(values: Sequence[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit() and 0 < int(v) < 2**31]
