"""Tap → *saved* visible on the Log page's tap pad vs a bare one-button
Streamlit page (issues #3, #10).

Both pages are served by real servers and driven in Debian's Chromium at phone
size. The Log page's database already holds 100,000 demo visits and 10 open
visits. Each timed tap on the pad is a reason tap on one of the open visits'
cards (a real write through POST /api/v1/taps; since issue #24 a chosen reason
is a chip, tapped untimed first to show the choices); it is timed from the click to
the next frame after the card shows that reason chosen and *saved* (the pad
draws *waiting* when the answer takes longer than 30 ms). Taps alternate
bare, Log, bare, Log… so both see the same machine noise.

Lines: ``tap_saved_ms_p50``, ``tap_saved_ms_p95``,
``tap_saved_ratio_vs_bare_streamlit`` (p50 ÷ the bare page's p50 in the same
run) and ``tap_bare_streamlit_ms_p50``, the yardstick. The old
``tap_to_saved_ms_*`` lines timed the websocket Log page, which is gone: the
pad's lines replace them. Those taps are timed with the store's time to greet
off, the pad as it was before issue #30.

Issue #30: then the store turns time to greet on and the same pad times
"Customer in" (an ``arrival`` tap through POST /api/v1/taps) from the click
to the next frame after the new waiting customer's row shows *saved*; each
timed arrival is undone untimed (its row gone) before the next. Bare taps
alternate with them again: ``arrival_saved_ms_p50``, ``arrival_saved_ms_p95``
and ``arrival_saved_ratio_vs_bare_streamlit`` (p50 ÷ the bare p50 of these
rounds).
"""

from __future__ import annotations

import statistics
import uuid

from bench.common import RESULTS, fresh, report
from cxlog import demo
from cxlog.access import accounts
from cxlog.core import roles
from cxlog.greeting import rules
from cxlog.storage.db import Storage
from cxlog.storage.settings import GreetRules
from cxlog.stores import catalog
from cxlog.visits import visits
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
    accounts.add_or_reset(storage, roles.OWNER, roles.OWNER, "bench-owner-password", actor="bench")
    store = catalog.list_stores(storage)[0]["id"]
    associate = catalog.list_associates(storage, store)[0]["id"]
    # The demo turns time to greet on (#30); the reason taps are timed on the
    # pad as it was before #30 (setting off), the arrivals after (_arrivals).
    rules.save(storage, store, GreetRules(on=False), actor="bench")
    # The demo leaves its last 40 minutes' visits open, so during the store's
    # opening hours there were more than OPEN_VISITS cards (18 at 10:50 UTC):
    # those are closed, and exactly the bench's own visits are open.
    for visit in visits.open_visits(storage, store):
        visits.record_no_purchase(storage, visit["id"], actor="bench")
    for _ in range(OPEN_VISITS):
        visits.create_visit(storage, uuid.uuid4().hex, store, associate, "neutral")
    return storage, store, associate


# Click, then resolve with the elapsed ms once the card shows this tap saved:
# the reason tapped is the card's reason, and the card is saved. (The card was
# saved before the tap too, and the pad draws *waiting* only when the answer
# is slow to come, so "saved" alone could be read before the answer.)
TIMED_PAD_TAP = """
async ([buttonSel, cardSel]) => {
  const button = document.querySelector(buttonSel);
  // A chosen reason shows as one chip on the card (issue #24).
  const pressed = `${cardSel} [data-act=change-reason][data-value="${button?.dataset.value}"]`;
  const saved = () =>
    document.querySelector(cardSel)?.dataset.state === 'saved' &&
    document.querySelector(pressed)?.getAttribute('aria-pressed') === 'true';
  return await new Promise((resolve, reject) => {
    const t0 = performance.now();
    const obs = new MutationObserver(() => {
      if (saved()) {
        obs.disconnect();
        requestAnimationFrame(() => resolve(performance.now() - t0));
      }
    });
    obs.observe(document.body, {subtree: true, childList: true, attributes: true});
    setTimeout(() => {
      obs.disconnect();
      const bar = document.querySelector('.cx-bar')?.textContent;
      const state = document.querySelector(cardSel)?.dataset.state;
      reject(new Error(`not saved in 10 s: ${bar}; ${state}`));
    }, 10000);
    if (!button) throw new Error(`no button ${buttonSel}`);
    button.click();  // draws the card as waiting before it returns
  });
}
"""


# Issue #30: click "Customer in", then resolve with the elapsed ms once a
# waiting customer's row that was not there before shows saved; with its id.
TIMED_ARRIVAL = """
async ([buttonSel]) => {
  const button = document.querySelector(buttonSel);
  const rows = () => [...document.querySelectorAll('.cx-wait-row')];
  const before = new Set(rows().map((r) => r.dataset.visit));
  const saved = () =>
    rows().find((r) => !before.has(r.dataset.visit) && r.dataset.state === 'saved');
  return await new Promise((resolve, reject) => {
    const t0 = performance.now();
    const obs = new MutationObserver(() => {
      const row = saved();
      if (row) {
        obs.disconnect();
        requestAnimationFrame(() => resolve([performance.now() - t0, row.dataset.visit]));
      }
    });
    obs.observe(document.body, {subtree: true, childList: true, attributes: true});
    setTimeout(() => {
      obs.disconnect();
      const bar = document.querySelector('.cx-bar')?.textContent;
      reject(new Error(`no saved arrival in 10 s: ${bar}`));
    }, 10000);
    if (!button) throw new Error(`no button ${buttonSel}`);
    button.click();
  });
}
"""


def _arrivals(storage: Storage, store: int, bare, log, bare_from: int) -> tuple[list, list]:
    """Time to greet on, then TAPS rounds of a bare tap and a timed arrival
    (each undone untimed): (bare ms, arrival ms)."""
    rules.save(storage, store, GreetRules(on=True), actor="bench")
    log.evaluate("window.cxPad.refresh()")  # the board carries `greet` from now on
    log.locator("[data-act=customer-in]").wait_for(timeout=15_000)
    bare_ms, arrival_ms = [], []
    for i in range(TAPS):
        bare_ms.append(
            bare.evaluate(TIMED_TAP, [".st-key-tap button", "body", f"Saved {bare_from + i + 1}"])
        )
        harness.wait_idle(bare)
        elapsed, arrival = log.evaluate(TIMED_ARRIVAL, ["[data-act=customer-in]"])
        arrival_ms.append(elapsed)
        row = log.locator(f".cx-wait-row[data-visit='{arrival}']")
        row.locator("[data-tap=arrival_undo]").click()  # within 30 s: the arrival is gone
        row.wait_for(state="detached", timeout=10_000)
        log.wait_for_timeout(100)
    return bare_ms, arrival_ms


def run() -> None:
    from playwright.sync_api import sync_playwright

    storage, store, associate = seeded_storage()
    bare_db = fresh(RESULTS / "bare.db")
    with (
        harness.streamlit_server(storage.path, log=RESULTS / "tap_server.log") as log_url,
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
        log.locator(f"[data-associate='{associate}']").click()
        log.locator(".cx-card").nth(OPEN_VISITS - 1).wait_for(timeout=30_000)
        cards = log.locator(".cx-card").evaluate_all("els => els.map(e => e.dataset.visit)")
        assert len(cards) == OPEN_VISITS, cards

        bare_ms, log_ms = [], []
        for i in range(TAPS):
            bare_ms.append(
                bare.evaluate(TIMED_TAP, [".st-key-tap button", "body", f"Saved {i + 1}"])
            )
            harness.wait_idle(bare)
            card = f".cx-card[data-visit='{cards[i % OPEN_VISITS]}']"
            # A chosen reason is a chip (issue #24): a tap on it, untimed,
            # shows the choices again.
            chip = log.locator(f"{card} [data-act=change-reason]")
            if chip.count():
                chip.click()
                log.locator(f"{card} [data-tap=reason]").first.wait_for()
            # A reason the card does not have yet: each tap is a real write.
            button = f"{card} [data-tap=reason][aria-pressed=false]"
            log_ms.append(log.evaluate(TIMED_PAD_TAP, [button, card]))
            log.wait_for_timeout(100)  # let the pad's board refresh after a save settle
        greet_bare_ms, arrival_ms = _arrivals(storage, store, bare, log, TAPS)
        browser.close()

    saved = (
        storage.connect()
        .execute("SELECT count(*) FROM taps WHERE kind = 'reason' AND ok = 1")
        .fetchone()[0]
    )
    assert saved == TAPS, f"{saved} of {TAPS} timed taps reached the database"
    _report("tap", log_ms, bare_ms)
    tapped = (
        storage.connect()
        .execute("SELECT count(*) FROM arrivals WHERE removed_at IS NOT NULL")
        .fetchone()[0]
    )
    assert tapped == TAPS, f"{tapped} of {TAPS} timed arrivals were saved and undone"
    _report("arrival", arrival_ms, greet_bare_ms)


def _report(name: str, saved_ms: list[float], bare_ms: list[float]) -> None:
    """A pad tap's figures beside the bare Streamlit taps of its rounds."""
    p50 = statistics.median(saved_ms)
    report(f"{name}_saved_ms_p50", p50)
    report(f"{name}_saved_ms_p95", statistics.quantiles(saved_ms, n=20)[-1])
    report(f"{name}_bare_streamlit_ms_p50", statistics.median(bare_ms))
    report(f"{name}_saved_ratio_vs_bare_streamlit", p50 / statistics.median(bare_ms))


if __name__ == "__main__":
    run()
