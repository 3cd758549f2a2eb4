// The roster grid: arrow keys move between cells, like a spreadsheet (Tab works without this).
(function () {
  "use strict";

  function init() {
    var table = document.querySelector("table[data-grid]");
    if (!table) {
      return;
    }
    var rows = Array.prototype.map.call(table.tBodies[0].rows, function (row) {
      return Array.prototype.slice.call(row.querySelectorAll("input:not([type=hidden]), select"));
    });

    function position(element) {
      for (var r = 0; r < rows.length; r += 1) {
        var c = rows[r].indexOf(element);
        if (c !== -1) {
          return [r, c];
        }
      }
      return null;
    }

    function move(r, c) {
      if (r < 0 || r >= rows.length || c < 0 || c >= rows[r].length) {
        return false;
      }
      var target = rows[r][c];
      target.focus();
      if (target.select && target.tagName === "INPUT") {
        target.select();
      }
      return true;
    }

    table.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) {
        return;
      }
      var here = position(event.target);
      if (!here) {
        return;
      }
      var isText = event.target.tagName === "INPUT";
      var atStart = isText && event.target.selectionStart === 0 && event.target.selectionEnd === 0;
      var len = isText ? event.target.value.length : 0;
      var atEnd = isText && event.target.selectionStart === len && event.target.selectionEnd === len;
      var moved = false;
      switch (event.key) {
        case "ArrowUp":
          // a select changes its value with up and down: leave it alone there
          if (isText) { moved = move(here[0] - 1, here[1]); }
          break;
        case "ArrowDown":
          if (isText) { moved = move(here[0] + 1, here[1]); }
          break;
        case "ArrowLeft":
          if (!isText || atStart) { moved = move(here[0], here[1] - 1); }
          break;
        case "ArrowRight":
          if (!isText || atEnd) { moved = move(here[0], here[1] + 1); }
          break;
        case "Enter":
          // Enter goes down a column, as in a spreadsheet; the Save button submits
          if (isText) { moved = move(here[0] + 1, here[1]) || true; }
          break;
        default:
          return;
      }
      if (moved) {
        event.preventDefault();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
