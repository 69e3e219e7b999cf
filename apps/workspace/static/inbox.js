/* The inbox: "select all" and the batch approve button, enabled while some task is selected. */
(function () {
  "use strict";
  document.querySelectorAll("form[data-inbox]").forEach((form) => {
    const all = form.querySelector(".select-all");
    const boxes = () => Array.from(form.querySelectorAll("input[name=ids]"));
    const button = form.querySelector(".batch-approve");
    const sync = () => {
      const picked = boxes().filter((b) => b.checked).length;
      if (button) button.disabled = picked === 0;
      if (all) {
        all.checked = picked > 0 && picked === boxes().length;
        all.indeterminate = picked > 0 && picked < boxes().length;
      }
    };
    if (all) all.addEventListener("change", () => { boxes().forEach((b) => { b.checked = all.checked; }); sync(); });
    form.addEventListener("change", (e) => { if (e.target.name === "ids") sync(); });
    sync();
  });
})();
