/* Searchable link pickers: every link (also inside a sub-table row or a group) and multi-link.
   The server draws a plain <select> — what the form posts, and all there is without
   JavaScript — and beside it a search box (a combobox with a listbox). This script asks
   /w/<form>/options?q= for matches (the server returns only records the user may read),
   then selects, or adds, the chosen record's <option> and fires the same input/change
   events as picking it by hand, so the live formulas and the server's lookups follow.
   Everything is delegated from the document, so rows added to a sub-table work too. */
(function () {
  "use strict";
  const changed = window.LowcodeWidgets.changed;    // widgets.js, loaded before

  /* the parts of the picker around an element, and its state (kept on the box) */
  function picker(el) {
    const box = el && el.closest && el.closest("[data-combo]");
    if (!box || !box.querySelector(".combo-ui")) return null;
    if (!box._combo) box._combo = {timer: null, asked: 0, active: -1};
    return {box, state: box._combo, input: box.querySelector(".combo-search"), select: box.querySelector("select"),
            list: box.querySelector("[role=listbox]"), status: box.querySelector(".combo-status"),
            chips: box.querySelector(".chips")};
  }

  const optionOf = (p, value) => Array.from(p.select.options).find((o) => o.value === value);
  const chosenLabel = (p) => {
    const o = p.select.selectedOptions[0];
    return o && o.value !== "" ? o.textContent : "";
  };

  /* what the picker shows for the select: chips (multi-link) or the chosen record's name */
  function sync(p) {
    if (!p.chips) { p.input.value = chosenLabel(p); return; }
    p.chips.replaceChildren(...Array.from(p.select.selectedOptions).map((o) => {
      const chip = document.createElement("li");
      chip.className = "chip";
      const name = document.createElement("span");
      name.textContent = o.textContent;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "chip-remove";
      remove.dataset.value = o.value;
      remove.textContent = "×";
      remove.setAttribute("aria-label", p.chips.dataset.remove + " " + o.textContent);
      chip.append(name, remove);
      return chip;
    }));
  }

  function close(p) {
    p.list.hidden = true;
    p.input.setAttribute("aria-expanded", "false");
    p.input.removeAttribute("aria-activedescendant");
    p.state.active = -1;
  }

  function show(p, items) {
    p.list.replaceChildren(...items.map((item, i) => {
      const li = document.createElement("li");
      li.id = p.list.id + "-" + i;
      li.setAttribute("role", "option");
      li.dataset.value = String(item.id);
      li.textContent = item.label;
      const opt = optionOf(p, String(item.id));
      li.setAttribute("aria-selected", opt && opt.selected ? "true" : "false");
      return li;
    }));
    p.status.textContent = items.length ? "" : p.status.dataset.none;
    p.list.hidden = !items.length;
    p.input.setAttribute("aria-expanded", items.length ? "true" : "false");
    p.state.active = -1;
    if (items.length) p.list.scrollIntoView({block: "nearest"});   // above the sticky save bar (scroll-margin)
  }

  function search(p, q, wait) {
    clearTimeout(p.state.timer);
    const asked = ++p.state.asked;
    p.state.timer = setTimeout(() => {
      fetch(p.input.dataset.url + "?q=" + encodeURIComponent(q.trim()),
        {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then((r) => { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then((items) => { if (asked === p.state.asked && document.activeElement === p.input) show(p, items); })
        .catch(() => { if (asked === p.state.asked) { close(p); p.status.textContent = p.status.dataset.failed; } });
    }, wait);
  }

  function choose(p, li) {
    if (p.select.disabled) return;
    const opt = optionOf(p, li.dataset.value) || new Option(li.textContent, li.dataset.value);
    if (p.chips && opt.selected) {
      opt.selected = false;                // choosing a chosen record again takes it out
    } else if (p.chips) {                  // chosen records stay first, in the order they were chosen
      p.select.insertBefore(opt, Array.from(p.select.options).find((o) => !o.selected && o !== opt) || null);
      opt.selected = true;
    } else {
      if (!opt.parentNode) p.select.add(opt);
      p.select.value = opt.value;
    }
    if (p.chips) p.input.value = "";
    sync(p);
    close(p);
    p.status.textContent = "";
    changed(p.select);
  }

  function move(p, step) {
    const items = Array.from(p.list.children);
    if (!items.length) return;
    const next = p.state.active < 0 ? (step > 0 ? 0 : items.length - 1)
      : (p.state.active + step + items.length) % items.length;
    items.forEach((li, i) => li.classList.toggle("active", i === next));
    p.state.active = next;
    p.input.setAttribute("aria-activedescendant", items[next].id);
    items[next].scrollIntoView({block: "nearest"});
  }

  /* the picker whose search box an event happened in */
  const searchBox = (ev) => (ev.target.classList && ev.target.classList.contains("combo-search") ? picker(ev.target) : null);

  /* the query a focused box starts from: a single link shows its chosen record's name,
     which is not something to search for */
  const query = (p) => (!p.chips && p.input.value === chosenLabel(p) ? "" : p.input.value);

  // focus alone (tabbing through, a new row) opens nothing: typing, a tap or ArrowDown does
  document.addEventListener("focusin", (ev) => {
    const p = searchBox(ev);
    if (p && !p.chips) p.input.select();      // typing replaces the chosen record's name
  });

  document.addEventListener("focusout", (ev) => {
    const p = searchBox(ev);
    if (!p || (ev.relatedTarget && p.box.contains(ev.relatedTarget))) return;
    clearTimeout(p.state.timer);
    p.state.asked++;
    close(p);
    if (p.chips) return;
    if (p.input.value.trim() === "" && p.select.value !== "" && !p.select.disabled) {   // emptied: no record
      p.select.value = "";
      changed(p.select);
    }
    sync(p);
  });

  document.addEventListener("input", (ev) => {
    const p = searchBox(ev);
    if (p && !p.select.disabled) search(p, p.input.value, 250);
  });

  document.addEventListener("keydown", (ev) => {
    const p = searchBox(ev);
    if (!p) return;
    const open = !p.list.hidden;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (open) move(p, ev.key === "ArrowDown" ? 1 : -1);
      else search(p, query(p), 0);
    } else if (ev.key === "Enter") {
      ev.preventDefault();                 // never submits the form from a search box
      const items = p.list.children;
      if (open && items.length) choose(p, items[Math.max(0, p.state.active)]);
    } else if (ev.key === "Escape" && open) {
      ev.preventDefault();
      close(p);
      if (!p.chips) sync(p);
    } else if (ev.key === "Backspace" && p.chips && p.input.value === "" && p.select.selectedOptions.length) {
      const last = p.select.selectedOptions[p.select.selectedOptions.length - 1];
      last.selected = false;
      sync(p);
      changed(p.select);
    }
  });

  // a press on an option keeps the focus in the search box; the click then chooses it
  document.addEventListener("mousedown", (ev) => {
    if (ev.target.closest && ev.target.closest(".combo-list [role=option]")) ev.preventDefault();
  });

  document.addEventListener("click", (ev) => {
    const tapped = searchBox(ev);
    if (tapped) {
      if (!tapped.chips && tapped.input.value === chosenLabel(tapped)) tapped.input.select();
      if (!tapped.select.disabled && tapped.list.hidden) search(tapped, query(tapped), 0);
      return;
    }
    const li = ev.target.closest && ev.target.closest(".combo-list [role=option]");
    const remove = !li && ev.target.closest && ev.target.closest(".chip-remove");
    const p = picker(li || remove);
    if (!p) return;
    if (li) {
      choose(p, li);
      if (p.chips) p.input.focus();
      return;
    }
    if (p.select.disabled) return;
    const opt = optionOf(p, remove.dataset.value);
    if (opt) opt.selected = false;
    sync(p);
    changed(p.select);
    p.input.focus();
  });

  // the select may change under the picker (a form redrawn by the browser's back button, a script)
  document.addEventListener("change", (ev) => {
    const p = ev.target.tagName === "SELECT" ? picker(ev.target) : null;
    if (p) sync(p);
  });

  function start() {
    document.querySelectorAll("[data-combo]").forEach((box) => { const p = picker(box); if (p) sync(p); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
