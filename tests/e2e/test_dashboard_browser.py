"""The Dashboard in Debian's Chromium against the real server, on a laptop
(1280×800) and a tablet (820×1180): charts drawn, nothing cut off, filters
kept in the URL across a refresh (#5). Screenshots land in tests/e2e/screenshots."""

from __future__ import annotations

import pytest

from cxlog.core.model import NO_SALE_REASON, REASON
from cxlog.stores import catalog
from tests.conftest import MANAGER_PASSWORD
from tests.e2e.harness import TABLET, by_key, sign_in_with_password, wait_idle
from tests.helpers.rows import six_weeks

pytestmark = pytest.mark.browser
LAPTOP = {"width": 1280, "height": 800}
VIEWPORTS = {"laptop": LAPTOP, "tablet": TABLET}
CHARTS = 6  # engagement, depth, reason, no-sale, trend, heatmap


@pytest.fixture(scope="module")
def month(served):
    """Six weeks of visits for Ana and Ben (London, noon UTC ± hours): every chart
    has enough to draw."""
    six_weeks(served)
    return served


def sign_in(page) -> None:
    sign_in_with_password(page, MANAGER_PASSWORD)
    page.get_by_role("heading", name="Dashboard").wait_for()
    wait_idle(page)


def drawn(page) -> None:
    """Every chart has painted its plot area."""
    page.get_by_role("heading", name="Team").wait_for()
    # Plotly draws two .main-svg layers per chart: wait for n charts that each
    # have one, not for n layers.
    page.wait_for_function(
        "n => { const charts = [...document.querySelectorAll('.stPlotlyChart')];"
        " return charts.length >= n && charts.every(c => c.querySelector('.main-svg')); }",
        arg=CHARTS,
    )
    wait_idle(page)


@pytest.mark.parametrize("name", list(VIEWPORTS))
def test_dashboard_fits_the_screen(browser, month, screenshot, name):
    context = browser.new_context(viewport=VIEWPORTS[name])
    page = context.new_page()
    page.goto(f"{month['url']}/dashboard?period=last_30")
    wait_idle(page)
    sign_in(page)
    drawn(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator(".stPlotlyChart").count() == CHARTS
    width = VIEWPORTS[name]["width"]
    # Nothing wider than the screen: no sideways scrolling, no chart or table cut.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    for box in page.locator(".stPlotlyChart, [data-testid='stTable']").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [r.left, r.right, e.scrollWidth, e.clientWidth]; })"
    ):
        left, right, scroll, client = box
        assert left >= 0 and right <= width
        assert scroll <= client + 1
    text = page.inner_text("body")
    assert "converted" in text and "closed visits" in text
    screenshot(page, f"dashboard-{name}")
    context.close()


def test_filters_survive_a_refresh(browser, month):
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.goto(f"{month['url']}/dashboard")
    wait_idle(page)
    sign_in(page)
    by_key(page, "dash_period").get_by_role("button", name="Last 7 days").or_(
        by_key(page, "dash_period").get_by_role("radio", name="Last 7 days")
    ).first.click()
    page.wait_for_url("**period=last_7**")
    wait_idle(page)
    page.get_by_text("Last 7 days:", exact=False).first.wait_for()

    page.reload()
    wait_idle(page)
    assert "period=last_7" in page.url
    page.get_by_role("heading", name="Dashboard").wait_for()  # still signed in (#11)
    page.get_by_text("Last 7 days:", exact=False).first.wait_for()
    assert "period=last_7" in page.url
    context.close()


# Typed by a manager: names that would be a link, an image or live HTML if
# any part of the page read them as markdown or HTML (#11).
LINK = "[won](http://evil.example)"
IMAGE = "![x](http://evil.example/a.png)"
HTML = "<a href=//evil.example>Ana</a><img src=x onerror=alert(1)>"  # within 60
# Anything the page made of them: a link or image to the evil site, or the img.
MADE = "a[href*='evil.example'], img[src*='evil.example'], img[src='x']"


def hover_texts(page, chart_key: str) -> list[str]:
    """Move the mouse to the middle of every bar of one chart; the text of every
    hover label plotly shows on the way."""
    chart = by_key(page, chart_key)
    chart.scroll_into_view_if_needed()
    texts: set[str] = set()
    bars = chart.locator("g.point path")
    for i in range(min(bars.count(), 12)):
        box = bars.nth(i).bounding_box()
        if not box:
            continue
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        label = chart.locator(".hoverlayer .hovertext")
        label.first.wait_for(timeout=5_000)
        texts.update(label.all_text_contents())
        assert chart.locator(MADE).count() == 0  # checked while the label is up
        page.mouse.move(0, 0)  # off the chart: the next bar's label is its own
    return sorted(texts)


def test_hostile_names_stay_text_in_the_team_table_and_chart_hovers(browser, month, screenshot):
    """Runs last: renames Ana, Ben, a reason and a no-sale reason, then puts
    them back."""
    storage = month["storage"]
    names = {
        "ana": catalog.get_associate(storage, month["ana"])["name"],
        "ben": catalog.get_associate(storage, month["ben"])["name"],
    }
    reasons = {1: IMAGE, 7: HTML}  # Gift; the first no-sale reason (default ids)
    before = {
        r["id"]: r["name"]
        for kind in (REASON, NO_SALE_REASON)
        for r in catalog.list_reasons(storage, kind, active_only=False)
        if r["id"] in reasons
    }
    dialogs = []
    try:
        catalog.rename_associate(storage, month["ana"], HTML, actor="test")
        catalog.rename_associate(storage, month["ben"], LINK, actor="test")
        for reason_id, name in reasons.items():
            catalog.rename_reason(storage, reason_id, name, actor="test")
        context = browser.new_context(viewport=LAPTOP)
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{month['url']}/dashboard?period=last_30")
        wait_idle(page)
        sign_in(page)
        drawn(page)
        table = "\n".join(page.locator("[data-testid='stTable']").all_inner_texts())
        # Shown as typed; the word joiners (U+2060) that keep a name from
        # turning into an autolink are invisible.
        table = table.replace("\u2060", "")
        assert HTML in table and LINK in table
        assert page.locator(MADE).count() == 0
        reason_hovers = hover_texts(page, "chart-reason")
        assert any(IMAGE in t for t in reason_hovers), reason_hovers
        no_sale_hovers = hover_texts(page, "chart-no-sale")
        assert any(HTML in t for t in no_sale_hovers), no_sale_hovers
        ticks = page.locator(".st-key-chart-no-sale .ytick").all_text_contents()
        assert HTML in ticks, ticks
        assert page.locator(MADE).count() == 0 and dialogs == []
        screenshot(page, "dashboard-hostile-names")
        context.close()
    finally:
        catalog.rename_associate(storage, month["ana"], names["ana"], actor="test")
        catalog.rename_associate(storage, month["ben"], names["ben"], actor="test")
        for reason_id, name in before.items():
            catalog.rename_reason(storage, reason_id, name, actor="test")
