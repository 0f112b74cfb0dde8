"""The Follow-ups page through AppTest (issue #15): promise in ≤ 2 taps after
closing a visit, the list shows it, record "came back and bought", double
taps and hostile codes change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from cxlog.access import shifts
from cxlog.calendar import localday
from cxlog.core.model import utc_now
from cxlog.followups import followups
from cxlog.visits import visits
from cxlog.web import navigation, ui
from tests.conftest import new_id
from tests.helpers.pages import open_page
from tests.helpers.peek import peek

# Where a test device keeps the shift cookie its browser would send.
COOKIE = "test_shift_cookie"


@pytest.fixture(autouse=True)
def cookie_per_device(monkeypatch):
    """AppTest sends no cookies, so the pages' one read of the shift cookie
    (ui.signed_in) checks the value this device (AppTest) was given instead —
    per device, so two devices in one test stay two associates."""
    monkeypatch.setattr(ui, "signed_in", lambda s: shifts.current(s, st.session_state.get(COOKIE)))


def close_visit(storage, store_id: int, associate_id: int, close: str | None, engagement="warm"):
    """Start a visit for this associate and close it the way the tap pad would
    (``none``: no purchase, ``units-N``: bought N); returns its id."""
    vid = new_id()
    visits.create_visit(storage, vid, store_id, associate_id, engagement)
    actor = f"associate:{associate_id}"
    if close == "none":
        visits.record_no_purchase(storage, vid, actor=actor)
    elif close:
        visits.record_purchase(storage, vid, int(close.split("-")[1]), actor=actor)
    return vid


def on_followups(
    storage, shop: dict, associate_id: int, *, close: str | None = "none"
) -> tuple[AppTest, str]:
    """A device on this associate's shift (the cookie) with one visit started
    and closed, then the Follow-ups page opened from the navigation. Returns
    the page and the visit."""
    vid = close_visit(storage, shop["store"], associate_id, close)
    at = open_page()
    at.session_state[COOKIE] = shifts.start(storage, associate_id, shifts.new_device_id())
    at.run()
    at.switch_page("pages/followups.py").run()
    assert not at.exception
    return at, vid


def rows(storage, sql: str, params=()) -> list[dict]:
    return list(peek(storage).query(sql, list(params)))


def test_page_is_in_the_navigation_for_associates():

    assert "Follow-ups" in navigation.menu(None)
    assert any(p[0] == "pages/followups.py" and p[3] == "associate" for p in navigation.PAGES)


def test_without_a_shift_the_page_points_to_the_log(app_env):
    at = open_page().run()
    at.switch_page("pages/followups.py").run()
    assert not at.exception
    assert "Tap your name on the Log page" in at.info[0].value
    assert not [b for b in at.button if b.key and b.key.startswith("due-")]


def test_promise_in_one_tap_then_bought_from_the_list(app_env, shop):
    at, vid = on_followups(app_env, shop, shop["ana"])
    # Tap 1 (the channel is remembered; Call by default): the promise is made.
    at.button(key=f"due-tomorrow-{vid}").click().run()
    assert not at.exception
    (made,) = rows(app_env, "SELECT * FROM followups")
    assert (made["visit_id"], made["channel"], made["promised_by"]) == (vid, "call", shop["ana"])
    code = rows(app_env, "SELECT code FROM visit_codes")[0]["code"]
    assert any(code in s.value for s in at.success)
    # The closed visit leaves the promise list; the follow-up is in Upcoming.
    assert not [b for b in at.button if b.key == f"due-tomorrow-{vid}"]
    assert any(h.value == "Upcoming (1)" for h in at.subheader)
    assert any(code in m.value for m in at.markdown)
    fid = made["id"]
    # A second device shows the same list, drawn before the result below.
    other, _ = on_followups(app_env, shop, shop["ben"], close=None)
    at.button(key=f"fu-bought-{fid}").click().run()
    at.number_input(key=f"fu-amount-{fid}").set_value(49.5).run()
    at.button(key=f"fu-units-2-{fid}").click().run()
    assert not at.exception
    (done,) = rows(app_env, "SELECT * FROM followups")
    assert (done["result"], done["units"], done["amount_cents"], done["result_by"]) == (
        "bought",
        2,
        4950,
        shop["ana"],
    )
    assert any(h.value == "Done (1)" for h in at.subheader)
    # The other device's tap on its stale card: one sentence, nothing changed.
    other.button(key=f"fu-notneeded-{fid}").click().run()
    assert any("already done (came back and bought, by Ana)" in e.value for e in other.error)
    assert rows(app_env, "SELECT * FROM followups") == [done]
    actions = rows(app_env, "SELECT action FROM audit WHERE entity = 'followup'")
    assert [r["action"] for r in actions] == ["promise", "result"]


def test_two_taps_with_another_channel_and_snooze(app_env, shop):
    at, vid = on_followups(app_env, shop, shop["ana"], close="units-1")
    at.segmented_control(key="followup-channel").set_value("text").run()  # tap 1
    at.button(key=f"due-in_a_week-{vid}").click().run()  # tap 2
    (made,) = rows(app_env, "SELECT * FROM followups")
    assert made["channel"] == "text"
    today = localday.today("Europe/London", utc_now())
    assert made["due_on"] == (today + timedelta(days=7)).isoformat()
    fid = made["id"]
    at.button(key=f"fu-snooze-{fid}").click().run()
    at.button(key=f"fu-snooze-tomorrow-{fid}").click().run()
    (moved,) = rows(app_env, "SELECT * FROM followups")
    assert (moved["snoozes"], moved["due_on"]) == (1, (today + timedelta(days=1)).isoformat())
    # The channel choice is remembered for the next promise.
    at.switch_page("pages/log.py").run()
    second = close_visit(app_env, shop["store"], shop["ana"], "none", "neutral")
    at.switch_page("pages/followups.py").run()
    assert at.button(key=f"due-tomorrow-{second}").label == "Tomorrow · Text"


def test_a_return_is_linked_by_typed_code_and_a_wrong_code_says_so(app_env, shop):
    first = new_id()
    visits.create_visit(app_env, first, shop["store"], shop["ben"], "warm")
    visits.record_no_purchase(app_env, first, actor="test")
    code = followups.visit_code(app_env, first, shop["store"])
    # The returning customer's visit: still open.
    at, vid = on_followups(app_env, shop, shop["ana"], close=None)
    at.selectbox(key="return-visit").set_value(vid)
    at.text_input(key="return-code").set_value("QQQQQ" if code != "QQQQQ" else "WWWWW")
    at.button(key="return-save").click().run()
    assert any("has the code" in e.value for e in at.error)
    assert rows(app_env, "SELECT * FROM visit_returns") == []
    at.text_input(key="return-code").set_value(code.lower())
    at.button(key="return-save").click().run()
    assert not at.exception
    (link,) = rows(app_env, "SELECT * FROM visit_returns")
    assert (link["visit_id"], link["original_visit_id"]) == (vid, first)


def test_dashboard_follow_up_conversion_equals_a_hand_count(app_env, shop):
    """1–19 Nov 2026: five follow-ups due, worked by hand below."""
    from datetime import UTC, datetime

    from tests.conftest import as_role

    day = timedelta(days=1)
    nov = datetime(2026, 11, 3, 12, tzinfo=UTC)

    def promised(engagement, result=None, after=1, units=None):
        vid = new_id()
        visits.create_visit(app_env, vid, shop["store"], shop["ana"], engagement, at=nov)
        visits.record_no_purchase(app_env, vid, actor="test")
        item, _ = followups.promise(
            app_env, vid, "tomorrow", "call", associate_id=shop["ana"], now=nov
        )
        if result:
            followups.record_result(
                app_env,
                item["id"],
                result,
                units=units,
                associate_id=shop["ben"],
                now=nov + after * day,
            )

    promised("warm", "bought", 1, 2)  # due 4 Nov, bought 4 Nov: won, on time
    promised("warm", "bought", 20, 1)  # bought 23 Nov: after the 14 days, late
    promised("neutral", "reached", 1)  # on time, not won
    promised("neutral", "bought", 5, 1)  # bought 8 Nov: won, late
    promised("missed")  # never done: overdue
    at = open_page()
    as_role(at, "manager")
    for key, value in {"period": "custom", "from": "2026-11-01", "to": "2026-11-19"}.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("pages/dashboard.py").run()
    assert not at.exception
    # Hand count: 5 due, 2 won (40%), 2 acted on by 4 Nov, 5 promised, 1 overdue.
    lines = [m.value for m in at.markdown]
    assert any(
        line.startswith("Follow-up conversion: **40%** (12\u2060–\u206077%, n = 5)")
        for line in lines
    ), lines
    tiles = {m.label: m.value for m in at.metric}
    assert (tiles["Promised"], tiles["Done on time"], tiles["Overdue"]) == ("5", "40%", "1")
    table = at.table[0].value
    by_group = {
        row["Original visit"]: (row["Due"], row["Came back and bought"])
        for _, row in table.iterrows()
    }
    assert by_group["Warm"] == (2, 1) and by_group["Neutral"] == (2, 1)
    assert by_group["Missed"] == (1, 0)
    team = at.table[-1].value
    # Ben closed 3 in the period (the one bought on 23 Nov falls outside).
    done = dict(zip(team["Associate"], team["Follow-ups done"], strict=True))
    assert done == {"Team": 3, "Ana": 0, "Ben": 3}


def test_settings_tab_saves_the_follow_up_window(app_env, shop):
    from tests.conftest import as_role

    at = as_role(open_page(), "manager").run()
    at.switch_page("pages/settings.py").run()
    key = f"followup-window-{shop['store']}"
    assert at.number_input(key=key).value == 14
    at.number_input(key=key).set_value(30)
    at.button[[b.label for b in at.button].index("Save window")].click().run()
    assert not at.exception
    assert followups.window_days(app_env, shop["store"]) == 30
    (row,) = rows(
        app_env,
        "SELECT * FROM audit WHERE entity_id = ?",
        [f"followup_window_days:{shop['store']}"],
    )
    assert (row["action"], row["actor"]) == ("setting", "manager:manager")


def test_every_callback_checks_the_shift_again(app_env, shop):
    """Issue #25: after "Not you?" on another device, a tap on the page drawn
    before acted once more as the associate of its last run."""
    first = new_id()
    visits.create_visit(app_env, first, shop["store"], shop["ben"], "warm")
    visits.record_no_purchase(app_env, first, actor="test")
    code = followups.visit_code(app_env, first, shop["store"])
    fid = followups.promise(app_env, first, "tomorrow", "call", associate_id=shop["ben"])[0]["id"]
    at, vid = on_followups(app_env, shop, shop["ana"])
    # An open visit of Ana's, to link as a return.
    back = new_id()
    visits.create_visit(app_env, back, shop["store"], shop["ana"], "warm")
    at.run()
    at.button(key=f"fu-snooze-{fid}").click().run()  # shows the snooze choices
    shifts.end(app_env, at.session_state[COOKIE])  # "Not you?" elsewhere
    before = rows(app_env, "SELECT * FROM audit")
    # Every control tapped at once, on the page drawn before: one run.
    for tap in (
        lambda: at.button(key=f"due-tomorrow-{vid}").click(),
        lambda: at.button(key=f"fu-notneeded-{fid}").click(),
        lambda: at.button(key=f"fu-snooze-tomorrow-{fid}").click(),
        lambda: (
            at.selectbox(key="return-visit").set_value(back),
            at.text_input(key="return-code").set_value(code),
            at.button(key="return-save").click(),
        ),
    ):
        tap()
    at.run()
    assert rows(app_env, "SELECT * FROM audit") == before
    assert rows(app_env, "SELECT result FROM followups") == [{"result": None}]
    assert any("Tap your name on the Log page first" in i.value for i in at.info)
