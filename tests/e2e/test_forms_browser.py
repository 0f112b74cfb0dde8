"""Every form of cxlog walked at 390 × 844 in Chromium, twice (#11): once
typing each field and pressing Tab to the next, then a tap on the button;
once typing and pressing Enter in the last text or number field. Both must
save exactly what was typed (the first-run page once said "A password needs
at least 8 characters" after Tab, although 16 were typed).

Forms whose only fields are pickers (a currency, a focus behaviour and day)
have nothing to press Enter in: they are walked with Tab only. The setup
form is walked with Tab in test_security_browser.py and with Enter here; the
sign-in with Enter there and with Tab here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cxlog.access import accounts, credentials, first_run
from cxlog.calendar import localday
from cxlog.coaching import goals
from cxlog.core.model import REASON
from cxlog.core.roles import MANAGER, OWNER
from cxlog.coverage import traffic
from cxlog.followups import followups
from cxlog.storage import settings
from cxlog.storage.db import Storage
from cxlog.stores import catalog
from cxlog.visits import visits
from tests.conftest import OWNER_PASSWORD, log_visit_in
from tests.e2e import harness
from tests.e2e.harness import PHONE, by_key, open_tab, wait_idle

pytestmark = pytest.mark.browser

TAB, ENTER = "tab", "enter"


@dataclass
class Form:
    """One form: where it is, what to type (per walk), how to send it, and
    how to tell from the database that what was typed was saved."""

    name: str
    path: str
    fields: Callable[[str], list[tuple[str, str]]]  # walk -> [(widget key, text)]
    saved: Callable[[Storage, dict, str], bool]
    submit: str  # the submit button's widget key, or its label
    tab: str | None = None
    before: Callable[[object, dict, str], None] | None = None  # pickers first
    walks: tuple[str, ...] = (TAB, ENTER)


def _names(storage: Storage, store: int) -> set[str]:
    return {a["name"] for a in catalog.list_associates(storage, store)}


def _reasons(storage: Storage, kind: str) -> set[str]:
    return {r["name"] for r in catalog.list_reasons(storage, kind, active_only=False)}


def _pin_is(storage: Storage, associate: int, pin: str) -> bool:
    with storage.read() as db:
        (stored,) = db.execute(
            "SELECT pin_hash FROM associates WHERE id = ?", [associate]
        ).fetchone()
    return credentials.verify_secret(pin, stored)


def _password_is(storage: Storage, login: str, password: str) -> bool:
    return credentials.verify_secret(password, accounts.find(storage, login)["password_hash"])


def _pick(key: str, option: int, shows: str | None = None) -> Callable:
    """Open the select box with this key and take its option number ``option``;
    with ``shows``, wait for that text, which the rerun of the pick draws (the
    form below is then the picked entry's: a form filled before that rerun
    was sent for the entry picked before, once in CI)."""

    def before(page, _seed: dict, _walk: str) -> None:
        # Streamlit 1.67's select box is a combo box: the arrow key lists the
        # options (a tap on its "Open" button did not, lower on a long page).
        by_key(page, key).get_by_role("combobox").click()
        page.keyboard.press("ArrowDown")
        page.get_by_role("option").nth(option).click()
        if shows is not None:
            page.get_by_text(shows, exact=True).wait_for(timeout=15_000)
            wait_idle(page)

    return before


def _pick_second_visit(page, seed: dict, walk: str) -> None:
    if walk == ENTER:  # the Tab walk voided the newest visit: void the one before
        _pick("visits-pick", 1)(page, seed, walk)
        wait_idle(page)


def _forms(seed: dict) -> list[Form]:
    ana, newest, older = seed["ana"], seed["newest"], seed["older"]
    value = {TAB: "Tab", ENTER: "Enter"}
    return [
        Form(
            "add associate",
            "settings",
            lambda w: [("new-associate", f"Dana {value[w]}")],
            lambda s, d, w: f"Dana {value[w]}" in _names(s, d["store"]),
            "add-associate",
        ),
        Form(
            "rename associate",
            "settings",
            lambda w: [("rename-associate", f"Ana {value[w]}")],
            lambda s, d, w: catalog.get_associate(s, d["ana"])["name"] == f"Ana {value[w]}",
            "rename-associate-save",
        ),
        Form(
            "associate PIN",
            "settings",
            lambda w: [("associate-pin", "2468" if w == TAB else "13579")],
            lambda s, d, w: _pin_is(s, ana, "2468" if w == TAB else "13579"),
            "associate-pin-save",
        ),
        *[
            form
            for kind in ("reason", "no_sale_reason")
            for form in (
                Form(
                    f"add {kind}",
                    "settings",
                    lambda w, kind=kind: [(f"new-{kind}", f"{kind} {value[w]}")],
                    lambda s, d, w, kind=kind: f"{kind} {value[w]}" in _reasons(s, kind),
                    f"add-{kind}",
                    tab="Lists",
                ),
                Form(
                    f"rename {kind}",
                    "settings",
                    lambda w, kind=kind: [(f"rename-{kind}", f"First {kind} {value[w]}")],
                    lambda s, d, w, kind=kind: f"First {kind} {value[w]}" in _reasons(s, kind),
                    f"rename-{kind}-save",
                    tab="Lists",
                ),
            )
        ],
        Form(
            "store",
            "settings",
            lambda w: [(f"store-name-{seed['store']}", f"Corner {value[w]}")],
            lambda s, d, w: catalog.get_store(s, d["store"])["name"] == f"Corner {value[w]}",
            "store-save",
            tab="Store",
        ),
        Form(
            "idle time",
            "settings",
            lambda w: [("idle-minutes", "45" if w == TAB else "60")],
            lambda s, d, w: settings.idle_minutes(s) == (45 if w == TAB else 60),
            "idle-save",
            tab="Access",
        ),
        Form(
            "own password",  # issue #28: the signed-in owner's own account
            "settings",
            lambda w: [("password-own", f"owner-{w}-2468")],
            lambda s, d, w: _password_is(s, OWNER, f"owner-{w}-2468"),
            "password-own-save",
            tab="Access",
        ),
        Form(
            "reset a password",  # Settings → Accounts: the manager's account
            "settings",
            lambda w: [("account-reset-password", f"manager-{w}-2468")],
            lambda s, d, w: _password_is(s, MANAGER, f"manager-{w}-2468"),
            "account-reset",
            tab="Accounts",
            before=_pick("account-pick", 1, shows="Yes, retire manager"),
        ),
        Form(
            "follow-up window",
            "settings",
            lambda w: [(f"followup-window-{seed['store']}", "9" if w == TAB else "12")],
            lambda s, d, w: followups.window_days(s, d["store"]) == (9 if w == TAB else 12),
            "Save window",
            tab="Follow-ups",
        ),
        Form(
            "goals",
            "settings",
            lambda w: [("goal-warm", "55" if w == TAB else "65"), ("goal-ups", "1.8")],
            lambda s, d, w: (
                (g := goals.store_goals(s, d["store"])).warm_rate is not None
                and abs(g.warm_rate - (0.55 if w == TAB else 0.65)) < 1e-9
                and abs(g.units_per_sale - 1.8) < 1e-9
            ),
            "goals-save",
            tab="Coaching",
        ),
        Form(
            "currency",
            "settings",
            lambda w: [],
            lambda s, d, w: goals.store_goals(s, d["store"]).currency is not None,
            "currency-save",
            tab="Coaching",
            before=_pick("store-currency", 0),
            walks=(TAB,),
        ),
        Form(
            "add behaviour",
            "settings",
            lambda w: [("behaviour-name", f"Offer water {value[w]}")],
            lambda s, d, w: (
                f"Offer water {value[w]}"
                in {b["name"] for b in goals.list_behaviours(s, active_only=False)}
            ),
            "behaviour-add",
            tab="Coaching",
        ),
        Form(
            "focus",
            "settings",
            lambda w: [],
            lambda s, d, w: goals.focus_on(s, d["store"], d["today"]) is not None,
            "focus-save",
            tab="Coaching",
            before=_pick("focus-behaviour", 0),
            walks=(TAB,),
        ),
        Form(
            "rename behaviour",
            "settings",
            lambda w: [("behaviour-rename", f"Greet {value[w]}")],
            lambda s, d, w: (
                f"Greet {value[w]}"
                in {b["name"] for b in goals.list_behaviours(s, active_only=False)}
            ),
            "behaviour-rename-save",
            tab="Coaching",
        ),
        Form(
            "counter settings",
            "imports",
            lambda w: [
                ("imports-staff", "1.5" if w == TAB else "2.5"),
                ("imports-threshold", "70"),
            ],
            lambda s, d, w: (
                (c := traffic.counter_settings(s, [d["store"]])[d["store"]]).staff_per_hour
                == (1.5 if w == TAB else 2.5)
                and abs(c.coverage_threshold - 0.7) < 1e-9
            ),
            "Save settings",
        ),
        Form(
            "visit correction",
            "visits",
            lambda w: [(f"fix-units-{newest}", "3" if w == TAB else "4")],
            lambda s, d, w: visits.get_visit(s, d["newest"])["units"] == (3 if w == TAB else 4),
            f"fix-save-{newest}",
        ),
        Form(
            "void visit",
            "visits",
            lambda w: [(f"void-why-{newest if w == TAB else older}", f"logged twice ({w})")],
            lambda s, d, w: (
                visits.get_visit(s, d["newest"] if w == TAB else d["older"])["void_reason"]
                == f"logged twice ({w})"
            ),
            "Void visit",
            before=_pick_second_visit,
        ),
    ]


def _eventually(check: Callable[[], bool], timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def _submit_button(page, submit: str):
    keyed = by_key(page, submit).locator("button")
    return keyed if keyed.count() else page.get_by_role("button", name=submit, exact=True)


def walk(page, url: str, form: Form, seed: dict, how: str) -> None:
    if not page.url.endswith(f"/{form.path}"):
        page.goto(f"{url}/{form.path}")
        wait_idle(page)
    fields = form.fields(how)
    if form.tab:
        first = f".st-key-{fields[0][0]} input" if fields else None
        open_tab(page, form.tab, shows=first)
    if form.before:
        form.before(page, seed, how)
    for key, text in fields:
        box = by_key(page, key).locator("input").first
        box.fill(text)
        if how == TAB:
            page.keyboard.press("Tab")
    if how == TAB:
        if not fields:
            page.keyboard.press("Tab")  # out of the picker
        _submit_button(page, form.submit).first.click()
    else:
        page.keyboard.press("Enter")
    wait_idle(page)


@pytest.fixture(scope="module")
def seeded(served):
    storage, store = served["storage"], served["store"]
    for kind in (REASON, "no_sale_reason"):
        if not catalog.list_reasons(storage, kind):
            catalog.add_reason(storage, kind, f"First {kind}", actor="test")
    shop = {"store": store, "ana": served["ana"]}
    now = datetime.now(UTC)
    zone = catalog.get_store(storage, store)["timezone"]
    # Two visits of the store's today (the Visits page's default day), an hour
    # or two ago, or closer together just after midnight.
    since = now - localday.start_of_local_day(now, ZoneInfo(zone))
    older = log_visit_in(storage, shop, now - min(timedelta(hours=2), since * 2 / 3), units=1)
    newest = log_visit_in(storage, shop, now - min(timedelta(hours=1), since / 3), units=2)
    return {
        **served,
        "older": older,
        "newest": newest,
        "today": localday.today(zone, now),
    }


def test_every_form_saves_what_was_typed_with_tab_and_with_enter(browser, seeded, screenshot):
    url, storage = seeded["url"], seeded["storage"]
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{url}/settings")
    wait_idle(page)
    # The sign-in, walked with Tab: name, Tab, password, Tab, then a tap on Sign in.
    by_key(page, "sign_in_login").locator("input").fill(OWNER)
    page.keyboard.press("Tab")
    by_key(page, "sign_in_password").locator("input").fill(OWNER_PASSWORD)
    page.keyboard.press("Tab")
    with page.expect_navigation(timeout=30_000):
        by_key(page, "sign-in-submit").locator("button").click()
    page.get_by_role("heading", name="Settings").wait_for(timeout=20_000)
    missed = []
    for form in _forms(seeded):
        for how in form.walks:
            walk(page, url, form, seeded, how)
            if not _eventually(lambda form=form, how=how: form.saved(storage, seeded, how)):
                missed.append(f"{form.name} ({how})")
                screenshot(page, f"form-missed-{form.name.replace(' ', '-')}-{how}")
    context.close()
    assert missed == []


def test_setup_with_enter_saves_everything(browser, tmp_path):
    """The first-run form sent by Enter in its last field."""
    storage = Storage(tmp_path / "data" / "cxlog.db")
    with harness.streamlit_server(storage.path) as url:
        code = first_run.setup_code(storage)
        context = browser.new_context(viewport=PHONE, timezone_id="Europe/Paris")
        page = context.new_page()
        page.goto(url)
        wait_idle(page)
        page.get_by_role("heading", name="Welcome to cxlog").wait_for()
        by_key(page, "setup_code").locator("input").fill(code)
        by_key(page, "setup_login").locator("input").fill("Olive")
        by_key(page, "setup_store").locator("input").fill("Rue <b>Haute</b>")
        for key in ("setup_password", "setup_password_again"):
            by_key(page, key).locator("input").fill("owner-enter-2468")
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Who is logging?").wait_for(timeout=20_000)
        context.close()
    (store,) = catalog.list_stores(storage)
    assert (store["name"], store["timezone"]) == ("Rue <b>Haute</b>", "Europe/Paris")
    assert _password_is(storage, "olive", "owner-enter-2468")
    assert first_run.setup_code(storage) is None
