// The profile form: a name typed in Chinese characters suggests its Latin spelling (pinyin), and
// the Latin spelling suggests the Cyrillic one (Palladius system).
// A suggestion fills a field only while it is empty or still holds the last suggestion,
// so a spelling the teacher typed is never overwritten. Without this script the fields are typed.
(function () {
  "use strict";

  var DELAY = 300; // ms after the last keystroke

  function init() {
    var box = document.querySelector("[data-pinyin-url]");
    if (!box || !window.fetch || !window.URL) {
      return;
    }
    var url = box.getAttribute("data-pinyin-url");
    var sources = {};
    var targets = {};
    box.querySelectorAll("[data-pinyin-source]").forEach(function (input) {
      sources[input.getAttribute("data-pinyin-source")] = input;
    });
    box.querySelectorAll("[data-pinyin-target]").forEach(function (input) {
      targets[input.getAttribute("data-pinyin-target")] = input;
    });
    if (!sources.family || !sources.given || !targets.family || !targets.given) {
      return;
    }
    var cyrillic = box.querySelector("[data-palladius-target]");
    if (cyrillic) {
      targets.ru = cyrillic;
    }
    var note = box.querySelector("[data-pinyin-note]");
    var suggested = { family: null, given: null, ru: null }; // what this script last put in each field
    var timer = null;
    var asked = 0; // answers to older questions are dropped when they arrive late

    function fill(answer) {
      var filled = false;
      Object.keys(targets).forEach(function (key) {
        var target = targets[key];
        var value = typeof answer[key] === "string" ? answer[key] : "";
        var untouched = target.value.trim() === "" || target.value === suggested[key];
        if (!untouched || target.value === value) {
          return;
        }
        target.value = value;
        suggested[key] = value;
        filled = filled || value !== "";
      });
      if (note && filled) {
        note.hidden = false;
      }
    }

    function ask() {
      timer = null;
      var question = new URL(url, window.location.href);
      question.searchParams.set("family", sources.family.value);
      question.searchParams.set("given", sources.given.value);
      // the Latin fields as the teacher left them; blank ones are read from the Chinese
      ["family", "given"].forEach(function (key) {
        var latin = targets[key].value;
        question.searchParams.set(key + "_latin", latin === suggested[key] ? "" : latin);
      });
      asked += 1;
      var number = asked;
      fetch(question.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (answer) {
          if (answer && number === asked) {
            fill(answer);
          }
        })
        .catch(function () {
          // no suggestion: the teacher types the Latin spelling, as without this script
        });
    }

    function later(event) {
      if (event && event.isComposing) {
        return; // an input method is still composing: the field holds its Latin keystrokes
      }
      if (timer) {
        window.clearTimeout(timer);
      }
      timer = window.setTimeout(ask, DELAY);
    }

    [sources.family, sources.given, targets.family, targets.given].forEach(function (input) {
      input.addEventListener("input", later);
      input.addEventListener("compositionend", later);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
