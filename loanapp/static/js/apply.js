// Progressive enhancement of the application form: show only the questions that apply, and stop a
// second click on "Send" (the server refuses a double submit anyway: the form carries a one-time key).
(function () {
  "use strict";
  var form = document.getElementById("apply-form");
  if (!form) { return; }

  function checked(name) {
    var chosen = form.querySelector('input[name="' + name + '"]:checked');
    return chosen ? chosen.value : "";
  }

  function toggle(selector, attribute, value) {
    var blocks = form.querySelectorAll(selector);
    for (var i = 0; i < blocks.length; i++) {
      var wanted = blocks[i].getAttribute(attribute).split(" ");
      // Until the worker says which situation is theirs, its questions wait.
      blocks[i].hidden = wanted.indexOf(value) === -1;
    }
  }

  function refresh() {
    toggle("[data-show-for]", "data-show-for", checked("employment_status"));
    toggle("[data-show-for-sale]", "data-show-for-sale", checked("sale_type") || "dealer");
  }

  form.addEventListener("change", refresh);
  refresh();

  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.hasAttribute("data-once")) {
      if (form.getAttribute("data-sent") === "yes") { event.preventDefault(); return; }
      form.setAttribute("data-sent", "yes");
      // Disabled after the browser has read the button's name and value into the submission.
      window.setTimeout(function () { button.disabled = true; }, 0);
    }
  });
})();
