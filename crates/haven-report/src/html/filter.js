// Filters of the haven HTML report. The form is hidden until this script runs, so nobody sees
// controls that do nothing. Each checkbox has a name (the dimension, e.g. "severity") and a value;
// an item is shown when, for every dimension it carries (data-severity="high"), the box of its
// value is ticked. Groups with nothing shown are hidden too; the status line (a live region, so
// screen readers hear it) says how many items are shown.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  var items = document.querySelectorAll("[data-filter-item]");
  var groups = document.querySelectorAll("[data-filter-group]");
  var status = document.getElementById("filter-status");
  var boxes = form.querySelectorAll("input[type=checkbox]");
  function apply() {
    var ticked = {};
    var dims = [];
    boxes.forEach(function (b) {
      if (!Object.prototype.hasOwnProperty.call(ticked, b.name)) {
        ticked[b.name] = {};
        dims.push(b.name);
      }
      if (b.checked) { ticked[b.name][b.value] = true; }
    });
    var shown = 0;
    items.forEach(function (item) {
      var visible = dims.every(function (d) {
        var v = item.getAttribute("data-" + d);
        return v === null || ticked[d][v] === true;
      });
      item.hidden = !visible;
      if (visible) { shown += 1; }
    });
    groups.forEach(function (g) {
      g.hidden = g.querySelector("[data-filter-item]:not([hidden])") === null;
    });
    if (status) {
      status.textContent = status.getAttribute("data-template")
        .replace("{shown}", String(shown))
        .replace("{total}", String(items.length));
    }
  }
  form.addEventListener("change", apply);
  form.hidden = false;
  apply();
})();
