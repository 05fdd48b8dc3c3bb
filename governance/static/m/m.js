/* Phone pages (/m/): drafts, resend, idempotent submits, photo resizing,
   location, service worker. No inline script (CSP): wired by data attributes.

   <form data-m-form>   a phone form: its fields are saved as a draft in
                        localStorage while typed (per user and form action),
                        restored on reload, cleared when the server accepted it
                        (answered with a redirect); it is sent with fetch, and a
                        failure (offline, timeout, 5xx) keeps the draft and shows
                        a resend button. The hidden idempotency_key is part of the
                        draft, so a resend or a replay makes one record.
   input[data-geo=lat|lng]   filled from the browser's geolocation if allowed.
   form[data-logout]   clears this user's drafts and the page cache first.
   body[data-login-page] clears the page cache (another user may log in). */
(function () {
  "use strict";
  var body = document.body;
  var PAGES_CACHE = "gw-pages";
  var TIMEOUT_MS = 90000;
  var MAX_SIDE = 1600;
  var SKIP_TYPES = { file: 1, password: 1, submit: 1, button: 1, reset: 1 };

  function data(name) { return document.body.getAttribute("data-" + name) || ""; }
  function loginPaths() { return data("login-paths").split(" ").filter(Boolean); }

  function draftKey(form) {
    var action = new URL(form.getAttribute("action") || location.pathname, location.href);
    return "gw-draft:" + data("user") + ":" + action.pathname + ":" + (form.getAttribute("data-m-form") || "");
  }

  function saveDraft(form) {
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP_TYPES[el.type] || el.name === "csrfmiddlewaretoken") return;
      if (el.type === "checkbox" || el.type === "radio") {
        fields[el.name] = fields[el.name] || [];
        if (el.checked) fields[el.name].push(el.value);
      } else if (el.type === "select-multiple") {
        fields[el.name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
      } else {
        fields[el.name] = el.value;
      }
    });
    try { localStorage.setItem(draftKey(form), JSON.stringify({ at: Date.now(), fields: fields })); }
    catch (e) { /* storage full or refused: the form still works without a draft */ }
  }

  function restoreDraft(form) {
    var raw = null;
    try { raw = localStorage.getItem(draftKey(form)); } catch (e) { return; }
    if (!raw) return;
    var fields;
    try { fields = JSON.parse(raw).fields || {}; } catch (e) { return; }
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP_TYPES[el.type] || el.name === "csrfmiddlewaretoken") return;
      if (!(el.name in fields)) return;
      var value = fields[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = value.indexOf(el.value) !== -1;
      } else if (el.type === "select-multiple") {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = value.indexOf(o.value) !== -1; });
      } else {
        el.value = value;
      }
    });
    form.setAttribute("data-draft-restored", "1");
    var note = form.querySelector("[data-draft-note]");
    if (note) note.classList.remove("m-hidden");
  }

  function clearDraft(form) {
    try { localStorage.removeItem(draftKey(form)); } catch (e) { /* nothing to clear */ }
  }

  function clearUserDrafts() {
    var prefix = "gw-draft:" + data("user") + ":";
    try {
      for (var i = localStorage.length - 1; i >= 0; i--) {
        var k = localStorage.key(i);
        if (k && k.indexOf(prefix) === 0) localStorage.removeItem(k);
      }
    } catch (e) { /* no storage */ }
  }

  function clearPageCache() {
    if (!window.caches) return Promise.resolve();
    return caches.delete(PAGES_CACHE).catch(function () {});
  }

  /* Photos: long side <= 1600 px, JPEG 0.8; a file the browser cannot decode is
     sent as it is, and the server refuses it with a message. */
  function resizePhoto(file) {
    if (!file || !/^image\//.test(file.type) || file.type === "image/gif" || !window.createImageBitmap) {
      return Promise.resolve(file);
    }
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.size < 600 * 1024) return file;
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob) { resolve(file); return; }
          var name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg" }));
        }, "image/jpeg", 0.8);
      });
    }, function () { return file; });
  }

  function formDataWithPhotos(form, submitter) {
    var fd = new FormData(form);
    if (submitter && submitter.name) fd.append(submitter.name, submitter.value);
    var inputs = form.querySelectorAll("input[type=file]");
    var jobs = [];
    Array.prototype.forEach.call(inputs, function (input) {
      if (!input.name || !input.files || !input.files.length) return;
      fd.delete(input.name);
      var files = Array.prototype.slice.call(input.files);
      jobs.push(Promise.all(files.map(resizePhoto)).then(function (resized) {
        resized.forEach(function (f) { fd.append(input.name, f, f.name); });
      }));
    });
    return Promise.all(jobs).then(function () { return fd; });
  }

  function showFailed(form, submitter, message) {
    var box = form.querySelector(".m-send-failed");
    if (!box) {
      box = document.createElement("div");
      box.className = "m-send-failed";
      box.setAttribute("role", "alert");
      var text = document.createElement("p");
      text.textContent = data("msg-failed");
      var again = document.createElement("button");
      again.type = "button";
      again.className = "m-primary";
      again.setAttribute("data-resend", "");
      again.textContent = data("msg-resend");
      again.addEventListener("click", function () { send(form, submitter); });
      box.appendChild(text);
      box.appendChild(again);
      form.appendChild(box);
    }
    box.querySelector("p").textContent = message || data("msg-failed");
    box.classList.remove("m-hidden");
  }

  function setBusy(form, busy) {
    form.setAttribute("aria-busy", busy ? "true" : "false");
    Array.prototype.forEach.call(form.querySelectorAll("button[type=submit],input[type=submit]"), function (b) {
      b.disabled = busy;
    });
  }

  function replacePage(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    if (doc.title) document.title = doc.title;
    document.body.replaceWith(doc.body);
    init(document.body, false);
    if (window.htmx) window.htmx.process(document.body);
    window.scrollTo(0, 0);
  }

  function send(form, submitter) {
    if (form.getAttribute("aria-busy") === "true") return;  // a double tap
    saveDraft(form);
    setBusy(form, true);
    var failed = form.querySelector(".m-send-failed");
    if (failed) failed.classList.add("m-hidden");
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    formDataWithPhotos(form, submitter).then(function (fd) {
      return fetch(form.action, {
        method: "POST", body: fd, credentials: "same-origin",
        signal: controller ? controller.signal : undefined,
        headers: { "X-Gridwork-Phone": "1" }
      });
    }).then(function (resp) {
      if (timer) clearTimeout(timer);
      if (resp.status >= 500) throw new Error("server " + resp.status);
      var finalUrl = new URL(resp.url, location.href);
      if (loginPaths().indexOf(finalUrl.pathname) !== -1) {
        // The session ended while typing: log in, then come back to the draft.
        location.assign(loginPaths()[0] + "?next=" + encodeURIComponent(location.pathname + location.search));
        return;
      }
      var type = resp.headers.get("content-type") || "";
      if (resp.redirected) {
        // Accepted: show the page it led to (already fetched, with its
        // one-time messages) under its own address.
        clearDraft(form);
        return resp.text().then(function (html) {
          if (type.indexOf("text/html") !== 0) { location.assign(resp.url); return; }
          history.pushState({ gw: 1 }, "", resp.url);
          replacePage(html);
        });
      }
      return resp.text().then(function (text) {
        if (type.indexOf("text/html") !== 0) {
          // A bare refusal (e.g. 413, too large): say it, keep the draft.
          setBusy(form, false);
          showFailed(form, submitter, text);
          return;
        }
        // Shown again with errors: the server's form now holds what was typed
        // and a new key; that becomes the draft.
        replacePage(text);
      });
    }).catch(function () {
      if (timer) clearTimeout(timer);
      setBusy(form, false);
      showFailed(form, submitter);
    });
  }

  function fillLocation(root) {
    var lat = root.querySelector("input[data-geo=lat]");
    var lng = root.querySelector("input[data-geo=lng]");
    if (!lat || !lng || !navigator.geolocation || lat.value) return;
    var status = root.querySelector("[data-geo-status]");
    navigator.geolocation.getCurrentPosition(function (pos) {
      lat.value = pos.coords.latitude.toFixed(6);
      lng.value = pos.coords.longitude.toFixed(6);
      if (status) status.textContent = data("msg-located") + " " + lat.value + ", " + lng.value;
      var form = lat.form;
      if (form && form.hasAttribute("data-m-form")) saveDraft(form);
      if (form) form.dispatchEvent(new Event("geo-filled"));
    }, function () {
      if (status) status.textContent = data("msg-no-location");
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  function init(root, restore) {
    Array.prototype.forEach.call(root.querySelectorAll("form[data-m-form]"), function (form) {
      if (restore) restoreDraft(form); else saveDraft(form);
      form.addEventListener("input", function () { saveDraft(form); });
      form.addEventListener("change", function () { saveDraft(form); });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        send(form, event.submitter);
      });
    });
    Array.prototype.forEach.call(root.querySelectorAll("form[data-logout]"), function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        clearUserDrafts();
        clearPageCache().then(function () { form.submit(); });
      });
    });
    if (root.hasAttribute && root.hasAttribute("data-login-page")) clearPageCache();
    fillLocation(root);
  }

  // Pages shown by replacePage have no state of their own: going back or
  // forward loads them again.
  window.addEventListener("popstate", function () { location.reload(); });
  init(body, true);
  if ("serviceWorker" in navigator && data("sw")) {
    navigator.serviceWorker.register(data("sw"), { scope: "/m/" }).catch(function () {});
  }
})();
