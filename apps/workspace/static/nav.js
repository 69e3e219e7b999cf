/* The menu of forms: a side menu on a PC; on a phone a button opens and closes it (without
   JavaScript the menu is simply shown, as a list of links). Escape or a tap elsewhere closes it. */
(function () {
  "use strict";
  function toggle(nav, open) {
    nav.classList.toggle("open", open);
    nav.querySelector(".menu-toggle").setAttribute("aria-expanded", open ? "true" : "false");
  }

  document.addEventListener("click", (ev) => {
    const button = ev.target.closest && ev.target.closest(".forms-nav .menu-toggle");
    const nav = document.querySelector(".forms-nav");
    if (!nav) return;
    if (button) toggle(nav, !nav.classList.contains("open"));
    else if (nav.classList.contains("open") && !nav.contains(ev.target)) toggle(nav, false);
  });

  document.addEventListener("keydown", (ev) => {
    const nav = document.querySelector(".forms-nav.open");
    if (ev.key === "Escape" && nav) {
      toggle(nav, false);
      nav.querySelector(".menu-toggle").focus();
    }
  });
})();
