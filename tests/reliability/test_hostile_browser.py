"""Hostile names as Chromium renders them on the Log page (issue #7): the
text a manager typed appears exactly as typed — no bold, link, image, icon,
formula or script — and the page fetches nothing from elsewhere."""

from __future__ import annotations

import time

import pytest

from cxlog.stores import catalog
from tests.conftest import set_up
from tests.e2e.harness import TABLET, streamlit_server

pytestmark = pytest.mark.browser

NAMES = [
    "**Bold** <b>x</b>",
    "![i](http://evil.example/p.png)",
    "[x](javascript:alert(1))",
    "www.evil.example",
    "ana@evil.example",
    ":material/home: $x^2$ :smile:",
    ":red[Red] ~~gone~~ `code`",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "\u202eanA\u202c 👩🏽‍💼",
]
STORE = "# Shop <i>x</i> & =cmd|' /C calc'!A0"
REASON = '=HYPERLINK("http://evil.example")'
# Elements that markup in a name would have produced inside its label.
MARKUP = "a, img, b, i, strong, em, del, code, h1, script, .katex, [data-testid=stIconMaterial]"
TYPED_MARKUP = MARKUP.replace("a, ", "a:not([href^='#']), ").replace("strong, ", "")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, password_hashes):
    folder = tmp_path_factory.mktemp("hostile")
    storage, store = set_up(folder / "cxlog.db", password_hashes, STORE)
    ids = [catalog.add_associate(storage, store, name, actor="test") for name in NAMES]
    gift = next(r["id"] for r in catalog.list_reasons(storage, "reason") if r["name"] == "Gift")
    catalog.rename_reason(storage, gift, REASON, actor="test")
    with streamlit_server(storage.path, log=folder / "server.log") as url:
        yield {"url": url, "ids": ids}


def text(locator, timeout_s: float = 15) -> str:
    """What a person reads, without the invisible joiners and bidi isolates.
    Labels render through a lazily loaded markdown component: on a busy
    machine a button can be on the page a moment before its text is."""
    invisible = str.maketrans("", "", "\u2060\u2068\u2069")
    deadline = time.monotonic() + timeout_s
    while True:
        shown = locator.inner_text().translate(invisible).strip()
        if shown or time.monotonic() > deadline:
            return shown
        time.sleep(0.1)


def test_hostile_names_render_as_typed_and_nothing_runs(browser, hostile, screenshot):
    dialogs, elsewhere = log_with_hostile_names(browser, hostile, screenshot)
    assert dialogs == []  # no script a name smuggled in opened an alert
    assert elsewhere == []  # and nothing was fetched from another host


def log_with_hostile_names(browser, hostile: dict, screenshot) -> tuple[list[str], list[str]]:
    """Logs a visit as a hostile-named associate with a hostile reason, checking
    each screen shows the names as typed; returns the dialogs the page opened
    and the addresses it fetched elsewhere."""
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    elsewhere: list[str] = []
    page.on("request", lambda r: None if "127.0.0.1" in r.url else elsewhere.append(r.url))
    try:
        page.goto(hostile["url"])
        buttons = [page.locator(f"[data-associate='{i}']") for i in hostile["ids"]]
        buttons[0].wait_for(timeout=15_000)
        assert [text(b) for b in buttons] == NAMES
        assert page.locator(".cx-names").locator(MARKUP).count() == 0
        screenshot(page, "reliability-hostile-who")

        buttons[1].click()  # the pad signs in over HTTP and reloads the page
        page.locator("[data-start=warm]").wait_for(timeout=15_000)
        assert text(page.locator(".cx-whobar h3")) == f"{NAMES[1]} · {STORE}"
        page.locator("[data-start=warm]").click()
        card = page.locator(".cx-card").first
        card.wait_for()
        assert text(card.locator(".cx-head .cx-caption")).endswith(f" · {NAMES[1]}")
        gift = card.locator("[data-tap=reason]").first  # the renamed Gift
        assert text(gift) == REASON
        gift.click()
        card.locator("[data-tap=purchase][data-value='1']").click()
        card.get_by_text("Saved: purchase, 1 unit", exact=True).wait_for(timeout=10_000)
        page.reload()  # the Today list comes with the page
        page.get_by_text("Today: 1 closed visit").click(timeout=15_000)
        today = page.locator(".cx-today-row span").first
        today.wait_for()
        assert text(today).endswith(f" · Warm · {REASON} · 1 unit · {NAMES[1]}")
        # The page's own markup is all there is: nothing links away, loads an
        # image, or styles a name.
        main = page.locator("[data-testid='stMain']")
        assert main.locator("a:not([href^='#']), img, script").count() == 0
        assert page.locator(".cx-pad").locator(TYPED_MARKUP).count() == 0
        screenshot(page, "reliability-hostile-log")
    finally:
        context.close()
    return dialogs, elsewhere
