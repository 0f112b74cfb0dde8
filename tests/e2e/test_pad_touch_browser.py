"""The tap pad on a touch screen (issue #24): a double tap acts once, two
customers are two taps, two open cards fit a phone, the Today list reads one
line a row. Real touches (Playwright's touchscreen) in Debian's Chromium at
phone and tablet size, checked against the database."""

from __future__ import annotations

import pytest
import sqlite_utils

from cxlog.visits import taps
from tests.e2e import harness
from tests.e2e.harness import PHONE, TABLET, new_card, pad_idle, tap, wait_all_saved

pytestmark = pytest.mark.browser
SCREENS = {"phone": PHONE, "tablet": TABLET}

# Every click the page sees, with its time (a listener on the window in the
# capture phase, like the pad's own: the pad stops propagation, not the
# listeners beside it).
RECORD_CLICKS = """() => {
  window.cxClicks = [];
  window.addEventListener('click', (e) => window.cxClicks.push(e.timeStamp), true);
}"""


def db(served) -> sqlite_utils.Database:
    return sqlite_utils.Database(served["storage"].path)


def touch_device(browser, served, who: str, screen: str):
    url, person = served["url"], served[who]
    page = harness.signed_in_device(browser, url, person, SCREENS[screen], touch=True)
    page.evaluate(RECORD_CLICKS)
    return page


def centre(page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).first.bounding_box()
    assert box, f"{selector} is not on the page"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def two_touches(page, selector: str, apart_ms: int) -> float:
    """Two real touches at the centre of ``selector`` as it is before the
    first, ``apart_ms`` apart (plus what a touch costs to send); returns the
    gap the page measured between the two clicks."""
    x, y = centre(page, selector)
    seen = page.evaluate("() => window.cxClicks.length")
    page.touchscreen.tap(x, y)
    if apart_ms:
        page.wait_for_timeout(apart_ms)
    page.touchscreen.tap(x, y)
    page.wait_for_function("n => window.cxClicks.length >= n + 2", arg=seen)
    first, second = page.evaluate("n => window.cxClicks.slice(n, n + 2)", seen)
    return second - first


def visit_ids(served) -> set[str]:
    return {r["id"] for r in db(served).query("SELECT id FROM visits")}


def taps_of(served, vid: str) -> list[tuple]:
    return [
        (r["kind"], r["ok"])
        for r in db(served).query(
            "SELECT kind, ok FROM taps WHERE visit_id = ? ORDER BY rowid", [vid]
        )
    ]


def selector(vid: str, what: str) -> str:
    return f".cx-card[data-visit='{vid}'] {what}"


def _double_tap_round(page, served, gift: int, apart: int) -> tuple[str | None, list[float]]:
    """A customer played with double taps ``apart`` ms apart: start, reason,
    marker, purchase. Returns the visit and the gaps the page measured, or no
    visit when a pair's gap fell outside the 500 ms window (a slow machine,
    not the pad: the round tests nothing)."""
    before = visit_ids(served)
    gaps = [two_touches(page, "[data-start=warm]", apart)]
    if gaps[0] >= 500:
        wait_all_saved(page)
        return None, gaps
    # Said in the fixed bar, where it moves no card under a finger.
    page.locator(".cx-bar .cx-hint", has_text="Double tap").wait_for(timeout=2_000)
    wait_all_saved(page)
    (vid,) = visit_ids(served) - before  # one visit, not two
    for what in (
        f"[data-tap=reason][data-value='{gift}']",
        "[data-tap=marker][data-value=used_name]",
        "[data-tap=purchase][data-value='2']",
    ):
        # The last pair's answer redraws the card: the next pair is aimed at
        # the card as a person sees it once it is drawn (CI, loaded, saw the
        # marker's two touches land where the button was before the redraw).
        pad_idle(page)
        gaps.append(two_touches(page, selector(vid, what), apart))
        if gaps[-1] >= 500:
            wait_all_saved(page)
            return None, gaps
    wait_all_saved(page)
    return vid, gaps


@pytest.mark.parametrize("screen", ["phone", "tablet"])
def test_a_double_tap_acts_once_and_taps_a_second_apart_act_twice(browser, served, screen):
    page = touch_device(browser, served, "ana", screen)
    # The pad and the server take the same window.
    assert page.evaluate("() => window.cxPad.DOUBLE_TAP_MS") == 500
    assert taps.DOUBLE_TAP.total_seconds() * 1000 == 500
    gift = next(r["id"] for r in db(served).query("SELECT id FROM reasons WHERE name = 'Gift'"))
    for apart in (0, 150, 300):
        # A loaded machine can send two touches meant 300 ms apart more than
        # 500 ms apart (CI saw 573 ms): such a round tests nothing, so it is
        # set aside and the round played again with a new customer, at most
        # three times.
        for _ in range(3):
            page.wait_for_timeout(500)  # the last customer was a moment ago
            vid, gaps = _double_tap_round(page, served, gift, apart)
            if vid:
                break
        else:
            pytest.fail(f"three rounds of touches {apart} ms apart missed the window: {gaps}")
        assert all(apart <= gap < 500 for gap in gaps), (apart, gaps)
        row = db(served)["visits"].get(vid)
        assert (row["first_engagement"], row["reason_id"], row["used_name"]) == ("warm", gift, 1)
        assert (row["outcome"], row["units"]) == ("purchased", 2)
        # Each double tap reached the server once; nothing else was tapped.
        assert taps_of(served, vid) == [("start", 1), ("reason", 1), ("marker", 1), ("purchase", 1)]

    # A second apart: two customers, and a marker on then off.
    before = visit_ids(served)
    gap = two_touches(page, "[data-start=neutral]", 1_000)
    wait_all_saved(page)
    assert gap >= 1_000
    assert len(visit_ids(served) - before) == 2
    vid = page.locator(".cx-card[data-open='1']").first.get_attribute("data-visit")
    two_touches(page, selector(vid, "[data-tap=marker][data-value=recommended]"), 1_000)
    wait_all_saved(page)
    assert taps_of(served, vid)[-2:] == [("marker", 1), ("marker", 1)]
    assert db(served)["visits"].get(vid)["recommended"] == 0
    # A reason's second touch a second later lands on the chip the reason
    # became, which shows the choices again: one reason tap, choices open.
    two_touches(page, selector(vid, f"[data-tap=reason][data-value='{gift}']"), 1_000)
    wait_all_saved(page)
    assert [k for k, _ in taps_of(served, vid)].count("reason") == 1
    assert page.locator(selector(vid, "[data-tap=reason]")).count() >= 6
    # An outcome's second touch a second later is taken as a touch of its own
    # (the pad acted on it), not as the end of a double tap.
    x, y = centre(page, selector(vid, "[data-tap=no_purchase]"))
    page.touchscreen.tap(x, y)
    wait_all_saved(page)
    page.wait_for_timeout(1_000)
    under = page.evaluate(
        "([x, y]) => !!document.elementFromPoint(x, y)?.closest('.cx-pad button')", [x, y]
    )
    assert under, "the second touch should land on a pad button"
    acted = page.evaluate("() => window.cxPad.state.lastTouch.at")
    page.touchscreen.tap(x, y)
    page.wait_for_function("t => window.cxPad.state.lastTouch.at > t", arg=acted)
    assert db(served)["visits"].get(vid)["outcome"] == "no_purchase"
    page.context.close()


def test_the_double_tap_rule(browser, served):
    """pad.js isRepeat and tapKey, driven directly."""
    page = touch_device(browser, served, "ben", "phone")
    result = page.evaluate(
        """() => {
          const {isRepeat, tapKey} = window.cxPad;
          const t = (at, key, x, y) => (x === undefined ? {at, key} : {at, key, x, y});
          const box = document.createElement('div');
          box.innerHTML = `<section data-visit="v1"><button data-tap="purchase" data-value="2">
                           </button></section><button data-start="warm"></button>`;
          return {
            same: [0, 150, 300, 499, 500, 1000].map(
              (ms) => isRepeat(t(1000, 'a'), t(1000 + ms, 'a'))),
            samePoint: isRepeat(t(0, 'a', 100, 100), t(200, 'b', 110, 115)),
            farPoint: isRepeat(t(0, 'a', 100, 100), t(200, 'b', 100, 160)),
            noPoint: isRepeat(t(0, 'a'), t(200, 'b', 100, 100)),
            first: isRepeat(null, t(0, 'a')),
            clockBack: isRepeat(t(1000, 'a'), t(900, 'a')),
            keys: [...box.querySelectorAll('button')].map(tapKey),
          };
        }"""
    )
    assert result == {
        "same": [True, True, True, True, False, False],
        "samePoint": True,
        "farPoint": False,
        "noPoint": False,
        "first": False,
        "clockBack": False,
        "keys": ["v1|data-tap=purchase|data-value=2", "|data-start=warm"],
    }
    page.context.close()


def test_two_open_cards_fit_a_phone_and_today_reads_one_line_a_row(browser, served, screenshot):
    page = touch_device(browser, served, "ben", "phone")
    for engagement, reason, close in (
        ("neutral", "Service or return", ("no_purchase",)),
        ("warm", "Replace or upgrade", ("purchase", "3")),
    ):
        vid = new_card(page, engagement)
        page.locator(selector(vid, "[data-tap=reason]"), has_text=reason).click()
        tap(page, vid, *close)
    # Two customers in progress, freshly started (their Undo in sight): the
    # tallest two open cards can be.
    first, second = new_card(page, "missed"), new_card(page, "warm")
    wait_all_saved(page)
    top, other = (second, first)  # newest first
    geometry = page.evaluate(
        """([top, other]) => {
          const findScroller = """
        + harness.FIND_SCROLLER
        + """;
          const box = (el) => el.getBoundingClientRect();
          const card = document.querySelector(`.cx-card[data-visit="${top}"]`);
          const scroller = findScroller(card.parentElement);
          const header = document.querySelector('[data-testid=stHeader]');
          const headerBottom = header ? box(header).bottom : 0;
          const startY = scroller.scrollTop;
          // One scroll: the first open card's top to just under the header.
          scroller.scrollTop += box(card).top - headerBottom;
          const np = document.querySelector(
            `.cx-card[data-visit="${other}"] [data-tap=no_purchase]`);
          const b = box(np), bar = box(document.querySelector('.cx-bar'));
          const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
          return {scrolled: scroller.scrollTop - startY, screen: innerHeight,
                  npBottom: b.bottom, barTop: bar.top, headerBottom, hit: hit === np,
                  span: b.bottom - box(card).top};
        }""",
        [top, other],
    )
    screenshot(page, "log-phone-two-open-cards")
    print(f"two open cards: {geometry}")  # shown with -s: the figures of the #24 note
    assert 0 < geometry["scrolled"] < geometry["screen"], geometry
    assert geometry["npBottom"] <= geometry["barTop"], geometry
    assert geometry["hit"], geometry
    # Room to spare: both cards' choices span less than the screen between
    # Streamlit's header and the pad's bar.
    assert geometry["span"] <= geometry["barTop"] - geometry["headerBottom"], geometry

    page.locator(".cx-today summary").click()
    rows = page.locator(".cx-today-row")
    assert rows.count() >= 2
    heights = rows.evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
    assert all(48 <= h < 60 for h in heights), heights  # one line each
    assert page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]") == [390, 390]
    # A tap on a row shows its whole line and its actions.
    row = rows.first
    row.locator("[data-act=today-more]").click()
    row.locator("[data-tap=reopen]").wait_for(timeout=2_000)
    assert row.locator("[data-act=followup]").count() == 1
    screenshot(page, "log-phone-today")
    page.context.close()
