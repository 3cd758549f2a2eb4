// The review queue: a "select all" box for the applications on the page (shown only with JS).
(function () {
  "use strict";

  function init() {
    var all = document.getElementById("review-select-all");
    if (!all) {
      return;
    }
    var form = all.form;
    var boxes = form.querySelectorAll("input[type=checkbox][name=ids]");
    all.closest("label").hidden = false;

    function sync() {
      var ticked = 0;
      boxes.forEach(function (box) { if (box.checked) { ticked += 1; } });
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }

    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
    boxes.forEach(function (box) { box.addEventListener("change", sync); });
    sync();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
