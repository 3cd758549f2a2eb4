// File inputs in the page's language: the button and "No file chosen" are the page's own text
// (templates/_macros/forms.html); this shows them and puts the chosen file's name in place.
document.querySelectorAll(".file-picker").forEach(function (picker) {
  var input = picker.querySelector("input[type=file]");
  var name = picker.querySelector(".file-name");
  if (!input || !name || picker.classList.contains("file-enhanced")) {
    return;
  }
  picker.classList.add("file-enhanced");
  var show = function () {
    var chosen = Array.prototype.map.call(input.files || [], function (file) {
      return file.name;
    });
    name.textContent = chosen.length ? chosen.join(", ") : name.getAttribute("data-empty");
  };
  input.addEventListener("change", show);
  show();  // a file kept by the browser after going back
});
