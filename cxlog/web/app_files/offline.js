// The Log page without its server (issue #29). Streamlit's page cannot run
// without the server (it lives on a websocket), so the service worker
// (sw.js) answers a page load that cannot reach the server with
// offline.html, which loads this: the tap pad (pad.js, the very file the Log
// page mounts) drawn with the data it last kept on this device. Taps go to
// the outbox in localStorage as always; once the server answers again the
// page loads for real, and the pad there sends what waits.
import mount, { savedForOffline } from "/app/pad.js";

const HEALTH = "/api/v1/health";
const CHECK_MS = 3000;
// The Log page's addresses (app.py: the default page), a joined store's too
// (/?store=3). Any other page shows only the waiting sentence.
const LOG_PAGES = new Set(["/", "/log"]);

const data = LOG_PAGES.has(location.pathname) ? savedForOffline(localStorage) : null;
document.documentElement.dataset.cxOffline = data ? "pad" : "waiting";
if (data) mount({ parentElement: document.querySelector(".cx-offline-pad"), data });
else document.querySelector(".cx-offline-waiting").hidden = false;

// Every few seconds: is the server back? Then the real page.
async function serverBack() {
  try {
    const options = { cache: "no-store" };
    if (typeof AbortSignal !== "undefined" && AbortSignal.timeout) options.signal = AbortSignal.timeout(CHECK_MS);
    const response = await fetch(HEALTH, options);
    if (response.ok) {
      location.reload();
      return;
    }
  } catch (e) {
    // Still away.
  }
  setTimeout(serverBack, CHECK_MS);
}
setTimeout(serverBack, CHECK_MS);
