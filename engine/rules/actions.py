"""The action registry: built-in actions and plugins (entry point group ``lowcode.actions``).

Each builder turns an :class:`~engine.rules.syntax.ActionNode` into an
:class:`~engine.rules.spec.Action` whose ``run(state)`` does the work inside the triggering
transaction and returns a short summary of its effect. Writes go through the RecordStore
(validated with the form's validator) and emit their own events one level deeper; external
effects (notifications, webhooks) only through the outbox.

A plugin action is a callable ``(state, args: dict) -> str | None`` registered under a
name (``call <name> {arg: expr, ...}`` in a rule file)::

    [options.entry_points]
    lowcode.actions =
        sms_customer = acme.actions:sms_customer
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Callable, Mapping, Optional

import sqlalchemy as sa

from engine.errors import NotFound, ValidationError
from engine.expr.types import ExprType
from engine.registry import ACTIONS
from engine.rules import syntax as sx
from engine.rules.compiler import BUILDERS, Loop, RuleCompiler, build_action, builder, did_you_mean
from engine.rules.log import COLOURS, flag_added, flags
from engine.rules.recipients import compile_recipients
from engine.rules.said import Said
from engine.rules.spec import CREATED, DELETED, UPDATED, Action, Write
from engine.rules.templates import render
from engine.rules.templates import shown as _shown
from engine.rules.templates import template as _template
from engine.store.outbox import enqueue

PluginAction = Callable[[Any, dict], Optional[str]]


def register_action(name: str, fn: PluginAction) -> PluginAction:
    """Add a plugin action programmatically (``lowcode.actions`` entry points are loaded too)."""
    return ACTIONS.register(name, fn)


def plugin_actions() -> dict[str, PluginAction]:
    """Every plugin action by name (:data:`engine.registry.ACTIONS`)."""
    return {name: ACTIONS[name] for name in ACTIONS.names()}


# ---- helpers ------------------------------------------------------------------------
def _values(
    cc: RuleCompiler, pairs: list[tuple[sx.Name, sx.Expr]], target: str, form: str, loop: Optional[Loop]
) -> list[tuple[str, Any]]:
    out = []
    tscope = cc.scope(target)
    for name, e in pairs:
        info = cc.field(tscope, name)
        expr = cc.expr(e, form, loop)
        if info is not None and expr is not None:
            if not _assignable(info.type, expr.type):
                cc.error(f"{info.name} is {_a(info.type.value)}, the value is {_a(expr.type.value)}", e.position)
                continue
            out.append((info.name, expr))
    return out


_NUMERIC = {ExprType.INTEGER, ExprType.DECIMAL, ExprType.FLOAT}


def _assignable(target: ExprType, value: ExprType) -> bool:
    if ExprType.ANY in (target, value) or value == ExprType.NULL or target == value:
        return True
    if target in _NUMERIC and value in _NUMERIC:
        return True
    return {target, value} <= {ExprType.RECORD, ExprType.INTEGER}


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _jsonable(data: Mapping[str, Any]) -> dict[str, Any]:
    import datetime as dt

    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, (dt.date, dt.datetime)):
            out[k] = v.isoformat()
        elif isinstance(v, Decimal):
            out[k] = str(v)
        else:
            out[k] = v
    return out


def _key(run: Any, index: str) -> str:
    return f"rule:{run.rule.key}:{run.form}:{run.record.get('id')}:{run.record.get('version')}:{index}"


# ---- notify -------------------------------------------------------------------------
@builder("notify")
def _notify(cc: RuleCompiler, node: sx.ActionNode, form: str, loop: Optional[Loop]) -> Optional[Action]:
    """``notify <target> "text"``: one outbox row per recipient (engine/rules/recipients.py)."""
    a = node.args
    recipients = compile_recipients(cc, node, form, loop)
    body = _template(cc, form, a["message"], a["message_pos"], loop)
    if recipients is None:
        return None
    subject = f"{cc.pack.name}: {{rule}}"

    def run(st: Any) -> str:
        picked = recipients.fetch(st.conn, st)
        text = body(st.values()) or f"{st.rule.name}: {st.form} {st.record.get('id')}"
        for r in picked:
            channel, address = ("email", r["email"]) if r["email"] else ("log", r["username"])
            enqueue(
                st.conn,
                "notify",
                {
                    "channel": channel,
                    "to": address,
                    "subject": subject.replace("{rule}", st.rule.name),
                    "body": str(text),
                },
                channel=channel,
                key=_key(st, f"{node.position.line}:{node.position.column}:{r['id']}"),
                now=st.ctx.now(),
            )
        names = ", ".join(r["username"] for r in picked) or "nobody"
        return text.around(f"notified {names}: ") if isinstance(text, Said) else f"notified {names}: {text}"

    return Action("notify", node.position, run)


# ---- set ----------------------------------------------------------------------------
@builder("set")
def _set(cc: RuleCompiler, node: sx.ActionNode, form: str, loop: Optional[Loop]) -> Optional[Action]:
    values = _values(cc, node.args["assigns"], form, form, loop)

    def run(st: Any) -> str:
        if st.event == "deleted":
            raise ValidationError({"set": ["the record was deleted"]})
        data = {name: st.evaluate(expr) for name, expr in values}
        _set_own(st, data)
        return _said("set ", data)

    return Action("set", node.position, run, effects=(Write(form, UPDATED, frozenset(n for n, _ in values)),))


def _set_own(st: Any, data: dict[str, Any]) -> None:
    """Write ``data`` to the rule's own record. On the record whose change triggered the rule
    (a created or updated event) it is part of that change: the change's version is amended,
    not followed by another one."""
    new = st.store.update(
        st.conn,
        st.ctx,
        st.form,
        st.record["id"],
        _jsonable(data),
        writer=st.writer,
        depth=st.depth + 1,
        amend=st.event in (CREATED, UPDATED),
    )
    st.record.clear()
    st.record.update(new)
    st.data.forget(st.form, new["id"])


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _said(head: str, data: Mapping[str, Any], tail: str = "") -> Said:
    """``set a = 1, b = 'x'``: each assignment names the field whose value it shows."""
    return Said([(head, None), *((f"{k} = {_show(v)}", k) for k, v in data.items()), (tail, None)], ", ")


# ---- decide <table> -----------------------------------------------------------------
@builder("decide")
def _decide(cc: RuleCompiler, node: sx.ActionNode, form: str, loop: Optional[Loop]) -> Optional[Action]:
    """Evaluate a decision table (hit ``first``) on the record; set the fields named like its outputs."""
    name: sx.Name = node.args["table"]
    table = cc.decisions.get(name.text)
    if table is None:
        known = list(cc.decisions)
        cc.error(
            f"unknown decision table '{name.text}'",
            name.position,
            did_you_mean(name.text, known)
            or (
                "tables: " + ", ".join(sorted(known))
                if known
                else "a pack keeps its tables in rules/<name>.decision.yaml"
            ),
        )
        return None
    if table.form != form:
        cc.error(
            f"decision table '{table.name}' reads {table.form} records, not {form}",
            name.position,
            f"decide it in a rule 'on {table.form}'",
        )
        return None
    if table.hit != "first":
        cc.error(
            f"decide needs a table with hit policy first; '{table.name}' collects every matching row",
            name.position,
            "a rule sets one value per field: use hit: first",
        )
        return None
    if loop is not None:
        cc.error("decide works on the record, not inside a for loop", node.position)
        return None
    spec = cc.forms.get(form)
    scope = cc.scope(form)
    fields: list[tuple[str, str]] = []  # (output, field)
    for out in table.outputs:
        info = scope.resolve(out.name)
        field_spec = spec.field(info.name) if spec is not None and info is not None else None
        if info is None or field_spec is None:
            candidates = scope.spellings()
            cc.error(
                f"decision table '{table.name}' outputs '{out.name}' but {form} has no field of that name",
                name.position,
                did_you_mean(out.name, candidates) or f"add a field '{out.name}' to {form}",
            )
            continue
        if field_spec.is_table or field_spec.formula or field_spec.prop("lookup"):
            cc.error(
                f"decision table '{table.name}' outputs '{out.name}' but {form}.{info.name} is "
                f"{'a sub-table' if field_spec.is_table else 'computed'} and cannot be set",
                name.position,
            )
            continue
        if not _assignable(info.type, out.type):
            cc.error(
                f"decision table '{table.name}' outputs '{out.name}' as {_a(out.type.value)}, "
                f"but {form}.{info.name} is {_a(info.type.value)}",
                name.position,
            )
            continue
        fields.append((out.name, info.name))
    if len(fields) != len(table.outputs):
        return None
    evaluate = table.evaluate

    def run(st: Any) -> str:
        if st.event == "deleted":
            raise ValidationError({"decide": ["the record was deleted"]})
        result = evaluate(st.record, st.ctx, data=st.data, old=st.old)
        if result is None:
            return f"{table.name}: no row matched and no default; nothing set"
        data = {f: result[o] for o, f in fields}
        if all(st.record.get(k) == v for k, v in data.items()):
            return _said(f"{table.name}: ", data, " (unchanged)")
        _set_own(st, data)
        return _said(f"{table.name}: set ", data)

    return Action(
        "decide",
        node.position,
        run,
        effects=(Write(form, UPDATED, frozenset(f for _, f in fields)),),
        reads=frozenset(name.split(".")[0] for name in table.names),
    )


# ---- create / upsert ------------------------------------------------------------------
@builder("create")
def _create(cc: RuleCompiler, node: sx.ActionNode, form: str, loop: Optional[Loop]) -> Optional[Action]:
    target = cc.form(node.args["form"])
    if target is None:
        return None
    values = _values(cc, node.args["values"], target.name, form, loop)

    def run(st: Any) -> str:
        data = {name: st.evaluate(expr) for name, expr in values}
        new = st.store.create(st.conn, st.ctx, target.name, _jsonable(data), writer=st.writer, depth=st.depth + 1)
        return f"created {target.name} {new['id']}"

    return Action("create", node.position, run, effects=(Write(target.name, CREATED),))


@builder("upsert")
def _upsert(cc: RuleCompiler, node: sx.ActionNode, form: str, loop: Optional[Loop]) -> Optional[Action]:
    target = cc.form(node.args["form"])
    if target is None:
        return None
    key = cc.field(cc.scope(target.name), node.args["key"])
    values = _values(cc, node.args["values"], target.name, form, loop)
    if key is not None and key.name not in {n for n, _ in values}:
        cc.error(f"upsert by {key.name}: give {key.name} a value in {{...}}", node.args["key"].position)

    def run(st: Any) -> str:
        assert key is not None
        data = {name: st.evaluate(expr) for name, expr in values}
        table = st.store.tables.table(target.name)
        found = st.conn.execute(sa.select(table.c.id).where(table.c[key.sql_column] == data[key.name])).first()
        if found is None:
            new = st.store.create(st.conn, st.ctx, target.name, _jsonable(data), writer=st.writer, depth=st.depth + 1)
            return f"created {target.name} {new['id']}"
        st.store.update(st.conn, st.ctx, target.name, found.id, _jsonable(data), writer=st.writer, depth=st.depth + 1)
        return f"updated {target.name} {found.id}"

    return Action(
        "upsert",
        node.position,
        run,
        effects=(Write(target.name, CREATED), Write(target.name, UPDATED, frozenset(n for n, _ in values))),
    )


# ---- delete -----------------------------------------------------------------------------
@builder("delete")
def _delete(cc: RuleCompiler, node: sx.ActionNode, form: str, loop: Optional[Loop]) -> Optional[Action]:
    def run(st: Any) -> str:
        if st.event == "deleted":
            return "already deleted"
        st.store.delete(st.conn, st.ctx, st.form, st.record["id"], writer=st.writer, depth=st.depth + 1)
        return f"deleted {st.form} {st.record['id']}"

    return Action("delete", node.position, run, effects=(Write(form, DELETED),))


@builder("start_flow")
def _start_flow(cc: RuleCompiler, node: sx.ActionNode, form: str, loop: Optional[Loop]) -> Optional[Action]:
    flow = node.args["flow"].text

    def run(st: Any) -> str:
        for start in st.engine.flow_starters:
            start(st.conn, st.ctx, flow, st.form, st.record["id"])
        return f"requested flow {flow}" + ("" if st.engine.flow_starters else " (no flow engine installed)")

    return Action("start_flow", node.position, run)


@builder("flag")
def _flag(cc: RuleCompiler, node: sx.ActionNode, form: str, loop: Optional[Loop]) -> Optional[Action]:
    colour, tag = node.args["colour"], node.args["tag"]
    if colour.text not in COLOURS:
        cc.error(
            f"unknown colour '{colour.text}'",
            colour.position,
            did_you_mean(colour.text, COLOURS) or "use one of: " + ", ".join(COLOURS),
        )
    tag_text = _template(cc, form, tag, node.position, loop)

    def run(st: Any) -> str:
        text = tag_text(st.values()) or None
        st.conn.execute(
            flags.insert().values(
                form=st.form,
                record_id=st.record["id"],
                colour=colour.text,
                tag=str(text) if text else None,
                rule=st.rule.name,
                at=st.ctx.now(),
            )
        )
        flag_added(st.conn, st.form, st.record["id"])
        if isinstance(text, Said) and text.shows:
            return text.around(f"flagged {colour.text} '", "'")
        return f"flagged {colour.text}" + (f" {text!r}" if text else "")

    return Action("flag", node.position, run, tags=_shown(cc, form, tag, loop))


@builder("webhook")
def _webhook(cc: RuleCompiler, node: sx.ActionNode, form: str, loop: Optional[Loop]) -> Optional[Action]:
    url, secret = node.args["url"], node.args["secret"]
    if not re.match(r"https?://", url or ""):
        cc.error(f"a webhook URL starts with http:// or https://, not {url!r}", node.position)

    def run(st: Any) -> str:
        spec = st.store.form(st.form)
        from engine.store.serialize import dump_record

        body = {
            "rule": st.rule.name,
            "form": st.form,
            "record_id": st.record.get("id"),
            "event": st.event,
            "record": dump_record(spec, st.record),
        }
        payload: dict[str, Any] = {"url": url, "body": body}
        if secret:
            payload["secret"] = secret
        oid = enqueue(
            st.conn, "webhook", payload, key=_key(st, f"{node.position.line}:{node.position.column}"), now=st.ctx.now()
        )
        return f"queued webhook {url} (outbox {oid})"

    return Action("webhook", node.position, run)


@builder("plugin")
def _plugin(cc: RuleCompiler, node: sx.ActionNode, form: str, loop: Optional[Loop]) -> Optional[Action]:
    name = node.args["name"]
    found = plugin_actions()
    if name.text not in found:
        cc.error(
            f"unknown action '{name.text}'", name.position, did_you_mean(name.text, list(found) + sorted(BUILDERS))
        )
        return None
    exprs = [(k.text, cc.expr(e, form, loop)) for k, e in node.args["values"]]

    def run(st: Any) -> str:
        fn = plugin_actions()[name.text]
        args = {k: st.evaluate(e) for k, e in exprs if e is not None}
        return str(fn(st, args) or f"ran {name.text}")

    return Action(name.text, node.position, run)


@builder("for")
def _for(cc: RuleCompiler, node: sx.ActionNode, form: str, loop: Optional[Loop]) -> Optional[Action]:
    var, table = node.args["var"], node.args["table"]
    info = cc.field(cc.scope(form), table)
    if info is None:
        return None
    if info.children is None:
        cc.error(f"'{table.text}' is not a sub-table of {form}", table.position)
        return None
    if loop is not None:
        cc.error("loops do not nest", node.position)
        return None
    inner = Loop(var.text, info.name, info.children)
    body = [build_action(cc, a, form, inner) for a in node.args["body"]]
    if any(b is None for b in body):
        return None
    field_name = info.name

    def run(st: Any) -> str:
        rows = list(st.record.get(field_name) or [])
        count = 0
        try:
            for row in rows:
                st.vars = {f"{var.text}__{k}": v for k, v in row.items()}
                for action in body:
                    st.engine._act(st, action)
                count += 1
        finally:
            st.vars = {}
        return f"for {count} {field_name}"

    return Action(
        "for",
        node.position,
        run,
        effects=tuple(w for b in body if b for w in b.effects),
        tags=tuple(t for b in body if b for t in b.tags),
    )


__all__ = ["BUILDERS", "COLOURS", "build_action", "register_action", "render", "NotFound"]
