{% load static %}/* Service worker of the phone pages, served from /m/sw.js so that its scope
   is /m/. Shell (CSS, scripts, icons, offline page) precached; /m/ pages
   network-first with the last copy as fallback, so last-seen lists open offline;
   POSTs and other sites never touched. Logout and the login page delete the
   page cache (m.js), so a shared phone never shows the previous user's pages. */
"use strict";
var VERSION = "{{ version }}";
var SHELL_CACHE = "gw-shell-" + VERSION;
var PAGES_CACHE = "gw-pages";
var OFFLINE_URL = "{% url 'm:offline' %}";
var SHELL = [
  OFFLINE_URL,
  "{% static 'm/m.css' %}",
  "{% static 'm/m.js' %}",
  "{% static 'm/htmx.min.js' %}",
  "{% static 'm/icon-192.png' %}",
  "{% static 'm/manifest.webmanifest' %}"
];
var NO_CACHE_PATHS = [{% for path in no_cache_paths %}"{{ path|escapejs }}"{% if not forloop.last %}, {% endif %}{% endfor %}];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) { return cache.addAll(SHELL); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf("gw-shell-") === 0 && k !== SHELL_CACHE;
    }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("message", function (event) {
  if (event.data === "logout") event.waitUntil(caches.delete(PAGES_CACHE));
});

function isPage(request, url) {
  return request.mode === "navigate" && url.pathname.indexOf("/m/") === 0 &&
    NO_CACHE_PATHS.indexOf(url.pathname) === -1;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (SHELL.indexOf(url.pathname) !== -1 && url.pathname !== OFFLINE_URL) {
    event.respondWith(caches.match(request).then(function (hit) { return hit || fetch(request); }));
    return;
  }
  if (!isPage(request, url)) return;
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok && !response.redirected &&
        (response.headers.get("content-type") || "").indexOf("text/html") === 0) {
      var copy = response.clone();
      caches.open(PAGES_CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }, function () {
    return caches.match(request, { cacheName: PAGES_CACHE }).then(function (hit) {
      return hit || caches.match(OFFLINE_URL);
    });
  }));
});
