/* Generated forms in the browser: live conditions and formulas compiled from the definitions
   (the per-form module calls LowcodeForms.define), sub-table rows, and the server's compute
   endpoint for what only the server can evaluate. The server re-checks everything on save. */
(function () {
  "use strict";
  const L = window.LowcodeExpr;
  const specs = {};
  window.LowcodeForms = {
    specs,
    define(name, spec) {
      specs[name] = spec;
      document.querySelectorAll('form[data-lc-form="' + name + '"]').forEach((f) => attach(f, spec));
    },
  };

  function control(el) {
    return el.querySelector("input:not([type=hidden]):not([type=search]), select, textarea");
  }

  /* "2026-11-05 09:30" typed in time zone tz -> an ISO instant (UTC), as the server reads it */
  function zoned(local, tz) {
    local = local.trim().replace(" ", "T");
    const guess = Date.parse(local + (local.length === 16 ? ":00Z" : "Z"));
    if (isNaN(guess) || !tz) return local;
    try {
      const parts = new Intl.DateTimeFormat("en-US", {timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"}).formatToParts(new Date(guess));
      const get = (type) => +parts.find((p) => p.type === type).value;
      const shown = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
      return new Date(guess - (shown - guess)).toISOString();
    } catch (e) { return local; }
  }

  function read(el) {
    const w = el.dataset.widget;
    if (w === "datetime") {
      const input = control(el);
      return input && input.value ? zoned(input.value, el.dataset.tz) : null;
    }
    if (w === "readonly") { const o = el.querySelector("output"); return o && o.dataset.value !== "" ? o.dataset.value : null; }
    if (w === "checkbox") { const c = el.querySelector("input[type=checkbox]"); return c ? c.checked : null; }
    if (w === "checkboxes") return Array.from(el.querySelectorAll("input[type=checkbox]:checked")).map((c) => c.value);
    if (w === "multilink") { const s = el.querySelector("select"); return s ? Array.from(s.selectedOptions).map((o) => o.value) : null; }
    if (w === "radio" || w === "stars") { const c = el.querySelector("input[type=radio]:checked"); return c ? c.value : null; }
    const input = control(el);
    if (!input) return null;
    // a read-only number shows as it reads (¥12,345.60); its value is kept in data-value
    const v = (input.disabled && input.dataset.value !== undefined ? input.dataset.value : input.value).trim();
    return v === "" ? null : v;
  }

  /* a number as the page writes it: "12345.6" -> "¥12,345.6" (money) or "12,345.6" (data-grouped);
     digits are regrouped as text, so nothing is rounded on the way */
  function display(el, text) {
    const money = el.dataset.money;
    if ((money === undefined && el.dataset.grouped !== "1") || !/^-?\d+(\.\d+)?$/.test(text)) return text;
    const form = el.closest("form");
    const [group, point] = (form && form.dataset.separators) || ",.";
    const negative = text.startsWith("-");
    const [whole, fraction] = (negative ? text.slice(1) : text).split(".");
    const digits = whole.replace(/\B(?=(\d{3})+(?!\d))/g, group) + (fraction !== undefined ? point + fraction : "");
    return (negative ? "-" : "") + (money || "") + digits;
  }

  function readRow(tr) {
    const row = {};
    tr.querySelectorAll("[data-col]").forEach((td) => { row[td.dataset.col] = read(td); });
    return row;
  }

  function rowsOf(form, table) {
    const box = form.querySelector('[data-table="' + table + '"]');
    return box ? Array.from(box.querySelectorAll("tbody > tr[data-row]")) : [];
  }

  function collect(form) {
    const rec = {};
    form.querySelectorAll("[data-field]").forEach((el) => {
      const name = el.dataset.field;
      rec[name] = el.dataset.widget === "table" ? rowsOf(form, name).map(readRow) : read(el);
    });
    return rec;
  }

  function show(el, value) {
    const out = el && el.querySelector("output");
    if (!out) return;
    const text = value == null ? "" : String(value);
    out.dataset.value = text;
    out.textContent = display(el, text);
  }

  function evaluate(fn, rec, ctx) {
    try { return fn(rec, ctx); } catch (e) { return null; }
  }

  function formatted(fn, rec, ctx, el, kind) {
    let v = evaluate(fn, rec, ctx);
    const scale = el && el.dataset.scale;
    if (v instanceof L.Dec && scale !== undefined && scale !== "") v = L.round(v, parseInt(scale, 10));
    return L.out(v, kind);
  }

  /* visible / required / locked for one field (a form field or a sub-table cell) */
  function applyState(el, visible, required, locked) {
    if (!el) return;
    if (el.tagName === "TD") el.classList.toggle("cond-hidden", !visible);   // keep the table's columns
    else el.hidden = !visible;
    const mark = el.querySelector(".req");
    if (mark && required !== null) mark.hidden = !(required || el.dataset.required === "1");
    const disable = el.dataset.locked === "1" || !visible || locked;
    el.querySelectorAll("input, select, textarea").forEach((i) => {
      if (i.type === "search" && !i.closest("[data-combo]")) return;
      i.disabled = disable;
    });
    el.classList.toggle("locked", !!locked);
  }

  function attach(form, spec) {
    if (form.dataset.lcAttached) return;
    form.dataset.lcAttached = "1";
    const ctx = JSON.parse(form.dataset.ctx || "{}");
    const server = {values: {}, rows: {}};
    const cond = (entry, key, name, rec) => entry && entry[key] ? evaluate(entry[key], rec, ctx) === true
      : server.values[key + ":" + name] === true;
    const has = (entry, key, name) => !!(entry && entry[key]) || spec.server.includes(key + ":" + name);
    let timer = null;

    function apply(ask) {
      // 1. sub-table rows: formulas, then per-cell conditions
      for (const [table, cols] of Object.entries(spec.tables)) {
        rowsOf(form, table).forEach((tr, i) => {
          const row = readRow(tr);
          for (const [key, vals] of Object.entries(server.rows)) {   // lookups and the like, from the server
            const [what, path] = key.split(":");
            const [t, col] = path.split(".");
            if (what !== "formula" || t !== table) continue;
            row[col] = vals[i] === undefined ? row[col] : vals[i];
            show(tr.querySelector('[data-col="' + col + '"]'), row[col]);
          }
          for (const [col, e] of Object.entries(cols)) {
            const td = tr.querySelector('[data-col="' + col + '"]');
            if (e.formula) { row[col] = formatted(e.formula, row, ctx, td, e.kind); show(td, row[col]); }
          }
          for (const [col, e] of Object.entries(cols)) {
            const td = tr.querySelector('[data-col="' + col + '"]');
            const vis = e.visible_if ? evaluate(e.visible_if, row, ctx) === true : true;
            const req = e.required_if ? evaluate(e.required_if, row, ctx) === true : null;
            const lock = e.readonly_if ? evaluate(e.readonly_if, row, ctx) === true : false;
            if (e.visible_if || e.required_if || e.readonly_if) applyState(td, vis, req, lock);
          }
        });
      }
      // 2. formulas of the form (twice, so a formula may use another)
      const rec = collect(form);
      for (let pass = 0; pass < 2; pass++) {
        for (const [name, e] of Object.entries(spec.fields)) {
          if (!e.formula) continue;
          const el = form.querySelector('[data-field="' + name + '"]');
          rec[name] = formatted(e.formula, rec, ctx, el, e.kind);
          if (pass === 1) show(el, rec[name]);
        }
      }
      for (const key of spec.server) {
        if (key.startsWith("formula:") && !key.includes(".") && key in server.values) {
          const name = key.slice(8);
          show(form.querySelector('[data-field="' + name + '"]'), server.values[key]);
        }
      }
      // 3. conditions of the form's fields
      form.querySelectorAll("[data-field]").forEach((el) => {
        const name = el.dataset.field;
        const e = spec.fields[name];
        if (!has(e, "visible_if", name) && !has(e, "required_if", name) && !has(e, "readonly_if", name)) return;
        const vis = has(e, "visible_if", name) ? cond(e, "visible_if", name, rec) : true;
        const req = has(e, "required_if", name) ? cond(e, "required_if", name, rec) : null;
        const lock = has(e, "readonly_if", name) ? cond(e, "readonly_if", name, rec) : false;
        applyState(el, vis, req, lock);
      });
      if (ask !== false && spec.server.length) askServer();
    }

    function askServer() {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const token = form.querySelector("input[name=csrf_token]").value;
        fetch(form.dataset.compute, {method: "POST", credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
          body: JSON.stringify(collect(form))})
          .then((r) => r.ok ? r.json() : null)
          .then((data) => {
            if (!data) return;
            server.values = data.values || {}; server.rows = data.rows || {};
            apply(false);
          })
          .catch(() => {});
      }, 300);
    }

    const typed = (ev) => { if (ev.target.type !== "search") apply(); };   // not the pickers' search boxes
    form.addEventListener("input", typed);
    form.addEventListener("change", typed);
    form.addEventListener("click", (ev) => {
      const add = ev.target.closest(".add-row");
      const remove = ev.target.closest(".remove-row");
      if (add) {
        const box = add.closest("[data-table]");
        const tpl = box.querySelector("template");
        const body = box.querySelector("tbody");
        const next = String(1 + Math.max(-1, ...Array.from(body.querySelectorAll("tr[data-row]")).map((tr) => parseInt(tr.dataset.row, 10))));
        body.insertAdjacentHTML("beforeend", tpl.innerHTML.split("__i__").join(next));
        const first = body.lastElementChild.querySelector("input:not([type=hidden]), select");
        if (first) first.focus();
        apply();
      } else if (remove) {
        remove.closest("tr").remove();
        apply();
      }
    });
    apply();
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const [name, spec] of Object.entries(specs)) {
      document.querySelectorAll('form[data-lc-form="' + name + '"]').forEach((f) => attach(f, spec));
    }
  });
})();
