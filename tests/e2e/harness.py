"""Start the real `streamlit run` server and Debian's Chromium, datasette-style.

Shared by the browser tests and the tap-latency benchmark. Servers bind
127.0.0.1 on a free port, use a temporary database, and are stopped by pid.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Starting and stopping a server: the same code as `make chain`'s.
from cxlog.local_chain import free_port, stop, wait_healthy
from cxlog.local_chain import serve_flags as server_flags

__all__ = ["free_port", "server_flags", "stop", "wait_healthy"]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # This machine's network is closed: without these Chromium keeps trying
    # to reach Google's hosts.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@contextmanager
def streamlit_server(
    db_path: Path | str, script: Path | None = None, log: Path | None = None
) -> Iterator[str]:
    """Serve on 127.0.0.1 with CXLOG_DB=db_path (a file or a postgresql://
    address); yields the base URL.

    Without ``script`` it starts cxlog the way `make run` does (python -m
    cxlog.serve); with one, plain `streamlit run <script>`.
    """
    port = free_port()
    env = {**os.environ, "CXLOG_DB": str(db_path)}
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    entry = ["-m", "cxlog.serve"] if script is None else ["-m", "streamlit", "run", str(script)]
    process = subprocess.Popen(
        [sys.executable, *entry, *server_flags(port)],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        stop(process)
        if log:
            out.close()


# --- locator helpers (Streamlit gives a keyed element the class st-key-<key>) --


def by_key(page, key: str):
    return page.locator(f".st-key-{key}")


def wait_idle(page, timeout: float = 15_000) -> None:
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout
    )


def open_tab(page, name: str, shows: str | None = None, tries: int = 3) -> None:
    """Open the tab called ``name`` and wait until it is the selected one (and,
    given ``shows``, until that locator is visible). A rerun that lands just
    after the click (a save's st.rerun that wait_idle saw not yet started)
    draws the tabs again on their first one: click again, a bounded number of
    times."""
    tab = page.get_by_role("tab", name=name)
    for attempt in range(tries):
        tab.click()
        try:
            page.wait_for_function(
                "el => el.getAttribute('aria-selected') === 'true'",
                arg=tab.element_handle(timeout=5_000),
                timeout=5_000,
            )
            if shows:
                page.locator(shows).first.wait_for(state="visible", timeout=5_000)
            wait_idle(page)
            if tab.get_attribute("aria-selected") == "true":
                return
        except Exception:
            if attempt == tries - 1:
                raise
    raise AssertionError(f"tab {name!r} did not stay open after {tries} clicks")


def tap_key(page, key: str) -> None:
    """Tap the button inside the element with this widget key."""
    by_key(page, key).locator("button").first.click()


def tap_pill(page, key: str, label: str) -> None:
    by_key(page, key).get_by_role("radio", name=label, exact=True).or_(
        by_key(page, key).get_by_role("checkbox", name=label, exact=True)
    ).or_(by_key(page, key).get_by_role("button", name=label, exact=True)).first.click()


def open_visit_card(page, n: int = 0):
    """The n-th open-visit card, newest first."""
    return page.locator("[class*='st-key-card-']").nth(n)


def sign_in_with_password(
    page, password: str, role: str | None = None, *, with_enter: bool = False
) -> None:
    """The sign-in form, sent by its button (or by Enter in the password
    field), then the one reload that brings the session cookie
    (cxlog/access/sessions.py): returns once the new page has run. ``role``
    is the account's name: the tests' accounts are named after their role
    (tests/conftest.py: with_passwords), the manager's by default."""
    by_key(page, "sign_in_login").locator("input").fill(role or "manager")
    by_key(page, "sign_in_password").locator("input").fill(password)
    with page.expect_navigation(timeout=30_000):
        if with_enter:
            page.keyboard.press("Enter")
        else:
            by_key(page, "sign-in-submit").locator("button").click()
    wait_idle(page, timeout=30_000)


# --- the Log page's tap pad (cxlog/web/pad/pad.js draws plain elements, no keys) --

PAD_OUTBOX = "cxlog.outbox.v1"
# A JS function: the first ancestor of an element that scrolls (Streamlit
# scrolls its main column, not the document).
FIND_SCROLLER = """(el) => {
  while (el && !(el.scrollHeight > el.clientHeight
                 && /auto|scroll/.test(getComputedStyle(el).overflowY))) el = el.parentElement;
  return el;
}"""


def card(page, vid: str):
    return page.locator(f".cx-card[data-visit='{vid}']")


def new_card(page, engagement: str) -> str:
    before = set(page.locator(".cx-card").evaluate_all("els => els.map(e => e.dataset.visit)"))
    # Two touches of a start button closer than the pad's double-tap window
    # are one visit (issue #24): a person logging two customers is slower.
    page.wait_for_function(
        "() => !window.cxPad.state.lastTouch"
        " || Date.now() - window.cxPad.state.lastTouch.at >= window.cxPad.DOUBLE_TAP_MS"
    )
    page.locator(f"[data-start={engagement}]").click()
    # The pad draws the card from its outbox at once; how fast is the tap
    # benchmark's to say (bench/tap_latency.py). Under a loaded CI machine a
    # page that is reconnecting (the chain's killed process) took over 2 s.
    page.wait_for_function(
        "n => document.querySelectorAll('.cx-card').length > n", arg=len(before), timeout=10_000
    )
    after = page.locator(".cx-card").evaluate_all("els => els.map(e => e.dataset.visit)")
    (new,) = set(after) - before
    return new


def signed_in_device(browser, url: str, associate_id: int, viewport=PHONE, *, touch=False):
    """A new device (its own browser context and cookies) on the Log page,
    signed in by tapping the associate's name; a touch screen with ``touch``."""
    extra = {"has_touch": True, "is_mobile": viewport["width"] < 640} if touch else {}
    context = browser.new_context(viewport=viewport, **extra)
    page = context.new_page()
    page.goto(url)
    page.locator(f"[data-associate='{associate_id}']").click()
    # The name button POSTs the shift and reloads: the page then reads the cookie.
    page.locator("[data-start=warm]").wait_for(timeout=15_000)
    return page


def tap(page, vid: str, kind: str, value: str | None = None) -> None:
    sel = f"[data-tap={kind}]" + (f"[data-value='{value}']" if value is not None else "")
    card(page, vid).locator(sel).first.click()


def wait_all_saved(page, timeout: float = 10_000) -> None:
    page.wait_for_function(
        f"""() => JSON.parse(localStorage.getItem('{PAD_OUTBOX}') || '[]').length === 0
              && document.querySelector('.cx-bar').textContent.includes('All taps saved')
              && [...document.querySelectorAll('.cx-card')]
                   .every(c => c.dataset.state === 'saved')""",
        timeout=timeout,
    )


def pad_idle(page, timeout: float = 10_000) -> None:
    """Nothing in flight on the pad (no send, no board refresh): a click now
    lands on the card a person sees, not on one about to be redrawn."""
    page.wait_for_function(
        "() => window.cxPad && !window.cxPad.state.inFlight && !window.cxPad.state.refreshing",
        timeout=timeout,
    )
