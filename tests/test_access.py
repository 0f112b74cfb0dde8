"""Passwords, PINs, lockout and the first run (issue #4), without Streamlit."""

from datetime import timedelta
from pathlib import Path

import pytest

from cxlog.access import access, accounts, credentials, lockout
from cxlog.core import roles
from cxlog.core.errors import ValidationError
from cxlog.core.model import utc_now
from cxlog.numbers import metrics
from cxlog.numbers.metrics import Filters
from cxlog.storage import settings
from cxlog.stores import catalog
from cxlog.visits import visits
from tests.conftest import new_id, sign_in_role


def test_hashes_are_salted_and_verify_in_constant_time():
    first, second = credentials.hash_secret("2468"), credentials.hash_secret("2468")
    assert first != second and first.startswith("scrypt$")
    assert credentials.verify_secret("2468", first) and credentials.verify_secret("2468", second)
    assert not credentials.verify_secret("2469", first)
    for broken in (None, "", "md5$x", "scrypt$1$2", "scrypt$x$8$1$zz$zz"):
        assert credentials.verify_secret("2468", broken) is False


def test_first_run_until_an_owner_account_exists(storage, shop):
    assert accounts.first_run(storage)
    with pytest.raises(ValidationError, match="at least 8"):
        accounts.add(storage, "Olive", roles.OWNER, "short", actor="owner")
    accounts.add(storage, "Mia", roles.MANAGER, "long enough", [shop["store"]], actor="test")
    assert accounts.first_run(storage)  # a manager alone does not set cxlog up
    accounts.add(storage, "Olive", roles.OWNER, "long enough", actor="owner")
    assert not accounts.first_run(storage)


def test_five_wrong_passwords_lock_the_account_for_five_minutes(storage, shop):
    accounts.add_or_reset(storage, roles.MANAGER, roles.MANAGER, "right password", actor="owner")
    now = utc_now()
    for left in (4, 3, 2, 1):
        with pytest.raises(ValidationError, match=f"{left} more tr"):
            sign_in_role(storage, roles.MANAGER, "wrong", now=now)
    with pytest.raises(ValidationError, match="locked for 5 minutes"):
        sign_in_role(storage, roles.MANAGER, "wrong", now=now)
    # Locked: even the right password is refused, and the owner role is not affected.
    with pytest.raises(ValidationError, match="locked for 4 more minutes"):
        sign_in_role(storage, roles.MANAGER, "right password", now=now + timedelta(minutes=1))
    assert lockout.locked_until(storage, accounts.who(roles.OWNER), "10.0.0.2", now=now) is None
    # The lock lifts when the time has passed (clock injected, no sleeping).
    sign_in_role(
        storage, roles.MANAGER, "right password", now=now + timedelta(minutes=5, seconds=1)
    )
    with pytest.raises(ValidationError, match="4 more tries"):
        sign_in_role(storage, roles.MANAGER, "wrong", now=now + timedelta(minutes=6))


@pytest.mark.sqlite
def test_no_password_or_pin_in_clear_anywhere_in_the_database_files(storage, shop):
    secrets = {"owner": "Owner-Secret-9731", "manager": "Manager-Secret-5519", "pin": "804172"}
    accounts.add_or_reset(storage, roles.OWNER, roles.OWNER, secrets["owner"], actor="owner")
    accounts.add_or_reset(storage, roles.MANAGER, roles.MANAGER, secrets["manager"], actor="o")
    access.set_pin(storage, shop["ana"], secrets["pin"], actor="manager")
    with pytest.raises(ValidationError):
        sign_in_role(storage, roles.MANAGER, "Wrong-Guess-4242")
    sign_in_role(storage, roles.MANAGER, secrets["manager"])
    blob = b"".join(
        Path(f"{storage.path}{suffix}").read_bytes()
        for suffix in ("", "-wal")
        if Path(f"{storage.path}{suffix}").exists()
    )
    for secret in [*secrets.values(), "Wrong-Guess-4242"]:
        assert secret.encode() not in blob
        assert secret.encode("utf-16-le") not in blob
    assert b"scrypt$" in blob  # the hashes are there instead


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "", " 1234"])
def test_pins_are_4_to_8_digits(storage, shop, pin):
    with pytest.raises(ValidationError, match="4 to 8 digits"):
        access.set_pin(storage, shop["ana"], pin, actor="manager")


def test_idle_minutes_setting(storage):
    assert settings.idle_minutes(storage) == 30
    settings.set_idle_minutes(storage, 45, actor="owner")
    assert settings.idle_minutes(storage) == 45
    for bad in (4, 481, "30", 2.5):
        with pytest.raises(ValidationError, match="5 to 480"):
            settings.set_idle_minutes(storage, bad, actor="owner")


def test_owner_may_do_what_a_manager_may_but_not_the_reverse():
    assert roles.allows("owner", roles.MANAGER) and roles.allows("owner", roles.OWNER)
    assert roles.allows("manager", roles.MANAGER) and not roles.allows("manager", roles.OWNER)
    assert not roles.allows(None, roles.MANAGER)


def test_renaming_keeps_visits_attached_and_reported_under_the_new_name(storage, shop):
    vid = new_id()
    visits.create_visit(storage, vid, shop["store"], shop["ana"], "warm")
    visits.set_reason(storage, vid, shop["reasons"]["Gift"], actor="associate:1")
    visits.record_purchase(storage, vid, 2, actor="associate:1")
    catalog.rename_associate(storage, shop["ana"], "Ana Lima", actor="manager")
    catalog.rename_reason(storage, shop["reasons"]["Gift"], "Present", actor="manager")
    visit = visits.get_visit(storage, vid)
    assert (visit["associate_name"], visit["reason_name"]) == ("Ana Lima", "Present")
    by_associate = metrics.breakdown(storage, Filters(), "associate")
    assert by_associate[shop["ana"]].purchased == 1


def test_retiring_hides_from_the_log_page_list_only(storage, shop):
    gift = shop["reasons"]["Gift"]
    vid = new_id()
    visits.create_visit(storage, vid, shop["store"], shop["ana"], "warm")
    visits.set_reason(storage, vid, gift, actor="associate:1")
    catalog.set_reason_active(storage, gift, False, actor="manager")
    assert gift not in [r["id"] for r in catalog.list_reasons(storage, "reason")]
    assert gift in [r["id"] for r in catalog.list_reasons(storage, "reason", active_only=False)]
    assert visits.get_visit(storage, vid)["reason_name"] == "Gift"
    assert metrics.breakdown(storage, Filters(), "reason")[gift].visits == 1


def test_associate_pins_lock_out_per_associate(storage, shop):
    with pytest.raises(ValidationError, match="No PIN is set for Ana"):
        access.check_associate_pin(storage, shop["ana"], "1234")
    access.set_pin(storage, shop["ana"], "2468", actor="manager")
    access.set_pin(storage, shop["ben"], "1357", actor="manager")
    now = utc_now()
    for _ in range(4):
        with pytest.raises(ValidationError, match="PIN is not right"):
            access.check_associate_pin(storage, shop["ana"], "0000", now=now)
    with pytest.raises(ValidationError, match="locked for 5 minutes"):
        access.check_associate_pin(storage, shop["ana"], "0000", now=now)
    with pytest.raises(ValidationError, match="locked"):
        access.check_associate_pin(storage, shop["ana"], "2468", now=now)
    access.check_associate_pin(storage, shop["ben"], "1357", now=now)  # Ben is not locked
    access.check_associate_pin(storage, shop["ana"], "2468", now=now + timedelta(minutes=6))


@pytest.mark.parametrize(
    ("password", "message"),
    [("with\x00nul-inside", "NUL"), ("lone-\ud800-surrogate", "cannot be stored")],
)
def test_passwords_that_cannot_be_stored_are_refused(storage, password, message):
    with pytest.raises(ValidationError, match=message):
        accounts.add(storage, "Olive", roles.OWNER, password, actor="owner")
