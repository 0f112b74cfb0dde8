"""The coverage views in Chromium against the real server (#13), at 1280 and
820 px: the dashboard's coverage tiles, low-coverage warning and hour ×
weekday view, and the Imports page; nothing wider than the screen, every
button at least 48 px. Screenshots land in tests/e2e/screenshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cxlog.coverage import traffic, traffic_demo
from tests.conftest import MANAGER_PASSWORD
from tests.e2e.harness import TABLET, sign_in_with_password, wait_idle
from tests.helpers.rows import insert, visit

pytestmark = pytest.mark.browser
VIEWPORTS = {"laptop": {"width": 1280, "height": 800}, "tablet": TABLET}


@pytest.fixture(scope="module")
def counted(served):
    """Five weeks of visits, with counter hours and POS days that fit them
    (the demo's: ~80% logged), at a 90% threshold so the warning shows."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rows = []
    for i in range(900):
        engagement = ("warm", "neutral", "missed")[i % 3]
        bought = i % 3 != 2
        at = now - timedelta(days=1 + i % 35)
        rows.append(
            {
                **visit(
                    served["store"],
                    served["ana"] if i % 2 else served["ben"],
                    engagement,
                    "purchased" if bought else "no_purchase",
                    1 + i % 3 if bought else None,
                ),
                "at": at.replace(hour=9 + (i * 7) % 11, minute=i % 60),
            }
        )
    insert(served["storage"], rows)
    traffic_demo.add(served["storage"], seed=3)
    traffic.save_counter_settings(
        served["storage"], served["store"], traffic.CounterSettings(False, 0, 0.9), actor="test"
    )
    return served


def sign_in(page, heading: str) -> None:
    # The manager sign-in of #11: pick the role, submit, one reload for the cookie.
    sign_in_with_password(page, MANAGER_PASSWORD)
    page.get_by_role("heading", name=heading).first.wait_for()
    wait_idle(page, 60_000)  # the machine may be busy; the page is heavy


def fits(page, width: int, touch: bool = False) -> None:
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    for left, right in page.locator(
        ".stPlotlyChart, [data-testid='stTable'], [data-testid='stMetric']"
    ).evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.left, r.right]; })"
    ):
        assert left >= 0 and right <= width
    if not touch:  # the dashboard's own controls predate #13
        return
    # A button with tabindex -1 is part of a larger control (a select box's
    # arrow) whose target is the whole control.
    buttons = page.locator("[data-testid='stMain'] button:not([tabindex='-1'])")
    for height, shown, what in buttons.evaluate_all(
        "els => els.map(e => [e.getBoundingClientRect().height, e.offsetParent !== null,"
        " e.outerHTML.slice(0, 120)])"
    ):
        assert not shown or height >= 48, what


@pytest.mark.parametrize("name", list(VIEWPORTS))
def test_coverage_views(browser, counted, screenshot, name):
    width = VIEWPORTS[name]["width"]
    context = browser.new_context(viewport=VIEWPORTS[name])
    page = context.new_page()
    page.goto(f"{counted['url']}/dashboard?period=last_30")
    wait_idle(page, 60_000)  # the machine may be busy; the page is heavy
    sign_in(page, "Dashboard")
    page.get_by_role("heading", name="Logging coverage, hour × weekday").wait_for()
    page.wait_for_function(
        "() => document.querySelector('.st-key-chart-coverage .main-svg') !== null",
        timeout=60_000,
    )
    wait_idle(page, 60_000)  # the machine may be busy; the page is heavy
    text = page.inner_text("body")
    assert "Logging coverage" in text and "POS conversion" in text
    assert "Units per transaction" in text
    assert "rest on partial logging" in text and "(threshold 90%)" in text
    fits(page, width)
    screenshot(page, f"coverage-dashboard-{name}")

    page.goto(f"{counted['url']}/imports")
    wait_idle(page, 60_000)  # the machine may be busy; the page is heavy
    # Still signed in: the manager's session outlives the page change (#11).
    page.get_by_role("heading", name="Imports").first.wait_for()
    page.get_by_role("heading", name="Last 30 days").wait_for()
    # Widgets whose code loads on first use: drawn, not placeholders, before measuring.
    for part in ("stFileUploaderDropzone", "stCheckbox", "stNumberInput", "stTable"):
        page.locator(f"[data-testid='{part}']").first.wait_for(timeout=60_000)
    page.locator("[data-testid='stTable'] table").wait_for(timeout=60_000)
    wait_idle(page, 60_000)  # the machine may be busy; the page is heavy
    text = page.inner_text("body")
    assert ("Coverage" in text and "Counter silent" in text) or "Logged visits without" in text
    fits(page, width, touch=True)
    screenshot(page, f"coverage-imports-{name}")
    context.close()
