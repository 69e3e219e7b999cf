/* Widgets that need the browser: the signature pad, "use my position", the colour swatch.
   Everything is delegated from the document, so rows added to a sub-table work too; each
   widget writes into ordinary inputs, which the form posts (the server checks them). */
(function () {
  "use strict";

  /* what a person's edit fires: formulas, conditions and the pickers follow it */
  function changed(input) {
    input.dispatchEvent(new Event("input", {bubbles: true}));
    input.dispatchEvent(new Event("change", {bubbles: true}));
  }
  window.LowcodeWidgets = {changed};

  /* ---- signature: pointer events (mouse, pen, touch) on a canvas -> PNG data URL ---- */
  function pad(canvas) {
    if (canvas._pad) return canvas._pad;
    const ratio = window.devicePixelRatio || 1;
    const box = canvas.getBoundingClientRect();
    canvas.width = Math.max(1, Math.round(box.width * ratio));
    canvas.height = Math.max(1, Math.round(box.height * ratio));
    const g = canvas.getContext("2d");
    g.scale(ratio, ratio);
    g.lineWidth = 2.5; g.lineCap = "round"; g.lineJoin = "round"; g.strokeStyle = "#102a43";
    canvas._pad = {g, last: null, inked: false};
    return canvas._pad;
  }

  function at(canvas, ev) {
    const box = canvas.getBoundingClientRect();
    return [ev.clientX - box.left, ev.clientY - box.top];
  }

  function stroke(canvas, ev) {
    const p = pad(canvas);
    const [x, y] = at(canvas, ev);
    p.g.beginPath();
    p.g.moveTo(p.last[0], p.last[1]);
    p.g.lineTo(x, y + (p.last[0] === x && p.last[1] === y ? 0.01 : 0));
    p.g.stroke();
    p.last = [x, y];
    p.inked = true;
  }

  function save(canvas) {
    const box = canvas.closest("[data-signature]");
    const input = box.querySelector("input[type=hidden]");
    input.value = canvas.toDataURL("image/png");
    const kept = box.querySelector(".sig-current");
    if (kept) kept.hidden = true;
    changed(input);
  }

  document.addEventListener("pointerdown", (ev) => {
    const canvas = ev.target.closest && ev.target.closest("canvas.sig-pad");
    if (!canvas || canvas.closest("[data-signature]").querySelector("input").disabled) return;
    ev.preventDefault();
    try { canvas.setPointerCapture(ev.pointerId); } catch (e) { /* a pointer that is already gone */ }
    pad(canvas).last = at(canvas, ev);
    stroke(canvas, ev);
  });
  document.addEventListener("pointermove", (ev) => {
    const canvas = ev.target.closest && ev.target.closest("canvas.sig-pad");
    if (canvas && canvas._pad && canvas._pad.last) { ev.preventDefault(); stroke(canvas, ev); }
  });
  function lift(ev) {
    const canvas = ev.target.closest && ev.target.closest("canvas.sig-pad");
    if (canvas && canvas._pad && canvas._pad.last) { canvas._pad.last = null; save(canvas); }
  }
  document.addEventListener("pointerup", lift);
  document.addEventListener("pointercancel", lift);

  /* ---- clicks: clear a signature, ask for the position ---- */
  document.addEventListener("click", (ev) => {
    const clear = ev.target.closest(".sig-clear");
    if (clear) {
      const box = clear.closest("[data-signature]");
      const canvas = box.querySelector("canvas");
      const p = pad(canvas);
      p.g.clearRect(0, 0, canvas.width, canvas.height);
      p.inked = false;
      const kept = box.querySelector(".sig-current");
      if (kept) kept.hidden = true;
      const input = box.querySelector("input[type=hidden]");
      input.value = "";
      changed(input);
      return;
    }
    const geo = ev.target.closest("button.geo");
    if (geo) {
      const box = geo.closest("[data-location]");
      const status = box.querySelector(".geo-status");
      if (!navigator.geolocation) { status.textContent = status.dataset.fail; return; }
      geo.disabled = true;
      navigator.geolocation.getCurrentPosition((pos) => {
        geo.disabled = false;
        status.textContent = "";
        for (const [part, v] of [["lat", pos.coords.latitude], ["lng", pos.coords.longitude]]) {
          const input = box.querySelector('input[data-part="' + part + '"]');
          input.value = v.toFixed(6);
          changed(input);
        }
      }, () => { geo.disabled = false; status.textContent = status.dataset.fail; },
      {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    }
  });

  /* ---- colour: the swatch and the #RRGGBB text follow each other ---- */
  document.addEventListener("input", (ev) => {
    const t = ev.target;
    if (t.matches && t.matches("input[type=color][data-colour-for]")) {
      const text = document.getElementById(t.dataset.colourFor);
      if (text) { text.value = t.value.toUpperCase(); changed(text); }
    } else if (t.matches && t.matches(".colour input[type=text]")) {
      const swatch = t.parentElement.querySelector("input[type=color]");
      if (swatch && /^#[0-9a-fA-F]{6}$/.test(t.value.trim())) swatch.value = t.value.trim().toLowerCase();
    }
  });
})();
