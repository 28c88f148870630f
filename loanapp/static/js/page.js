// Every page: small fixes that keep pages usable by keyboard, whoever wrote the page.
(function () {
  "use strict";
  // After a refused form, move focus to the list of problems (each one links to its field).
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }

  // A table wider than a phone scrolls inside its box: keyboard users must be able to reach and scroll
  // it too (WCAG 2.1.1), so a box that actually scrolls becomes focusable and is named by its heading.
  var boxes = document.querySelectorAll(".table-scroll:not([tabindex])");
  for (var i = 0; i < boxes.length; i++) {
    var box = boxes[i];
    if (box.scrollWidth <= box.clientWidth) { continue; }
    box.setAttribute("tabindex", "0");
    if (!box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby")) {
      var section = box.closest("section, details, main");
      var heading = section && section.querySelector("h1, h2, h3, summary");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", heading ? heading.textContent.trim() : document.title);
    }
  }
})();
