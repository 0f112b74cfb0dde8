// cxlog's service worker (issue #29), registered over HTTPS only by every
// page (cxlog/server/home_screen.py, which fills in {{version}}).
//
// Streamlit's page cannot run without its server: it lives on a websocket.
// So when a page load cannot reach the server (no answer, or a proxy's
// 502-504), the worker answers with the offline pad, offline.html, kept here
// at install with the files it needs. Everything else goes to the network
// as if there were no worker; Chromium does not even wake the worker for
// those requests (static routes), so a tap never waits for it.
const VERSION = "{{version}}";
const CACHE = `cxlog-offline-${VERSION}`;
const OFFLINE = "/app/offline.html";
const KEPT = [OFFLINE, "/app/offline.js", "/app/pad.js", "/app/pad.css", "/app/favicon-32.png", "/app/icon-192.png"];
// What a page load may wait for before the offline pad answers instead: the
// page is a small file, served well within a second on the store network.
const PAGE_WAIT_MS = 6000;
const SERVER_AWAY = new Set([502, 503, 504]);
const PASS = ["/api/*", "/_stcore/*", "/static/*", "/media/*", "/component/*", "/sw.js"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      if (event.addRoutes && typeof URLPattern !== "undefined") {
        try {
          await event.addRoutes(PASS.map((pathname) => ({ condition: { urlPattern: new URLPattern({ pathname }) }, source: "network" })));
        } catch (e) {
          // A browser without static routes: the fetch handler lets these through.
        }
      }
      const cache = await caches.open(CACHE);
      await cache.addAll(KEPT.map((url) => new Request(url, { cache: "reload" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key.startsWith("cxlog-offline-") && key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") event.respondWith(page(event));
  else if (KEPT.includes(url.pathname)) event.respondWith(kept(request));
});

function waited(ms) {
  return new Promise((resolve) => setTimeout(() => resolve(null), ms));
}

async function page(event) {
  const loading = fetch(event.request);
  try {
    const response = await Promise.race([loading, waited(PAGE_WAIT_MS)]);
    if (response && !SERVER_AWAY.has(response.status)) {
      // The offline page again, in the device's language of the day.
      event.waitUntil(caches.open(CACHE).then((cache) => cache.add(new Request(OFFLINE, { cache: "no-store" }))).catch(() => null));
      return response;
    }
  } catch (e) {
    // The server cannot be reached.
  }
  const pad = await caches.match(OFFLINE, { cacheName: CACHE });
  return pad || loading;
}

async function kept(request) {
  const hit = await caches.match(request, { cacheName: CACHE, ignoreSearch: true });
  return hit || fetch(request);
}
