/* Loaded in <head> before the styles apply: marks that JavaScript runs, so the stylesheet shows the
   script-driven widgets (searchable pickers) instead of their plain fallbacks. A file, not an
   inline script: the Content-Security-Policy allows scripts from this site only. */
document.documentElement.classList.add("lc-js");
