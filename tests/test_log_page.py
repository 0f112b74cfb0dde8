"""The Log page through AppTest: every step of PRODUCT.md's associate flow,
double taps, refreshes and a second device (issue #3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlite_utils
from streamlit.testing.v1 import AppTest

from cxlog import access, catalog, visits
from cxlog.model import utc_now
from tests.conftest import ROOT, new_id


@pytest.fixture
def db_env(app_env):
    return app_env


def device(query: dict | None = None) -> AppTest:
    """A fresh browser tab on the Log page (a refresh is a new one with the same URL)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def signed_in(associate_id: int) -> AppTest:
    at = device()
    at.button(key=f"name-{associate_id}").click().run()
    assert not at.exception
    return at


def keys(at: AppTest, prefix: str) -> list[str]:
    return [b.key for b in at.button if b.key and b.key.startswith(prefix)]


def start(at: AppTest, engagement: str = "warm") -> str:
    """Tap a start button; returns the new visit's id."""
    (key,) = keys(at, f"start-{engagement}-")
    at.button(key=key).click().run()
    assert not at.exception
    return key.rsplit("-", 1)[1]


def rows(storage, where: str = "1", params=()) -> list[dict]:
    return list(
        sqlite_utils.Database(storage.path).query(
            f"SELECT * FROM visits WHERE {where} ORDER BY started_at", list(params)
        )
    )


def test_who_am_i_lists_active_associates_and_signs_in(db_env, shop):
    catalog.set_associate_active(db_env, shop["ben"], False, actor="manager")
    at = device()
    assert at.title[0].value == "Who is logging?"
    assert keys(at, "name-") == [f"name-{shop['ana']}"]
    at.button(key=f"name-{shop['ana']}").click().run()
    assert at.query_params["shift"]
    assert len(keys(at, "start-")) == 3
    assert any(m.value == "### Ana · Corner Shop" for m in at.markdown)


def test_shift_survives_a_refresh_and_sign_out_ends_it(db_env, shop):
    at = signed_in(shop["ana"])
    token = at.query_params["shift"]
    vid = start(at)
    refreshed = device({"shift": token})
    assert len(keys(refreshed, "start-")) == 3
    assert keys(refreshed, "none-") == [f"none-{vid}"]  # the same open visit
    refreshed.button(key="sign-out").click().run()
    assert "shift" not in refreshed.query_params
    assert device({"shift": token}).title[0].value == "Who is logging?"


def test_bad_or_expired_shift_asks_again(db_env, shop):
    assert device({"shift": "not-a-real-token"}).title[0].value == "Who is logging?"
    token = access.start_shift(db_env, shop["ana"], now=utc_now() - timedelta(hours=13))
    assert device({"shift": token}).title[0].value == "Who is logging?"


def test_one_tap_starts_a_visit_with_a_card(db_env, shop):
    at = signed_in(shop["ana"])
    vid = start(at, "neutral")
    (row,) = rows(db_env)
    assert (row["id"], row["first_engagement"], row["associate_id"], row["outcome"]) == (
        vid,
        "neutral",
        shop["ana"],
        None,
    )
    assert f"units-2-{vid}" in keys(at, "units-")
    assert at.success[0].value == "Neutral visit started"


def test_double_tap_on_start_logs_once(db_env, shop):
    at = signed_in(shop["ana"])
    (key,) = keys(at, "start-warm-")
    stale = at.button(key=key)
    stale.click().run()
    # The second tap of a double tap arrives for the button as it was drawn.
    stale.click().run()
    assert not at.exception
    assert len(rows(db_env)) == 1
    # A deliberate second tap on the redrawn button is a second customer.
    start(at, "warm")
    assert len(rows(db_env)) == 2


def test_purchase_of_two_units_takes_three_taps(db_env, shop):
    at = signed_in(shop["ana"])
    vid = start(at)  # tap 1
    at.pills(key=f"reason-{vid}").set_value(shop["reasons"]["Gift"]).run()  # tap 2
    at.button(key=f"units-2-{vid}").click().run()  # tap 3
    assert not at.exception
    (row,) = rows(db_env)
    assert (row["outcome"], row["units"], row["reason_id"], row["closed_by"]) == (
        "purchased",
        2,
        shop["reasons"]["Gift"],
        shop["ana"],
    )
    assert "Saved: purchase, 2 units" in [s.value for s in at.success]
    assert [t.value for t in at.toast] == ["Saved: purchase, 2 units."]
    assert f"units-2-{vid}" not in keys(at, "units-")  # the card closed


def test_no_purchase_with_reason_takes_three_taps_then_optional_no_sale_reason(db_env, shop):
    at = signed_in(shop["ana"])
    vid = start(at, "missed")
    at.pills(key=f"reason-{vid}").set_value(shop["reasons"]["Browsing"]).run()
    at.button(key=f"none-{vid}").click().run()
    (row,) = rows(db_env)
    assert (row["outcome"], row["reason_id"], row["no_sale_reason_id"]) == (
        "no_purchase",
        shop["reasons"]["Browsing"],
        None,
    )
    at.pills(key=f"nosale-{vid}").set_value(shop["no_sale"]["Out of stock"]).run()
    assert rows(db_env)[0]["no_sale_reason_id"] == shop["no_sale"]["Out of stock"]


def test_markers_toggle_and_double_tap_on_reason_keeps_it(db_env, shop):
    at = signed_in(shop["ana"])
    vid = start(at)
    at.pills(key=f"markers-{vid}").set_value(["used_name", "recommended"]).run()
    assert (rows(db_env)[0]["used_name"], rows(db_env)[0]["recommended"]) == (1, 1)
    at.pills(key=f"markers-{vid}").set_value(["recommended"]).run()
    assert (rows(db_env)[0]["used_name"], rows(db_env)[0]["recommended"]) == (0, 1)
    gift = shop["reasons"]["Gift"]
    at.pills(key=f"reason-{vid}").set_value(gift).run()
    at.pills(key=f"reason-{vid}").set_value(None).run()  # the same pill tapped again
    assert rows(db_env)[0]["reason_id"] == gift
    assert at.pills(key=f"reason-{vid}").value == gift


def test_five_plus_opens_a_stepper_up_to_99(db_env, shop):
    at = signed_in(shop["ana"])
    vid = start(at)
    at.button(key=f"more-{vid}").click().run()
    stepper = at.number_input(key=f"stepper-{vid}")
    assert (stepper.value, stepper.min, stepper.max) == (5, 5, 99)
    stepper.set_value(12).run()
    at.button(key=f"stepper-save-{vid}").click().run()
    assert (rows(db_env)[0]["outcome"], rows(db_env)[0]["units"]) == ("purchased", 12)


def test_optional_sale_amount_after_a_purchase(db_env, shop):
    at = signed_in(shop["ana"])
    vid = start(at)
    at.button(key=f"units-1-{vid}").click().run()
    assert [n.key for n in at.number_input] == []  # the field waits behind a tap
    at.button(key=f"add-amount-{vid}").click().run()
    at.number_input(key=f"amount-{vid}").set_value(49.99).run()
    assert rows(db_env)[0]["amount_cents"] == 4999


def test_undo_a_start_and_undo_a_close(db_env, shop):
    at = signed_in(shop["ana"])
    vid = start(at)
    at.button(key=f"undo-start-{vid}").click().run()
    assert rows(db_env)[0]["voided_at"] is not None
    assert keys(at, "units-") == []

    vid = start(at)
    at.button(key=f"units-3-{vid}").click().run()
    at.button(key=f"undo-{vid}").click().run()
    assert not at.exception
    row = rows(db_env, "id = ?", [vid])[0]
    assert (row["outcome"], row["units"], row["voided_at"]) == (None, None, None)
    assert f"units-3-{vid}" in keys(at, "units-")  # the card is open again


def test_undo_after_30_seconds_explains_instead(db_env, shop):
    at = signed_in(shop["ana"])
    vid = start(at)
    at.button(key=f"units-1-{vid}").click().run()
    # Age the actions by 31 s, as if the associate came back to the card later.
    old = (utc_now() - timedelta(seconds=31)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    sqlite_utils.Database(db_env.path).execute("UPDATE audit SET at = ?", [old]).connection.commit()
    at.button(key=f"undo-{vid}").click().run()
    assert not at.exception
    assert any("nothing to undo" in e.value for e in at.error)
    assert rows(db_env)[0]["outcome"] == "purchased"


def test_second_device_sees_and_closes_the_same_open_visits(db_env, shop):
    tablet = signed_in(shop["ana"])
    first, second = start(tablet), start(tablet, "neutral")
    phone = signed_in(shop["ben"])
    assert keys(phone, "none-") == [f"none-{second}", f"none-{first}"]  # newest first
    phone.button(key=f"units-1-{first}").click().run()
    row = rows(db_env, "id = ?", [first])[0]
    assert (row["closed_by"], row["associate_id"]) == (shop["ben"], shop["ana"])
    tablet.run()
    assert keys(tablet, "none-") == [f"none-{second}"]


def test_today_list_reopens_a_closed_visit(db_env, shop):
    at = signed_in(shop["ana"])
    vid = start(at)
    at.button(key=f"units-2-{vid}").click().run()
    at.run()
    assert at.expander[0].label == "Today: 1 closed visit"
    at.button(key=f"reopen-{vid}").click().run()
    assert rows(db_env)[0]["outcome"] is None
    assert f"units-2-{vid}" in keys(at, "units-")


def test_a_failed_write_is_reported_not_dropped(db_env, shop):
    at = signed_in(shop["ana"])
    vid = start(at)
    catalog.set_reason_active(db_env, shop["reasons"]["Gift"], False, actor="manager")
    at.pills(key=f"reason-{vid}").set_value(shop["reasons"]["Gift"]).run()
    assert not at.exception
    assert any("retired" in e.value for e in at.error)
    catalog.set_associate_active(db_env, shop["ana"], False, actor="manager")
    at.run()
    assert at.title[0].value == "Who is logging?"  # a deactivated associate cannot log


def test_pin_required_signs_in_only_with_the_right_pin(db_env, shop):
    access.set_setting(db_env, access.PIN_REQUIRED, "1", actor="manager")
    catalog.set_associate_pin_hash(db_env, shop["ana"], access.hash_secret("2468"), actor="manager")
    at = device()
    at.button(key=f"name-{shop['ana']}").click().run()
    at.text_input(key="pin").input("1111")
    at.button(key="pin-ok").click().run()
    assert any("PIN is not right" in e.value for e in at.error)
    assert "shift" not in at.query_params
    at.text_input(key="pin").input("2468")
    at.button(key="pin-ok").click().run()
    assert at.query_params["shift"] and len(keys(at, "start-")) == 3


def test_store_without_associates_gets_guidance(db_env, shop):
    for who in ("ana", "ben"):
        catalog.set_associate_active(db_env, shop[who], False, actor="manager")
    at = device()
    assert not at.exception
    assert "No associates yet" in at.info[0].value


def test_visit_ids_are_the_drawn_nonce(db_env, shop):
    """A retry of the same start (a reconnect) re-sends the same id: still one row."""
    at = signed_in(shop["ana"])
    vid = start(at)
    visits.create_visit(db_env, vid, shop["store"], shop["ana"], "warm")
    assert len(rows(db_env)) == 1
    assert len(new_id()) == len(vid) == 32


def test_only_the_last_close_keeps_its_card_with_undo(db_env, shop):
    at = signed_in(shop["ana"])
    first, second = start(at), start(at)
    at.button(key=f"units-1-{first}").click().run()
    at.button(key=f"none-{second}").click().run()
    at.run()  # the list redraws (a refresh, a start, or every 15 s)
    card_undos = [k for k in keys(at, "undo-") if not k.startswith("undo-start-")]
    assert card_undos == [f"undo-{second}"]
    assert f"add-amount-{first}" not in keys(at, "add-amount-")
