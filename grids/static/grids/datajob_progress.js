// The progress bar of a background import or export (admin job page): polls
// the job's status URL (data-status-url; empty once the job has ended) and
// fills the fields marked data-field; when the job ends, reloads the page so
// the server renders the outcome, the refused rows and the download link.
(function () {
  "use strict";

  var POLL_MS = 1500;

  function show(root, status) {
    var fields = root.querySelectorAll("[data-field]");
    for (var i = 0; i < fields.length; i++) {
      var name = fields[i].getAttribute("data-field");
      if (!(name in status)) {
        continue;
      }
      if (fields[i].tagName === "PROGRESS") {
        fields[i].value = status[name];
        fields[i].textContent = status[name] + "%";
      } else {
        fields[i].textContent = status[name];
      }
    }
  }

  function poll(root, url) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (status) {
        show(root, status);
        if (status.finished) {
          window.location.reload();
        } else {
          window.setTimeout(function () { poll(root, url); }, POLL_MS);
        }
      })
      .catch(function () {
        window.setTimeout(function () { poll(root, url); }, POLL_MS * 4);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("datajob");
    var url = root && root.getAttribute("data-status-url");
    if (url) {
      poll(root, url);
    }
  });
})();
