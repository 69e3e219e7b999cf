/* The list page follows its search box and filters as the user types and picks: it asks the
   server for the list at the URL the form would submit to (empty values left out), swaps in
   the results, the export buttons (which export what is shown) and the filters' messages,
   and puts that URL in the address bar, so the list can be bookmarked as it is. Without
   JavaScript the form is an ordinary GET form. Sorting and paging are plain links. */
(function () {
  "use strict";
  const form = document.querySelector("form[data-list]");
  if (!form) return;
  let timer = null;
  let asked = 0;

  function address() {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form)) {
      if (typeof value === "string" && value.trim() !== "") params.append(key, value.trim());
    }
    const query = params.toString();
    return form.action + (query ? "?" + query : "");
  }

  function swap(html) {
    const fresh = new DOMParser().parseFromString(html, "text/html");
    for (const id of ["results", "list-actions"]) {
      const now = document.getElementById(id);
      const next = fresh.getElementById(id);
      if (now && next) now.replaceWith(next);
    }
    form.querySelectorAll("fieldset.filter").forEach((box) => {
      box.querySelectorAll("p.error").forEach((p) => p.remove());
      const next = fresh.querySelector('fieldset.filter[data-filter="' + box.dataset.filter + '"]');
      if (next) next.querySelectorAll("p.error").forEach((p) => box.append(p));
    });
    const summary = form.querySelector("details.filters > summary");
    const counted = fresh.querySelector("details.filters > summary");
    if (summary && counted) summary.textContent = counted.textContent;
  }

  function refresh(wait) {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const target = address();
      const mine = ++asked;
      fetch(target, {credentials: "same-origin", headers: {Accept: "text/html"}})
        .then((r) => { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
        .then((html) => {
          if (mine !== asked) return;           // a newer answer is on its way
          swap(html);
          history.replaceState(null, "", target);
        })
        .catch(() => { if (mine === asked) window.location.assign(target); });   // let the server answer in full
    }, wait);
  }

  const typed = (el) => el.id === "list-q" || /__contains$/.test(el.name || "");
  form.addEventListener("input", (ev) => { if (typed(ev.target)) refresh(300); });
  form.addEventListener("change", (ev) => {
    const el = ev.target;
    if (!typed(el) && !el.classList.contains("combo-search")) refresh(0);
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    refresh(0);
  });
})();
