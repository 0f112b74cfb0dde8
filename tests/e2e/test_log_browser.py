"""The Log page in Debian's Chromium against the real server, on the two
screens associates use (issue #3). Each test taps like a person, then checks
the database."""

from __future__ import annotations

import pytest
import sqlite_utils

from tests.e2e.harness import PHONE, TABLET, by_key, open_visit_card, tap_key, wait_idle

pytestmark = pytest.mark.browser
VIEWPORTS = {"phone": PHONE, "tablet": TABLET}
MIN_TARGET_PX = 48


@pytest.fixture(params=list(VIEWPORTS))
def screen(request, browser, served):
    """A new device (its own browser context) signed in as Ana."""
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    page = context.new_page()
    page.goto(served["url"])
    wait_idle(page)
    tap_key(page, f"name-{served['ana']}")
    page.wait_for_selector(".st-key-start-row")
    wait_idle(page)
    yield request.param, page
    context.close()


def db(served) -> sqlite_utils.Database:
    return sqlite_utils.Database(served["storage"].path)


def start(page, engagement: str) -> str:
    """Tap a start button; returns the new visit's id once its card is drawn."""
    before = set(card_ids(page))
    page.locator(f"[class*='st-key-start-{engagement}-'][data-stale='false'] button").click()
    page.wait_for_function(
        "n => document.querySelectorAll(\"[class*='st-key-card-']\").length > n",
        arg=len(before),
    )
    (new,) = set(card_ids(page)) - before
    return new


def card_ids(page) -> list[str]:
    classes = page.locator("[class*='st-key-card-']").evaluate_all(
        "els => els.map(e => [...e.classList].find(c => c.startsWith('st-key-card-')))"
    )
    return [c.removeprefix("st-key-card-") for c in classes]


def tap_option(page, key: str, label: str) -> None:
    by_key(page, key).locator("button", has_text=label).first.click()


def test_log_a_purchase_and_a_no_purchase_by_tapping(screen, served, screenshot):
    name, page = screen
    sale = start(page, "warm")
    tap_option(page, f"reason-{sale}", "Gift")
    wait_idle(page)
    tap_key(page, f"units-2-{sale}")
    page.get_by_text("Saved: purchase, 2 units", exact=True).wait_for()

    walk_out = start(page, "neutral")
    tap_option(page, f"reason-{walk_out}", "Browsing")
    wait_idle(page)
    tap_key(page, f"none-{walk_out}")
    page.get_by_text("Saved: no purchase", exact=True).wait_for()
    tap_option(page, f"nosale-{walk_out}", "Just looking")
    wait_idle(page)
    if name == "tablet":  # once is enough: it waits for the 15 s refresh
        closed = (
            db(served)
            .execute("SELECT count(*) FROM visits WHERE outcome IS NOT NULL AND voided_at IS NULL")
            .fetchone()[0]
        )
        page.get_by_text(f"Today: {closed} closed visits").wait_for(timeout=25_000)
    screenshot(page, f"log-{name}-after-closing")

    rows = {
        r["id"]: r
        for r in db(served).query(
            "SELECT v.*, r.name AS reason, n.name AS no_sale FROM visits v"
            " LEFT JOIN reasons r ON r.id = v.reason_id"
            " LEFT JOIN reasons n ON n.id = v.no_sale_reason_id WHERE v.id IN (?, ?)",
            [sale, walk_out],
        )
    }
    assert {k: rows[sale][k] for k in ("first_engagement", "reason", "outcome", "units")} == {
        "first_engagement": "warm",
        "reason": "Gift",
        "outcome": "purchased",
        "units": 2,
    }
    assert {k: rows[walk_out][k] for k in ("first_engagement", "reason", "outcome", "no_sale")} == {
        "first_engagement": "neutral",
        "reason": "Browsing",
        "outcome": "no_purchase",
        "no_sale": "Just looking",
    }


def test_every_button_is_a_48px_target_and_nothing_scrolls_sideways(screen, served, screenshot):
    name, page = screen
    vid = start(page, "missed")
    tap_key(page, f"more-{vid}")  # the 5+ stepper, so its buttons are measured too
    by_key(page, f"stepper-{vid}").wait_for()
    wait_idle(page)
    screenshot(page, f"log-{name}-open-card")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('button, [role=radio], [role=checkbox]')]
              .filter(e => e.offsetParent !== null)
              .map(e => { const r = e.getBoundingClientRect();
                          const name = e.innerText.trim().split('\\n').pop()
                              || e.getAttribute('aria-label') || e.dataset.testid;
                          return [name, r.height, r.width]; })"""
    )
    assert len(sizes) > 15
    small = [s for s in sizes if s[1] < MIN_TARGET_PX or s[2] < MIN_TARGET_PX]
    assert small == [], f"tap targets under {MIN_TARGET_PX}px on {name}: {small}"
    width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], f"horizontal scroll on {name}: {width}"
    # Buttons that belong together stay side by side, even on the phone.
    for group in (
        [f"[class*='st-key-start-{e}-']" for e in ("warm", "neutral", "missed")],
        [f".st-key-units-{n}-{vid}" for n in (1, 2, 3, 4)] + [f".st-key-more-{vid}"],
    ):
        tops = {round(page.locator(sel).bounding_box()["y"]) for sel in group}
        assert len(tops) == 1, f"{group} wrapped on {name}"
    tap_key(page, f"stepper-save-{vid}")
    page.get_by_text("Saved: purchase, 5 units", exact=True).wait_for()


def test_double_tap_logs_once_and_refresh_keeps_open_visits(screen, served):
    _, page = screen
    count = db(served).execute("SELECT count(*) FROM visits").fetchone()[0]
    page.locator("[class*='st-key-start-warm-'][data-stale='false'] button").dblclick()
    open_visit_card(page).wait_for()
    wait_idle(page)
    page.wait_for_timeout(500)  # let a second run, had there been one, land
    assert db(served).execute("SELECT count(*) FROM visits").fetchone()[0] == count + 1
    newest = (
        db(served).execute("SELECT id FROM visits ORDER BY started_at DESC LIMIT 1").fetchone()[0]
    )

    page.reload()
    wait_idle(page)
    by_key(page, f"card-{newest}").wait_for()  # still signed in, the same open visit
    assert page.locator(".st-key-start-row").count() == 1


def test_a_second_device_sees_the_open_visit(browser, served):
    tablet = browser.new_context(viewport=TABLET).new_page()
    phone = browser.new_context(viewport=PHONE).new_page()
    for page, who in ((tablet, "ana"), (phone, "ben")):
        page.goto(served["url"])
        wait_idle(page)
        tap_key(page, f"name-{served[who]}")
        page.wait_for_selector(".st-key-start-row")
        wait_idle(page)
    vid = start(tablet, "warm")
    phone.reload()
    wait_idle(phone)
    tap_key(phone, f"units-1-{vid}")
    phone.get_by_text("Saved: purchase, 1 unit", exact=True).wait_for()
    row = db(served).execute("SELECT outcome, closed_by FROM visits WHERE id = ?", [vid]).fetchone()
    assert row == ("purchased", served["ben"])
    tablet.context.close()
    phone.context.close()
