"""Settings → Access lists signed-in devices and ends any or all (#11)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from cxlog.access import sessions
from tests.conftest import account_of, as_role
from tests.helpers.pages import open_page


def devices(at: AppTest) -> list[str]:
    """The Device column of Settings → Access's table of signed-in devices."""
    table = next(d.value for d in at.dataframe if "Device" in d.value.columns)
    return list(table["Device"])


def settings(role: str) -> AppTest:
    at = as_role(open_page(), role).run()
    at.switch_page("pages/settings.py")
    return at.run()


def test_the_owner_ends_one_session_then_all_others(app_env):
    tablet, _ = sessions.start(
        app_env, account_of(app_env, "manager"), device="Safari on iPad", client="10.0.0.8"
    )
    phone, _ = sessions.start(
        app_env, account_of(app_env, "manager"), device="Chrome on Android", client="10.0.0.9"
    )
    at = settings("owner")
    assert sorted(devices(at)) == ["AppTest (this one)", "Chrome on Android", "Safari on iPad"]
    picked = at.selectbox(key="end-session-pick")
    tablet_id = sessions.check(app_env, tablet).session_id
    picked.set_value(tablet_id)
    at.button(key="end-session").click().run()
    assert sessions.check(app_env, tablet).role is None
    assert sessions.check(app_env, phone).role == "manager"
    at.button(key="end-all-sessions").click().run()
    assert sessions.check(app_env, phone).role is None
    assert at.title[0].value == "Settings"  # this device stays signed in
    assert devices(at) == ["AppTest (this one)"]


def test_a_manager_sees_and_ends_only_managers_sessions(app_env):
    owner, _ = sessions.start(
        app_env, account_of(app_env, "owner"), device="Firefox on Windows", client="local"
    )
    other, _ = sessions.start(
        app_env, account_of(app_env, "manager"), device="Safari on iPad", client="10.0.0.8"
    )
    at = settings("manager")
    assert "Firefox on Windows" not in devices(at)
    at.button(key="end-all-sessions").click().run()
    assert sessions.check(app_env, other).role is None
    assert sessions.check(app_env, owner).role == "owner"
