// Labels Swagger UI leaves off: the inputs and selects of a parameter row are named after the
// parameter (WCAG 4.1.2; axe select-name is critical). Swagger renders as operations open, so a
// MutationObserver names whatever appears.
(function () {
  function nameControls(root) {
    // The servers picker sits inside an empty <label>: axe counts that as no name at all.
    var servers = root.querySelector("select#servers");
    if (servers && !servers.getAttribute("aria-label")) servers.setAttribute("aria-label", "Server");
    root.querySelectorAll("tr[data-param-name]").forEach(function (row) {
      var name = row.getAttribute("data-param-name");
      row.querySelectorAll("select, input, textarea").forEach(function (control) {
        if (control.labels && control.labels.length) return;
        if (control.getAttribute("aria-label") || control.getAttribute("aria-labelledby")) return;
        control.setAttribute("aria-label", name);
      });
    });
    root.querySelectorAll("select:not([aria-label]):not([aria-labelledby])").forEach(function (control) {
      if (control.labels && control.labels.length) return;
      var heading = control.closest("[class*='content-type'], .response-controls, .body-param-options");
      control.setAttribute("aria-label", heading ? "Media type" : "Choice");
    });
  }
  new MutationObserver(function () { nameControls(document); }).observe(document.documentElement, {
    childList: true,
    subtree: true,
  });
})();
