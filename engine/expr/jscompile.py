"""Checked AST -> a small JavaScript function ``(r, ctx) => ...`` for the browser (third back end).

The browser evaluates ``visible_if``, ``required_if``, ``readonly_if`` and formulas live while a
person types; the server recomputes and enforces them on every write, with the Python back end.
Both are generated from the same checked tree, so they agree on the null rules
(docs/expressions.md): comparisons with an empty value are false, ``!=`` is the opposite of
``==``, arithmetic with an empty value is empty, ``and``/``or``/``not`` are two-valued.

Values inside the generated code (the runtime :data:`RUNTIME_JS` converts raw form values
where a field is read, by the field's static type):

* integers, decimals and links: ``Dec`` (a scaled ``BigInt``: exact, like Python's Decimal;
  division is exact when the quotient is finite, otherwise 28 significant digits);
* dates: ``"YYYY-MM-DD"`` strings (they order correctly as text);
* date-times: milliseconds since the epoch (UTC); times: seconds since midnight;
  durations: seconds;
* texts, booleans and lists as themselves; empty is ``null``.

Nodes that read other records (links such as ``customer.tier``, aggregates over another
form, functions without a JavaScript implementation) and rule-only nodes (``old.x``,
``changed``) raise :class:`NeedsServer`: the caller asks the server to compute those.
"""

from __future__ import annotations

import datetime as dt
import json
import weakref
from decimal import Decimal
from typing import Any, Optional

from engine.expr import nodes as n
from engine.expr.pycompile import is_strict_bool
from engine.expr.types import ExprType as T


class NeedsServer(ValueError):
    """The expression reads data the browser does not have; evaluate it on the server."""


#: value kinds the runtime converts a raw form value to, by static type
_KIND = {
    T.INTEGER: "n",
    T.DECIMAL: "n",
    T.FLOAT: "n",
    T.RECORD: "n",
    T.STRING: "s",
    T.BOOLEAN: "b",
    T.DATE: "d",
    T.DATETIME: "dt",
    T.TIME: "tm",
    T.DURATION: "u",
    T.LIST: "l",
    T.TABLE: "rows",
}
_CTX = {
    "me": "L.get(ctx, 'user_id', 'n')",
    "my.id": "L.get(ctx, 'user_id', 'n')",
    "my.customer": "L.get(ctx, 'customer_id', 'n')",
    "my.username": "L.get(ctx, 'username', 's')",
    "my.roles": "L.get(ctx, 'roles', 'l')",
}
#: functions of engine.expr.functions with a JavaScript implementation in the runtime
JS_FUNCTIONS = {
    "round": "L.round",
    "abs": "L.abs",
    "len": "L.len",
    "lower": "L.lower",
    "upper": "L.upper",
    "trim": "L.trim",
    "coalesce": "L.coalesce",
    "days_between": "L.daysBetween",
    "min": "L.least",
    "max": "L.greatest",
}
_ORDER = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


def kind(t: T) -> str:
    """The runtime's name for a static type (``"n"`` numbers, ``"d"`` dates, ...; ``"a"`` any)."""
    return _KIND.get(t, "a")


def _string(text: str) -> str:
    """A JavaScript string literal that is also safe inside HTML (no ``</script>``)."""
    return json.dumps(text, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def literal(value: Any) -> str:
    """A constant as JavaScript (decimals as exact ``L.D`` constructors)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        sign, digits, exp = Decimal(value).as_tuple()
        assert isinstance(exp, int)
        scale = max(-exp, 0)
        mantissa = int("".join(map(str, digits)) or "0") * (10 ** max(exp, 0))
        return f"L.D({'-' if sign else ''}{mantissa}n, {scale})"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        delta = aware - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        return str(delta // dt.timedelta(milliseconds=1))
    if isinstance(value, dt.date):
        return json.dumps(value.isoformat())
    if isinstance(value, dt.timedelta):
        return repr(value.total_seconds())
    if isinstance(value, dt.time):
        return repr(value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6)
    raise NeedsServer(f"a constant of type {type(value).__name__} cannot run in the browser")


class JsGen:
    """One code generation over a checked tree."""

    def __init__(self) -> None:
        self.nrows = 0

    def truth(self, node: n.Node, rows: tuple[str, ...]) -> str:
        code = self.gen(node, rows)
        return code if is_strict_bool(node) else f"({code} === true)"

    def gen(self, node: n.Node, rows: tuple[str, ...]) -> str:
        method = getattr(self, "g_" + type(node).__name__, None)
        if method is None:
            raise NeedsServer(f"{type(node).__name__} cannot run in the browser")
        return method(node, rows)  # type: ignore[no-any-return]

    # ------------------------------------------------------------ leaves
    def g_Literal(self, node: n.Literal, rows: tuple[str, ...]) -> str:
        return literal(node.value)

    def g_ListLit(self, node: n.ListLit, rows: tuple[str, ...]) -> str:
        return "[" + ", ".join(literal(i.value) for i in node.items if isinstance(i, n.Literal)) + "]"

    def g_FieldRef(self, node: n.FieldRef, rows: tuple[str, ...]) -> str:
        return f"L.get({rows[node.depth]}, {_string(node.name)}, '{kind(node.t)}')"

    def g_ContextRef(self, node: n.ContextRef, rows: tuple[str, ...]) -> str:
        return _CTX[node.name]

    def g_LinkRef(self, node: n.LinkRef, rows: tuple[str, ...]) -> str:
        raise NeedsServer(f"following the link '{node.base.name}' needs the server (it reads another record)")

    def g_OldRef(self, node: n.OldRef, rows: tuple[str, ...]) -> str:
        raise NeedsServer("old.<field> exists only in rule conditions, on the server")

    # ------------------------------------------------------------ operators
    def g_Unary(self, node: n.Unary, rows: tuple[str, ...]) -> str:
        if node.op == "not":
            return f"(!{self.truth(node.operand, rows)})"
        return f"L.neg({self.gen(node.operand, rows)})"

    def g_Logic(self, node: n.Logic, rows: tuple[str, ...]) -> str:
        op = "&&" if node.op == "and" else "||"
        return f"({self.truth(node.left, rows)} {op} {self.truth(node.right, rows)})"

    def g_Arith(self, node: n.Arith, rows: tuple[str, ...]) -> str:
        lt, rt = node.left.t, node.right.t
        if T.NULL in (lt, rt):
            return "null"
        a, b = self.gen(node.left, rows), self.gen(node.right, rows)
        if node.op in ("/", "%"):
            return f"L.{'div' if node.op == '/' else 'mod'}({a}, {b})"
        if rt == T.DURATION and lt in (T.DATE, T.DATETIME) or lt == T.DURATION and rt in (T.DATE, T.DATETIME):
            d, delta, dtype = (a, b, lt) if rt == T.DURATION else (b, a, rt)
            sign = -1 if node.op == "-" else 1
            fn = "dateAdd" if dtype == T.DATE else "msAdd"
            return f"L.{fn}({d}, {delta}, {sign})"
        if lt == T.DATE and rt == T.DATE:
            return f"L.dateDiff({a}, {b})"
        if lt == T.DATETIME and rt == T.DATETIME:
            return f"L.msDiff({a}, {b})"
        if lt == T.DURATION or rt == T.DURATION or lt == T.TIME:
            return f"L.num{'Add' if node.op == '+' else 'Sub' if node.op == '-' else 'Mul'}({a}, {b})"
        if lt == T.STRING or rt == T.STRING:
            return f"L.join({a}, {b})"
        return f"L.{ {'+': 'add', '-': 'sub', '*': 'mul'}[node.op] }({a}, {b})"

    def _empty(self, node: n.Node, rows: tuple[str, ...]) -> str:
        code = self.gen(node, rows)
        if node.t == T.STRING:
            return f"L.emptyStr({code})"
        if node.t == T.LIST:
            return f"L.emptyList({code})"
        if node.t in (T.ANY, T.NULL):
            return f"L.isEmpty({code})"
        return f"({code} == null)"

    def g_IsEmpty(self, node: n.IsEmpty, rows: tuple[str, ...]) -> str:
        code = self._empty(node.value, rows)
        return f"(!{code})" if node.negated else code

    def g_Compare(self, node: n.Compare, rows: tuple[str, ...]) -> str:
        op, left, right = node.op, node.left, node.right
        if op in ("==", "!=") and (_is_null(left) or _is_null(right)):
            code = self._empty(right if _is_null(left) else left, rows)
            return code if op == "==" else f"(!{code})"
        if op in ("!=", "not in"):
            positive = n.Compare("==" if op == "!=" else "in", left, right, t=T.BOOLEAN)
            return f"(!{self.g_Compare(positive, rows)})"
        a, b = self.gen(left, rows), self.gen(right, rows)
        if op == "==":
            return f"L.eq({a}, {b})"
        if op == "in":
            return f"L.inList({a}, {b})"
        if op == "contains":
            return f"L.inList({b}, {a})" if left.t == T.LIST else f"L.contains({a}, {b})"
        if op in ("startswith", "endswith"):
            return f"L.{op}({a}, {b})"
        return f"L.{_ORDER[op]}({a}, {b})"

    def g_Between(self, node: n.Between, rows: tuple[str, ...]) -> str:
        return f"L.between({self.gen(node.value, rows)}, {self.gen(node.low, rows)}, {self.gen(node.high, rows)})"

    # ------------------------------------------------------------ calls
    def g_Call(self, node: n.Call, rows: tuple[str, ...]) -> str:
        name, args = node.name, node.args
        if name == "if":
            return f"({self.truth(args[0], rows)} ? {self.gen(args[1], rows)} : {self.gen(args[2], rows)})"
        if name == "changed":
            raise NeedsServer("changed() exists only in rule conditions, on the server")
        if name == "now":
            return "L.now(ctx)"
        if name == "today":
            return "L.today(ctx)"
        if name == "concat":
            return "L.concat(" + ", ".join(f"L.text({self.gen(a, rows)}, '{kind(a.t)}')" for a in args) + ")"
        fn = JS_FUNCTIONS.get(name)
        if fn is None:
            raise NeedsServer(f"the function {name}() has no browser implementation; the server computes it")
        code = ", ".join(self.gen(a, rows) for a in args)
        if name == "days_between":
            code = ", ".join(f"L.asDate({self.gen(a, rows)}, '{kind(a.t)}')" for a in args)
        if name == "round" and len(args) == 1 and node.t == T.INTEGER:
            return f"L.round({code}, 0)"
        return f"{fn}({code})"

    def g_Aggregate(self, node: n.Aggregate, rows: tuple[str, ...]) -> str:
        if node.kind != "child":
            raise NeedsServer(f"{node.func}({node.source} ...) reads other records; the server computes it")
        self.nrows += 1
        c = f"c{self.nrows}"
        inner = (c, *rows)
        source = f"L.get({rows[0]}, {_string(node.source)}, 'rows')"
        where = f"({c}) => {self.truth(node.where, inner)}" if node.where is not None else "null"
        body = f"({c}) => {self.gen(node.body, inner)}" if node.body is not None else "null"
        return f"L.agg('{node.func}', {source}, {where}, {body})"


def _is_null(node: n.Node) -> bool:
    return isinstance(node, n.Literal) and node.value is None


_cache: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()


def to_js(compiled: Any) -> str:
    """JavaScript source ``(r, ctx) => ...`` of a CompiledExpr (cached with it); needs ``L`` in scope.

    Raises :class:`NeedsServer` when the expression needs data only the server has.
    """
    hit = _cache.get(compiled)
    if hit is not None:
        return hit
    source = tree_to_js(compiled.tree)
    _cache[compiled] = source
    return source


def tree_to_js(tree: n.Node) -> str:
    """JavaScript source of a checked tree."""
    gen = JsGen()
    body = gen.truth(tree, ("r",)) if tree.t == T.BOOLEAN else gen.gen(tree, ("r",))
    return f"(r, ctx) => {body}"


def try_js(compiled: Any) -> Optional[str]:
    """Like :func:`to_js` but None when the server must compute the expression."""
    try:
        return to_js(compiled)
    except NeedsServer:
        return None


# The runtime the generated functions call, as one JavaScript expression (evaluate it once and
# bind it to ``L``). Kept here, beside the generator it belongs to, so engine and browser ship
# the same text.
RUNTIME_JS = r"""(() => {
"use strict";
class Dec { constructor(i, s) { this.i = i; this.s = s; }
  toString() { const neg = this.i < 0n; let d = (neg ? -this.i : this.i).toString();
    if (this.s > 0) { d = d.padStart(this.s + 1, "0"); d = d.slice(0, d.length - this.s) + "." + d.slice(d.length - this.s); }
    return (neg ? "-" : "") + d; } }
const P = (k) => 10n ** BigInt(k);
const D = (i, s) => new Dec(BigInt(i), s);
function dec(v) {
  if (v === null || v === undefined || v === "" || typeof v === "boolean") return null;
  if (v instanceof Dec) return v;
  if (typeof v === "bigint") return new Dec(v, 0);
  if (typeof v === "number") { if (!isFinite(v)) return null; v = String(v); }
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(String(v).replace(/,/g, ""));
  if (!m || (m[2] === "" && !m[3])) return null;
  const frac = m[3] || ""; let i = BigInt((m[2] || "0") + frac); let s = frac.length - (m[4] ? parseInt(m[4], 10) : 0);
  if (s < 0) { i *= P(-s); s = 0; }
  return new Dec(m[1] === "-" ? -i : i, s);
}
const al = (a, b) => a.s === b.s ? [a.i, b.i, a.s] : a.s > b.s ? [a.i, b.i * P(a.s - b.s), a.s] : [a.i * P(b.s - a.s), b.i, b.s];
const nn = (f) => (a, b) => (a == null || b == null) ? null : f(a, b);
const add = nn((a, b) => { const [x, y, s] = al(a, b); return new Dec(x + y, s); });
const sub = nn((a, b) => { const [x, y, s] = al(a, b); return new Dec(x - y, s); });
const mul = nn((a, b) => new Dec(a.i * b.i, a.s + b.s));
const digits = (i) => (i < 0n ? -i : i).toString().length;
function div(a, b) {
  if (a == null || b == null || b.i === 0n) return null;
  const ideal = a.s - b.s;
  for (let k = Math.max(0, -ideal); k <= Math.max(0, -ideal) + 40; k++) {
    const num = a.i * P(k);
    if (num % b.i === 0n) return new Dec(num / b.i, ideal + k);
  }
  const neg = (a.i < 0n) !== (b.i < 0n), A = a.i < 0n ? -a.i : a.i, B = b.i < 0n ? -b.i : b.i;
  let k = Math.max(0, 29 + digits(B) - digits(A));
  let q = (A * P(k)) / B; const rem = (A * P(k)) % B;   // round half even to 28 significant digits
  const extra = digits(q) - 28;
  let up;
  if (extra > 0) {
    const p = P(extra), low = q % p, half = p / 2n; q = q / p; k -= extra;
    up = low > half || (low === half && (rem !== 0n || q % 2n === 1n));
  } else {
    up = 2n * rem > B || (2n * rem === B && q % 2n === 1n);
  }
  if (up) q += 1n;
  if (ideal + k < 0) { q *= P(-(ideal + k)); k = -ideal; }
  return new Dec(neg ? -q : q, ideal + k);
}
function mod(a, b) {
  if (a == null || b == null || b.i === 0n) return null;
  const [x, y, s] = al(a, b); return new Dec(x % y, s);
}
function cmp(a, b) {
  if (a instanceof Dec || b instanceof Dec) { const [x, y] = al(dec(a), dec(b)); return x < y ? -1 : x > y ? 1 : 0; }
  return a < b ? -1 : a > b ? 1 : 0;
}
const eq = (a, b) => a != null && b != null && cmp(a, b) === 0;
const ord = (f) => (a, b) => a != null && b != null && f(cmp(a, b));
function round(x, n = 0) {
  if (x == null || n == null) return null;
  n = Number(n instanceof Dec ? n.i / P(n.s) : n);
  if (x.s <= n) return new Dec(x.i * P(n - x.s), n);
  const p = P(x.s - n), ai = x.i < 0n ? -x.i : x.i; let q = ai / p; if ((ai % p) * 2n >= p) q += 1n;
  return new Dec(x.i < 0n ? -q : q, n);
}
function pad(k, w) { return String(k).padStart(w, "0"); }
function ymd(ms) { const d = new Date(ms); return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1, 2) + "-" + pad(d.getUTCDate(), 2); }
const dayMs = (d) => Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10));
function asDate(v, k) { return v == null ? null : k === "dt" ? ymd(v) : v; }
function parseMs(v) {
  if (v == null || v === "") return null;
  if (typeof v === "number") return v;
  let s = String(v).trim().replace(" ", "T").replace(/(\.\d{3})\d+/, "$1");
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) s += "T00:00";
  if (!/(Z|[+-]\d{2}:?\d{2})$/.test(s)) s += "Z";
  const ms = Date.parse(s); return isNaN(ms) ? null : ms;
}
function parseTime(v) {
  if (v == null || v === "") return null;
  if (typeof v === "number") return v;
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?$/.exec(String(v).trim());
  return m ? (+m[1]) * 3600 + (+m[2]) * 60 + (m[3] ? parseFloat(m[3]) : 0) : null;
}
function parseDate(v) {
  if (v == null || v === "") return null;
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(String(v).trim()); return m ? m[1] : null;
}
function bool(v) {
  if (v === true || v === false) return v;
  if (v == null || v === "") return null;
  const t = String(v).toLowerCase(); return ["true", "1", "yes", "on", "是"].includes(t) ? true : ["false", "0", "no", "off", "否"].includes(t) ? false : null;
}
function get(row, name, k) {
  const v = row == null ? null : row[name];
  if (v === undefined || v === null) return k === "rows" ? [] : null;
  switch (k) {
    case "n": return dec(v);
    case "s": return typeof v === "string" ? v : String(v);
    case "b": return bool(v);
    case "d": return parseDate(v);
    case "dt": return parseMs(v);
    case "tm": return parseTime(v);
    case "u": { const x = typeof v === "number" ? v : parseFloat(v); return isNaN(x) ? null : x; }
    case "l": return Array.isArray(v) ? v : null;
    case "rows": return Array.isArray(v) ? v : [];
    default: return v === "" ? null : v;
  }
}
function dateAdd(d, secs, sign) {
  if (d == null || secs == null) return null;
  return ymd(dayMs(d) + Math.trunc(secs / 86400) * sign * 86400000);
}
const msAdd = (ms, secs, sign) => ms == null || secs == null ? null : ms + sign * secs * 1000;
const dateDiff = nn((a, b) => D(Math.round((dayMs(a) - dayMs(b)) / 86400000), 0));
const msDiff = nn((a, b) => (a - b) / 1000);
const nOf = (x) => x instanceof Dec ? Number(x.toString()) : x;
const numAdd = nn((a, b) => nOf(a) + nOf(b)), numSub = nn((a, b) => nOf(a) - nOf(b)), numMul = nn((a, b) => nOf(a) * nOf(b));
const join = nn((a, b) => a + b);
const neg = (x) => x == null ? null : x instanceof Dec ? new Dec(-x.i, x.s) : -x;
const emptyStr = (v) => v == null || v === "";
const emptyList = (v) => v == null || v.length === 0;
const isEmpty = (v) => v == null || v === "" || (Array.isArray(v) && v.length === 0);
const inList = (v, list) => v != null && list != null && list.some((x) => eq(v, x));
const contains = (a, b) => a != null && b != null && a.includes(b);
const startswith = (a, b) => a != null && b != null && a.startsWith(b);
const endswith = (a, b) => a != null && b != null && a.endsWith(b);
const between = (v, lo, hi) => v != null && lo != null && hi != null && cmp(lo, v) <= 0 && cmp(v, hi) <= 0;
const now = (ctx) => (ctx && ctx.now != null) ? parseMs(ctx.now) : Date.now();
function today(ctx) {
  const tz = (ctx && ctx.timezone) || "UTC";
  try { return new Intl.DateTimeFormat("en-CA", {timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit"}).format(new Date(now(ctx))); }
  catch (e) { return ymd(now(ctx)); }
}
const daysBetween = nn((a, b) => D(Math.round((dayMs(b) - dayMs(a)) / 86400000), 0));
const abs = (x) => x == null ? null : new Dec(x.i < 0n ? -x.i : x.i, x.s);
const len = (x) => D(x == null ? 0 : typeof x === "string" ? Array.from(x).length : x.length, 0);
const lower = (x) => x == null ? null : x.toLowerCase();
const upper = (x) => x == null ? null : x.toUpperCase();
const trim = (x) => x == null ? null : x.replace(/^ +| +$/g, "");
const coalesce = (...xs) => { for (const x of xs) if (x != null) return x; return null; };
const least = (...xs) => xs.filter((x) => x != null).reduce((m, x) => m == null || cmp(x, m) < 0 ? x : m, null);
const greatest = (...xs) => xs.filter((x) => x != null).reduce((m, x) => m == null || cmp(x, m) > 0 ? x : m, null);
function text(v, k) {
  if (v == null) return "";
  if (v === true || v === false) return v ? "True" : "False";
  if (k === "dt") return new Date(v).toISOString().replace("T", " ").replace(/\.000Z$|Z$/, "+00:00");
  return String(v);
}
const concat = (...xs) => xs.join("");
function agg(func, rows, where, body) {
  const sel = where ? rows.filter((c) => where(c)) : rows;
  if (func === "exists") return sel.length > 0;
  if (!body) return D(sel.length, 0);
  const vals = sel.map((c) => body(c)).filter((v) => v != null);
  if (func === "count") return D(vals.length, 0);
  if (func === "sum") return vals.reduce((t, v) => add(t, dec(v)), D(0, 0));
  if (func === "avg") return vals.length ? div(vals.reduce((t, v) => add(t, dec(v)), D(0, 0)), D(vals.length, 0)) : null;
  return func === "min" ? least(...vals) : greatest(...vals);
}
function out(v, k) {
  if (v == null) return null;
  if (v instanceof Dec) return k === "n0" ? Number(v.i) : v.toString();
  if (k === "dt") return new Date(v).toISOString();
  if (k === "tm") { const s = Math.round(v); return pad(Math.floor(s / 3600), 2) + ":" + pad(Math.floor(s / 60) % 60, 2) + ":" + pad(s % 60, 2); }
  return v;
}
return {Dec, D, dec, add, sub, mul, div, mod, cmp, eq, lt: ord((c) => c < 0), le: ord((c) => c <= 0),
  gt: ord((c) => c > 0), ge: ord((c) => c >= 0), round, get, dateAdd, msAdd, dateDiff, msDiff, numAdd, numSub,
  numMul, join, neg, emptyStr, emptyList, isEmpty, inList, contains, startswith, endswith, between, now, today,
  daysBetween, asDate, abs, len, lower, upper, trim, coalesce, least, greatest, text, concat, agg, out, bool};
})()"""
