"""Tap → confirmation visible on the Log page vs a bare one-button page (issue #3).

Both pages are served by real `streamlit run` servers and driven in Debian's
Chromium at phone size. The Log page's database already holds 100,000 demo
visits and 10 open visits. Taps alternate bare, Log, bare, Log… so both see the
same machine noise; the time is measured inside the page, from the click to the
next frame after the DOM shows the confirmation text.
"""

from __future__ import annotations

import statistics
import uuid

from bench.common import RESULTS, fresh, report
from cxlog import access, catalog, demo, visits
from cxlog.db import Storage
from tests.e2e import harness

TAPS = 50
OPEN_VISITS = 10

# Click, then resolve with the elapsed ms once `text` appears inside `scope`.
TIMED_TAP = """
async ([buttonSel, scopeSel, text]) => {
  const button = document.querySelector(buttonSel);
  const seen = () => {
    const scope = document.querySelector(scopeSel);
    return scope && scope.textContent.includes(text);
  };
  return await new Promise((resolve, reject) => {
    const t0 = performance.now();
    const obs = new MutationObserver(() => {
      // textContent, not innerText: innerText forces a layout on every
      // mutation and would slow the page being measured. The next animation
      // frame is when the confirmation is painted.
      if (seen()) {
        obs.disconnect();
        requestAnimationFrame(() => resolve(performance.now() - t0));
      }
    });
    obs.observe(document.body, {subtree: true, childList: true, characterData: true});
    setTimeout(() => { obs.disconnect(); reject(new Error('no confirmation in 10 s')); }, 10000);
    button.click();
  });
}
"""


def seeded_storage() -> tuple[Storage, int, int]:
    storage = Storage(fresh(RESULTS / "tap_100k.db"))
    demo.generate(storage, visits=100_000, days=365, stores=1, associates=6, seed=3)
    # A set-up store: without an owner password the app shows its first-run setup.
    access.set_password(storage, access.OWNER, "bench-owner-password", actor="bench")
    store = catalog.list_stores(storage)[0]["id"]
    associate = catalog.list_associates(storage, store)[0]["id"]
    for _ in range(OPEN_VISITS):
        visits.create_visit(storage, uuid.uuid4().hex, store, associate, "neutral")
    return storage, store, associate


def run() -> None:
    from playwright.sync_api import sync_playwright

    storage, _, associate = seeded_storage()
    bare_db = fresh(RESULTS / "bare.db")
    with (
        harness.streamlit_server(storage.path) as log_url,
        harness.streamlit_server(
            bare_db, script=harness.ROOT / "bench" / "bare_app.py"
        ) as bare_url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=harness.chromium_path(), args=harness.CHROMIUM_FLAGS
        )
        bare = browser.new_page(viewport=harness.PHONE)
        bare.goto(bare_url)
        harness.wait_idle(bare)
        log = browser.new_page(viewport=harness.PHONE)
        log.goto(log_url)
        harness.wait_idle(log)
        harness.tap_key(log, f"name-{associate}")
        log.wait_for_selector(".st-key-start-row")
        harness.wait_idle(log)

        bare_ms, log_ms = [], []
        for i in range(TAPS):
            bare_ms.append(
                bare.evaluate(TIMED_TAP, [".st-key-tap button", "body", f"Saved {i + 1}"])
            )
            harness.wait_idle(bare)
            vid = start_visit(log)
            log_ms.append(
                log.evaluate(
                    TIMED_TAP,
                    [
                        f".st-key-units-2-{vid} button",
                        f".st-key-card-{vid}",
                        "Saved: purchase, 2 units",
                    ],
                )
            )
            harness.wait_idle(log)
        browser.close()

    saved = (
        storage.connect()
        .execute(
            "SELECT count(*) FROM visits WHERE outcome = 'purchased' AND units = 2"
            " AND started_at >= datetime('now', '-1 hour')"
        )
        .fetchone()[0]
    )
    assert saved >= TAPS, f"only {saved} of {TAPS} timed taps reached the database"
    p50 = statistics.median(log_ms)
    report("tap_to_saved_ms_p50", p50)
    report("tap_to_saved_ms_p95", statistics.quantiles(log_ms, n=20)[-1])
    report("tap_bare_streamlit_ms_p50", statistics.median(bare_ms))
    report("tap_ratio_vs_bare_streamlit", p50 / statistics.median(bare_ms))


def start_visit(page) -> str:
    """Tap Warm (not timed) and return the new card's visit id."""
    before = card_ids(page)
    page.locator("[class*='st-key-start-warm-'][data-stale='false'] button").click()
    page.wait_for_function(
        "before => [...document.querySelectorAll(\"[class*='st-key-card-']\")].some("
        "e => !before.includes([...e.classList].find(c => c.startsWith('st-key-card-'))))",
        arg=before,
    )
    harness.wait_idle(page)
    (new,) = set(card_ids(page)) - set(before)
    return new.removeprefix("st-key-card-")


def card_ids(page) -> list[str]:
    return page.locator("[class*='st-key-card-']").evaluate_all(
        "els => els.map(e => [...e.classList].find(c => c.startsWith('st-key-card-')))"
    )


if __name__ == "__main__":
    run()
