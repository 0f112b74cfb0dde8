"""Associate shifts held in a device cookie (issue #11, item 2): what starts
them, and that "Not you?", a PIN change, a deactivation and the 12-hour expiry
end them everywhere."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cxlog.access import access, shifts
from cxlog.core.errors import ShiftError, ValidationError
from cxlog.core.model import utc_now
from cxlog.stores import catalog
from tests.helpers.peek import peek


def test_a_shift_names_its_associate_and_store_and_keeps_only_a_hash(storage, shop):
    device = shifts.new_device_id()
    cookie = shifts.start(storage, shop["ana"], device)
    store, token = cookie.split(".")
    assert int(store) == shop["store"]
    who = shifts.check(storage, cookie)
    assert (who["id"], who["name"], who["store_name"], who["device_id"]) == (
        shop["ana"],
        "Ana",
        "Corner Shop",
        device,
    )
    raw = peek(storage).execute("SELECT * FROM device_shifts").fetchall()
    assert token not in repr(raw)  # a copy of the database opens no shift


@pytest.mark.parametrize(
    ("end", "words"),
    [
        (lambda s, shop, cookie: shifts.end(s, cookie), "Not you?"),
        (
            lambda s, shop, cookie: access.set_pin(s, shop["ana"], "2468", actor="manager"),
            "PIN was changed",
        ),
        (
            lambda s, shop, cookie: catalog.set_associate_active(
                s, shop["ana"], False, actor="manager"
            ),
            "deactivated",
        ),
    ],
)
def test_not_you_a_pin_change_and_deactivation_end_the_shift(storage, shop, end, words):
    cookie = shifts.start(storage, shop["ana"], shifts.new_device_id())
    other = shifts.start(storage, shop["ben"], shifts.new_device_id())
    end(storage, shop, cookie)
    with pytest.raises(ShiftError, match=words):
        shifts.check(storage, cookie)
    assert shifts.current(storage, cookie) is None
    assert shifts.check(storage, other)["name"] == "Ben"  # only hers ended


def test_a_shift_expires_after_twelve_hours(storage, shop):
    start = utc_now() - timedelta(hours=12, seconds=1)
    cookie = shifts.start(storage, shop["ana"], shifts.new_device_id(), now=start)
    assert shifts.check(storage, cookie, now=start + timedelta(hours=11))["id"] == shop["ana"]
    with pytest.raises(ShiftError, match="12 hours"):
        shifts.check(storage, cookie)


@pytest.mark.parametrize(
    "cookie",
    [None, "", "abc", "1.short", "1." + "x" * 70, "'; DROP TABLE device_shifts;--", "\x00", 5],
)
def test_a_missing_or_forged_cookie_is_no_shift(storage, shop, cookie):
    with pytest.raises(ShiftError):
        shifts.check(storage, cookie)


def test_a_cookie_moved_to_another_store_is_unknown(storage, shop):
    cookie = shifts.start(storage, shop["ana"], shifts.new_device_id())
    other = catalog.create_store(storage, "Other Shop", "Europe/London")
    forged = f"{other}.{cookie.split('.')[1]}"
    with pytest.raises(ShiftError, match="not known"):
        shifts.check(storage, forged)


def test_only_an_active_associate_with_a_valid_device_starts_a_shift(storage, shop):
    catalog.set_associate_active(storage, shop["ben"], False, actor="manager")
    with pytest.raises(ValidationError, match="deactivated"):
        shifts.start(storage, shop["ben"], shifts.new_device_id())
    with pytest.raises(ValidationError, match="does not exist"):
        shifts.start(storage, 999, shifts.new_device_id())
    with pytest.raises(ValidationError, match="device"):
        shifts.start(storage, shop["ana"], "bad device")
    assert peek(storage)["device_shifts"].count == 0
