/* Dates typed as 2026-11-08 (date-times as 2026-11-08 09:30) in a text input, whatever the
   browser's language, and a small calendar beside it: a native date input would show the
   browser's own format (11/08/2026 in an English Chromium, even on a zh-CN page). The
   calendar speaks the page's language (Intl, <html lang>), starts weeks on Monday, and is
   driven by the keyboard too (arrows, PageUp/PageDown, Home/End, Enter, Escape). Days are
   UTC midnights, so no time zone moves a day. Delegated from the document: sub-table rows
   added from a <template> and the list's filters work without set-up. */
(function () {
  "use strict";
  const lang = document.documentElement.lang || "zh-CN";
  const pad = (n) => String(n).padStart(2, "0");
  const iso = (d) => d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate());
  const day = (y, m, d) => new Date(Date.UTC(y, m, d));
  const shift = (d, days) => day(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + days);
  const words = (fmt) => new Intl.DateTimeFormat(lang, {timeZone: "UTC", ...fmt});
  const title = words({year: "numeric", month: "long"});
  const full = words({dateStyle: "full"});

  function parse(text) {
    const m = /^(\d{4})-(\d{1,2})-(\d{1,2})/.exec((text || "").trim().replace(/\//g, "-"));
    if (!m) return null;
    const d = day(+m[1], +m[2] - 1, +m[3]);
    return d.getUTCDate() === +m[3] && d.getUTCMonth() === +m[2] - 1 ? d : null;
  }

  /* today in the user's time zone (the form's run context), else the browser's */
  function today(box) {
    const form = box.closest("form[data-ctx]");
    let zone;
    try { zone = form ? JSON.parse(form.dataset.ctx).timezone : undefined; } catch (e) { zone = undefined; }
    try {
      return parse(new Intl.DateTimeFormat("en-CA", {timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit"})
        .format(new Date()));
    } catch (e) { const now = new Date(); return day(now.getFullYear(), now.getMonth(), now.getDate()); }
  }

  function button(cls, text, label) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = text;
    if (label) b.setAttribute("aria-label", label);
    return b;
  }

  /* the calendar of one date box, open at the month of `focus` */
  function draw(box, focus) {
    const opener = box.querySelector(".date-pick");
    const input = box.querySelector("input");
    const chosen = parse(input.value);
    const now = today(box);
    let cal = box.querySelector(".calendar");
    if (!cal) {
      cal = document.createElement("div");
      cal.className = "calendar";
      cal.setAttribute("role", "dialog");
      cal.setAttribute("aria-label", opener.getAttribute("aria-label"));
      box.append(cal);
    }
    const head = document.createElement("div");
    head.className = "cal-head";
    const name = document.createElement("span");
    name.className = "cal-title";
    name.setAttribute("aria-live", "polite");
    name.textContent = title.format(focus);
    head.append(button("cal-prev", "‹", opener.dataset.prev), name, button("cal-next", "›", opener.dataset.next));
    const grid = document.createElement("table");
    grid.setAttribute("role", "grid");
    const names = document.createElement("tr");
    for (let i = 0; i < 7; i++) {                    // 2024-01-01 was a Monday
      const th = document.createElement("th");
      th.scope = "col";
      th.abbr = words({weekday: "long"}).format(day(2024, 0, 1 + i));
      th.textContent = words({weekday: "narrow"}).format(day(2024, 0, 1 + i));
      names.append(th);
    }
    const thead = document.createElement("thead");
    thead.append(names);
    const body = document.createElement("tbody");
    const first = day(focus.getUTCFullYear(), focus.getUTCMonth(), 1);
    let cell = shift(first, -((first.getUTCDay() + 6) % 7));
    for (let week = 0; week < 6; week++) {
      const tr = document.createElement("tr");
      for (let i = 0; i < 7; i++, cell = shift(cell, 1)) {
        const td = document.createElement("td");
        const b = button("cal-day", String(cell.getUTCDate()), full.format(cell));
        b.dataset.day = iso(cell);
        b.tabIndex = iso(cell) === iso(focus) ? 0 : -1;
        if (cell.getUTCMonth() !== focus.getUTCMonth()) b.classList.add("other");
        if (chosen && iso(cell) === iso(chosen)) b.setAttribute("aria-pressed", "true");
        if (now && iso(cell) === iso(now)) b.setAttribute("aria-current", "date");
        td.append(b);
        tr.append(td);
      }
      body.append(tr);
    }
    grid.append(thead, body);
    const foot = document.createElement("div");
    foot.className = "cal-foot";
    foot.append(button("cal-today", opener.dataset.today), button("cal-clear", opener.dataset.clear));
    cal.replaceChildren(head, grid, foot);
    cal._focus = focus;
    opener.setAttribute("aria-expanded", "true");
    return cal;
  }

  function focusDay(box, d) {
    const cal = draw(box, d);
    const b = cal.querySelector('[data-day="' + iso(d) + '"]');
    if (b) b.focus();
  }

  function close(box, refocus) {
    const cal = box.querySelector(".calendar");
    if (!cal) return;
    cal.remove();
    const opener = box.querySelector(".date-pick");
    opener.setAttribute("aria-expanded", "false");
    if (refocus) opener.focus();
  }

  /* write the chosen day into the input (a date-time keeps its time, or starts at 00:00) */
  function choose(box, text) {
    const input = box.querySelector("input");
    if (box.dataset.date === "datetime" && text) {
      const time = /[ T](\d{2}:\d{2})/.exec(input.value);
      input.value = text + " " + (time ? time[1] : "00:00");
    } else {
      input.value = text;
    }
    input.dispatchEvent(new Event("input", {bubbles: true}));
    input.dispatchEvent(new Event("change", {bubbles: true}));
    close(box, false);
    input.focus();
    if (box.dataset.date === "datetime" && text) input.setSelectionRange(11, 16);   // the time, to type over
  }

  document.addEventListener("click", (ev) => {
    const inside = ev.target.closest ? ev.target.closest("[data-date]") : null;
    document.querySelectorAll("[data-date] .calendar").forEach((cal) => {
      if (!inside || !inside.contains(cal)) close(cal.closest("[data-date]"), false);   // a tap elsewhere closes it
    });
    const t = inside && ev.target.closest("button");
    const box = t && inside;
    if (!box) return;
    const input = box.querySelector("input");
    const cal = box.querySelector(".calendar");
    if (t.classList.contains("date-pick")) {
      if (cal) close(box, false);
      else if (!input.disabled) focusDay(box, parse(input.value) || today(box));
    } else if (t.classList.contains("cal-prev") || t.classList.contains("cal-next")) {
      const f = cal._focus;
      draw(box, day(f.getUTCFullYear(), f.getUTCMonth() + (t.classList.contains("cal-next") ? 1 : -1), 1));
    } else if (t.classList.contains("cal-day")) {
      choose(box, t.dataset.day);
    } else if (t.classList.contains("cal-today")) {
      choose(box, iso(today(box)));
    } else if (t.classList.contains("cal-clear")) {
      choose(box, "");
    }
  });

  const STEPS = {ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7};
  document.addEventListener("keydown", (ev) => {
    const b = ev.target.closest && ev.target.closest(".calendar button, .date-pick");
    const box = b && b.closest("[data-date]");
    if (!box) return;
    if (ev.key === "Escape" && box.querySelector(".calendar")) {
      ev.preventDefault();
      close(box, true);
      return;
    }
    if (!b.classList.contains("cal-day")) return;
    const d = parse(b.dataset.day);
    let next = null;
    if (ev.key in STEPS) next = shift(d, STEPS[ev.key]);
    else if (ev.key === "Home") next = shift(d, -((d.getUTCDay() + 6) % 7));
    else if (ev.key === "End") next = shift(d, 6 - ((d.getUTCDay() + 6) % 7));
    else if (ev.key === "PageUp" || ev.key === "PageDown") {
      const months = (ev.key === "PageUp" ? -1 : 1) * (ev.shiftKey ? 12 : 1);
      const target = day(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
      const last = day(target.getUTCFullYear(), target.getUTCMonth() + 1, 0).getUTCDate();
      next = day(target.getUTCFullYear(), target.getUTCMonth(), Math.min(d.getUTCDate(), last));
    }
    if (next) {
      ev.preventDefault();
      focusDay(box, next);
    }
  });
})();
