// The "copy link" button of the evaluation link panel: copies the text of the
// element named by data-copy-from and says so next to the button. Falls back to
// a selected textarea where the Clipboard API is unavailable (plain http).
(function () {
  "use strict";

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    return ok;
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(
        function () { return true; },
        function () { return fallbackCopy(text); }
      );
    }
    return Promise.resolve(fallbackCopy(text));
  }

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-from]");
    if (!button) {
      return;
    }
    var source = document.getElementById(button.getAttribute("data-copy-from"));
    if (!source) {
      return;
    }
    var state = button.parentNode.querySelector(".evaluation-link-copy-state");
    copy(source.textContent.trim()).then(function (ok) {
      if (!ok) {
        selectText(source);
      }
      if (state) {
        state.textContent = button.getAttribute(ok ? "data-copied-text" : "data-failed-text");
      }
    });
  });
})();
