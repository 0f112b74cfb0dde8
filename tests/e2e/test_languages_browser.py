"""The store's language in Chromium (issue #29): the Log page and the
dashboard in German (a device's own choice) and in French (the chain's
language) at 390 × 844 and 820 × 1180: no sideways scroll, every control
48 px, no label cut off, and no English left (each page against the same page
in English). Then who picks: a device's choice survives a reload, and a change
of the store's language reaches a tablet at its next board refresh, without a
reload. Screenshots land in tests/e2e/screenshots."""

from __future__ import annotations

import re

import pytest
from babel.dates import get_day_names, get_month_names
from babel.messages.pofile import read_po

from cxlog.language import words
from cxlog.storage import settings
from tests.conftest import MANAGER_PASSWORD
from tests.e2e.harness import (
    PHONE,
    TABLET,
    by_key,
    new_card,
    pad_idle,
    sign_in_with_password,
    tap,
    wait_idle,
)
from tests.e2e.touch import small_controls
from tests.helpers.rows import six_weeks

pytestmark = pytest.mark.browser
VIEWPORTS = {"phone": PHONE, "tablet": TABLET}
CHARTS = 6

# Text a person reads: every visible text on the page, the charts' SVG text
# line by line, and the tap pad's own labels for screen readers. Left out:
# icon ligatures (Streamlit draws ":material/undo:" as the text "undo" in an
# icon font) and the chart toolbar's hidden tooltips.
PAGE_TEXT = """() => {
  const parts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const holder = node.parentElement;
    if (!holder || !node.data.trim()) continue;
    if (holder.closest('script, style, [data-testid=stIconMaterial], .modebar')) continue;
    if (/Material Symbols|Material Icons/.test(getComputedStyle(holder).fontFamily)) continue;
    if (!holder.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    const box = holder.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1) continue;  // visually hidden (a skip link)
    parts.push(node.data);
  }
  for (const el of document.querySelectorAll('.cx-pad [aria-label], .cx-pad [placeholder]')) {
    for (const a of ['aria-label', 'placeholder']) {
      if (el.getAttribute(a)) parts.push(el.getAttribute(a));
    }
  }
  return parts.join('\\n');
}"""

# A control or label whose text does not fit its box (a German word cut off).
# The Today rows are one line by design (cut with an ellipsis, the whole line
# on a tap: issue #24).
CUT_OFF = """() => {
  const out = [];
  const sel = 'button, [role=tab], label, summary, [data-baseweb=select] > div,'
    + ' .cx-pad h3, .cx-pad p';
  for (const el of document.querySelectorAll(sel)) {
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    const skip = '.cx-today-item, [data-testid=stDataFrame], [inert], [aria-hidden=true]';
    if (el.closest(skip)) continue;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) continue;
    const style = getComputedStyle(el);
    const clips = style.overflowX !== 'visible' || style.textOverflow === 'ellipsis';
    if (el.scrollWidth > el.clientWidth + 1 && (clips || r.right > innerWidth + 1)) {
      out.push({text: el.innerText.slice(0, 40), scroll: el.scrollWidth, client: el.clientWidth});
    }
    for (const c of el.querySelectorAll('div, span, p')) {
      if (!c.childElementCount && c.textContent.trim() && c.scrollWidth > c.clientWidth + 1
          && getComputedStyle(c).textOverflow === 'ellipsis') {
        out.push({text: c.textContent.slice(0, 40), scroll: c.scrollWidth, client: c.clientWidth});
      }
    }
  }
  return out;
}"""


def words_of(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]{3,}", text)}


def language_words(lang: str) -> set[str]:
    """Every word the language's catalog writes (a German sentence may use a
    word English uses too: "Team", "Name"), and its month and day names."""
    with words.catalog_file(lang).open("rb") as fp:
        catalog = read_po(fp, locale=lang)
    found: set[str] = set()
    for names in (get_month_names, get_day_names):
        for width in ("abbreviated", "wide"):
            found |= words_of(" ".join(names(width, locale=lang).values()))
    for message in catalog:
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        for text in strings:
            found |= words_of(text or "")
    return found


def english_left(page_text: str, english_text: str, lang: str, data_words: set[str]) -> set[str]:
    """English page words still on the translated page, less the language's
    own words and the store's data (names)."""
    return (words_of(page_text) & words_of(english_text)) - language_words(lang) - data_words


@pytest.fixture(scope="module")
def month(served):
    """Six weeks of visits for Ana and Ben, none today: every dashboard chart draws."""
    six_weeks(served, 400, from_days_ago=1)
    return served


def data_words(served) -> set[str]:
    """Names the store gave (associates, store) and cxlog's own name."""
    return {"ana", "ben", "corner", "shop", "cxlog"}


def new_device(browser, served, viewport, cookie: str | None):
    context = browser.new_context(viewport=viewport, locale="en-US")
    if cookie:
        context.add_cookies([{"name": words.DEVICE_COOKIE, "value": cookie, "url": served["url"]}])
    return context


def log_page(browser, served, viewport, cookie: str | None):
    """A signed-in tablet or phone with an open visit and a closed one in Today."""
    context = new_device(browser, served, viewport, cookie)
    page = context.new_page()
    page.goto(served["url"])
    page.locator(f"[data-associate='{served['ana']}']").click()
    page.locator("[data-start=warm]").wait_for(timeout=15_000)
    closed = new_card(page, "neutral")
    tap(page, closed, "no_purchase")
    new_card(page, "warm")
    # Saved, in any language: the bar's counts, not its words.
    page.wait_for_function(
        """() => document.querySelector('.cx-bar[data-waiting="0"][data-offline="0"]')
              && [...document.querySelectorAll('.cx-card')]
                   .every(c => c.dataset.state === 'saved')""",
        timeout=10_000,
    )
    pad_idle(page)
    page.locator(".cx-today summary").click()
    wait_idle(page)
    return context, page


def dashboard_page(browser, served, viewport, cookie: str | None):
    context = new_device(browser, served, viewport, cookie)
    page = context.new_page()
    page.goto(f"{served['url']}/dashboard?period=last_30")
    wait_idle(page)
    sign_in_with_password(page, MANAGER_PASSWORD)
    page.wait_for_function(
        "n => { const charts = [...document.querySelectorAll('.stPlotlyChart')];"
        " return charts.length >= n && charts.every(c => c.querySelector('.main-svg')); }",
        arg=CHARTS,
        timeout=30_000,
    )
    wait_idle(page)
    return context, page


PAGES = {"log": log_page, "dashboard": dashboard_page}


def look(page, width: int) -> dict:
    return {
        "scroll": page.evaluate("() => document.documentElement.scrollWidth") - width,
        "small": small_controls(page),
        "cut": page.evaluate(CUT_OFF),
        "text": page.evaluate(PAGE_TEXT),
    }


def each_screen(page):
    """The page on a phone, then (the same page, resized) on a tablet: one
    sign-in and one visit per page and language keeps the test short."""
    for view_name, viewport in VIEWPORTS.items():
        if page.viewport_size != viewport:
            page.set_viewport_size(viewport)
            page.wait_for_timeout(600)  # the charts redraw at the new width
            wait_idle(page)
        yield view_name, viewport


def english_pages(browser, served) -> dict:
    texts = {}
    for page_name, opener in PAGES.items():
        context, page = opener(browser, served, PHONE, "en")
        for view_name, viewport in each_screen(page):
            texts[page_name, view_name] = look(page, viewport["width"])["text"]
        context.close()
    return texts


def test_log_page_and_dashboard_in_german_and_french(browser, month, screenshot):
    storage = month["storage"]
    english = english_pages(browser, month)
    # German: each device's own choice. French: the chain's language, no cookie.
    problems = []
    for lang, cookie in (("de", "de"), ("fr", None)):
        if cookie is None:
            settings.set_language(storage, lang, actor="test")
        try:
            for page_name, opener in PAGES.items():
                context, page = opener(browser, month, PHONE, cookie)
                for view_name, viewport in each_screen(page):
                    seen = look(page, viewport["width"])
                    screenshot(page, f"language-{lang}-{page_name}-{view_name}")
                    where = f"{lang} {page_name} {view_name}"
                    if seen["scroll"] > 0:
                        problems.append(f"{where}: {seen['scroll']} px sideways scroll")
                    if seen["small"]:
                        problems.append(f"{where}: under 48 px: {seen['small']}")
                    if seen["cut"]:
                        problems.append(f"{where}: cut off: {seen['cut']}")
                    left = english_left(
                        seen["text"], english[page_name, view_name], lang, data_words(month)
                    )
                    if left:
                        problems.append(f"{where}: English left: {sorted(left)}")
                    assert page.locator("[data-testid='stException']").count() == 0
                context.close()
        finally:
            if cookie is None:
                settings.set_language(storage, None, actor="test")
    assert problems == [], "\n".join(problems)


def test_a_device_s_choice_survives_a_reload_and_a_store_s_change_reaches_the_pad(browser, served):
    storage, store = served["storage"], served["store"]
    with words.using("de"):
        warm_de = words._("Warm")
    with words.using("es"):
        warm_es = words._("Warm")
        who_es = words._("Who is logging?")
    with words.using("fr"):
        warm_fr = words._("Warm")
    assert len({warm_de, warm_es, warm_fr, "Warm"}) == 4  # the test can tell them apart

    context = new_device(browser, served, TABLET, None)
    page = context.new_page()
    page.goto(served["url"])
    page.locator(f"[data-associate='{served['ben']}']").click()
    start = page.locator("[data-start=warm]")
    start.wait_for(timeout=15_000)
    assert start.inner_text() == "Warm"
    page.evaluate("() => { window.cxSamePage = true; }")
    try:
        # The store fixes German: the tablet follows at its next board refresh
        # (every 5 s), drawn again without a reload.
        settings.set_store_language(storage, store, "de", actor="test")
        page.wait_for_function(
            "w => document.querySelector('[data-start=warm]')?.innerText === w",
            arg=warm_de,
            timeout=20_000,
        )
        assert page.evaluate("() => window.cxSamePage") is True

        # This device picks Spanish for itself: at once, and after a reload.
        # Streamlit's select box is a combo box: the arrow key lists its options.
        by_key(page, "language_pick").get_by_role("combobox").click()
        page.keyboard.press("ArrowDown")
        page.get_by_role("option", name="Español").click()
        page.wait_for_function(
            "w => document.querySelector('[data-start=warm]')?.innerText === w",
            arg=warm_es,
            timeout=15_000,
        )
        page.reload()
        start.wait_for(timeout=15_000)
        assert start.inner_text() == warm_es

        # A change of the store's language leaves a device's own choice alone.
        settings.set_store_language(storage, store, "fr", actor="test")
        # The 5 s tick brought German above; a board read now brings this.
        page.evaluate("() => window.cxPad.refresh()")
        page.wait_for_function("() => window.cxPad.state.boardLang === 'fr'", timeout=15_000)
        # The pad heard the store's French and asked for no redraw in it.
        assert page.evaluate("() => window.cxPad.state.askedLanguage") != "fr"
        assert start.inner_text() == warm_es

        # "Not you?": the who-is-logging screen speaks the device's language too.
        page.locator("[data-act=not-you]").click()
        page.locator(".cx-who h1").wait_for(timeout=15_000)
        assert page.locator(".cx-who h1").inner_text() == who_es
    finally:
        settings.set_store_language(storage, store, None, actor="test")
        context.close()


def test_a_new_device_starts_in_its_browser_s_language(browser, served):
    """Nothing fixed for the store or the chain: a browser set to Spanish opens
    the Log page in Spanish (st.context.locale), one set to Japanese, which
    cxlog does not speak, in English."""
    with words.using("es"):
        who_es = words._("Who is logging?")
    for locale, expected in (("es-ES", who_es), ("ja-JP", "Who is logging?")):
        context = browser.new_context(viewport=PHONE, locale=locale)
        page = context.new_page()
        page.goto(served["url"])
        page.locator(".cx-who h1").wait_for(timeout=15_000)
        assert page.locator(".cx-who h1").inner_text() == expected, locale
        context.close()
