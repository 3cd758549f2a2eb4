// A page that shows work still under way (a copy of one's data being built) reloads itself
// every few seconds until it is done; without script, its "Refresh" link does the same.
(function () {
  var waiting = document.querySelector("[data-refresh-seconds]");
  if (waiting) {
    var seconds = parseInt(waiting.getAttribute("data-refresh-seconds"), 10) || 3;
    window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }
})();
