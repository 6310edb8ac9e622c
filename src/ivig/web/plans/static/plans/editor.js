/* The plan editor: only the titration written the chosen way (steps or a rule) is in the tab
   order; the other group is inert (skipped by Tab and screen readers, still sent with the form).
   Without JavaScript the server renders the same state after "Check plan". No inline script. */
(function () {
  "use strict";
  function sync() {
    var chosen = document.querySelector("input[name=titration_form]:checked");
    var rule = chosen && chosen.value === "rule";
    var steps = document.getElementById("steps");
    var ruleGroup = document.getElementById("rule");
    if (steps) { steps.inert = rule; }
    if (ruleGroup) { ruleGroup.inert = !rule; }
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.name === "titration_form") { sync(); }
  });
  document.addEventListener("htmx:afterSwap", sync);
  document.addEventListener("DOMContentLoaded", sync);
}());
