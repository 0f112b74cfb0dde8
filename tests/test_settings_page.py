"""Settings and Visits pages through AppTest (issue #4): each change lands in
the database and in the audit trail with who made it."""

from streamlit.testing.v1 import AppTest

from cxlog.access import credentials
from cxlog.storage import settings
from cxlog.stores import catalog
from cxlog.visits import visits
from tests.conftest import as_role, new_id, sign_in_role
from tests.helpers.pages import open_page
from tests.helpers.peek import peek


def page(path: str, role: str = "manager") -> AppTest:
    at = as_role(open_page(), role).run()
    at.switch_page(path)
    return at.run()


def audit(storage, action: str) -> list[dict]:
    return list(
        peek(storage).query(
            "SELECT actor, entity, entity_id, before, after FROM audit"
            " WHERE action = ? ORDER BY id",
            [action],
        )
    )


def test_add_rename_pin_and_deactivate_an_associate(app_env, shop):
    at = page("pages/settings.py")
    at.text_input(key="new-associate").input("Chloé")
    at.button(key="add-associate").click().run()
    assert not at.exception
    people = {p["name"]: p for p in catalog.list_associates(app_env, shop["store"])}
    assert set(people) == {"Ana", "Ben", "Chloé"}
    assert at.text_input(key="new-associate").value == ""

    at.selectbox(key="pick-associate").set_value(people["Chloé"]["id"]).run()
    at.text_input(key="rename-associate").input("Chloé M.")
    at.button(key="rename-associate-save").click().run()
    at.text_input(key="associate-pin").input("12")
    at.button(key="associate-pin-save").click().run()
    assert any("4 to 8 digits" in w.value for w in at.error)
    at.text_input(key="associate-pin").input("4321")
    at.button(key="associate-pin-save").click().run()
    at.button(key="associate-active").click().run()
    chloe = catalog.get_associate(app_env, people["Chloé"]["id"])
    assert (chloe["name"], chloe["active"]) == ("Chloé M.", 0)
    assert credentials.verify_secret("4321", chloe["pin_hash"])
    assert [a["actor"] for a in audit(app_env, "rename")] == ["manager:manager"]
    assert [a["entity_id"] for a in audit(app_env, "deactivate")] == [str(chloe["id"])]


def test_duplicate_and_hostile_names_get_a_clear_message(app_env, shop):
    at = page("pages/settings.py")
    at.text_input(key="new-associate").input("ana")
    at.button(key="add-associate").click().run()
    assert any("already called" in e.value for e in at.error)
    at.text_input(key="new-associate").input("x" * 61)
    at.button(key="add-associate").click().run()
    assert not at.exception
    assert len(catalog.list_associates(app_env, shop["store"])) == 2


def test_lists_add_rename_reorder_and_retire(app_env, shop):
    at = page("pages/settings.py")
    at.text_input(key="new-reason").input("Repair")
    at.button(key="add-reason").click().run()
    names = [r["name"] for r in catalog.list_reasons(app_env, "reason")]
    assert names[-1] == "Repair"
    repair = catalog.list_reasons(app_env, "reason")[-1]["id"]
    at.selectbox(key="pick-reason").set_value(repair).run()
    at.button(key="up-reason").click().run()
    names = [r["name"] for r in catalog.list_reasons(app_env, "reason")]
    assert names[-2:] == ["Repair", "Not learned"]
    at.text_input(key="rename-reason").input("Repair or fix")
    at.button(key="rename-reason-save").click().run()
    at.button(key="retire-reason").click().run()
    assert "Repair or fix" not in [r["name"] for r in catalog.list_reasons(app_env, "reason")]
    retired = catalog.list_reasons(app_env, "reason", active_only=False)
    assert {"name": "Repair or fix", "active": 0}.items() <= next(
        r for r in retired if r["id"] == repair
    ).items()
    assert audit(app_env, "retire")[0]["actor"] == "manager:manager"


def test_store_pin_switch_idle_time_and_passwords(app_env, shop):
    at = page("pages/settings.py", role="owner")
    at.text_input(key=f"store-name-{shop['store']}").input("Corner Shop East")
    at.selectbox(key=f"store-zone-{shop['store']}").set_value("America/New_York")
    at.button(key="store-save").click().run()
    assert catalog.get_store(app_env, shop["store"])["timezone"] == "America/New_York"
    at.toggle(key="pin-required").set_value(True).run()
    assert settings.pin_required(app_env)
    at.number_input(key="idle-minutes").set_value(60)
    at.button(key="idle-save").click().run()
    assert settings.idle_minutes(app_env) == 60
    at.text_input(key="password-own").input("new-owner-pass")
    at.button(key="password-own-save").click().run()
    sign_in_role(app_env, "owner", "new-owner-pass")
    assert [a["actor"] for a in audit(app_env, "set_password")][-1] == "owner:owner"
    assert at.title[0].value == "Settings"  # this session stays signed in


def test_a_manager_changes_only_their_own_password(app_env):
    at = page("pages/settings.py")
    assert [t.key for t in at.text_input if t.key and t.key.startswith("password-")] == [
        "password-own"
    ]


def test_devices_tab_shows_a_qr_code_for_the_log_page(app_env, monkeypatch):
    from cxlog.access import join

    monkeypatch.setattr(join, "lan_addresses", lambda: ["192.168.1.20"])
    at = page("pages/settings.py")
    assert "http://192.168.1.20:8501/" in [c.value for c in at.code]
    assert len(at.get("image")) == 1


def test_correct_and_void_a_visit_from_the_visits_page(app_env, shop):
    vid = new_id()
    visits.create_visit(app_env, vid, shop["store"], shop["ana"], "neutral")
    visits.record_purchase(app_env, vid, 2, actor=f"associate:{shop['ana']}")
    at = page("pages/visits.py")
    assert not at.exception
    at.segmented_control(key=f"fix-fe-{vid}").set_value("warm")
    at.selectbox(key=f"fix-reason-{vid}").set_value(shop["reasons"]["Gift"])
    at.number_input(key=f"fix-units-{vid}").set_value(3)
    at.button(key=f"fix-save-{vid}").click().run()
    visit = visits.get_visit(app_env, vid)
    assert (visit["first_engagement"], visit["reason_id"], visit["units"]) == (
        "warm",
        shop["reasons"]["Gift"],
        3,
    )
    at.text_input(key=f"void-why-{vid}").input("Logged twice")
    at.button(key=f"void-{vid}").click().run()
    visit = visits.get_visit(app_env, vid)
    assert visit["void_reason"] == "Logged twice" and visit["voided_at"]
    actions = [
        (a["actor"], a["action"])
        for a in peek(app_env).query(
            "SELECT actor, action FROM audit WHERE entity_id = ? ORDER BY id", [vid]
        )
    ]
    assert actions[-2:] == [("manager:manager", "correct"), ("manager:manager", "void")]


def test_visits_page_without_visits_says_so(app_env):
    at = page("pages/visits.py")
    assert "No visits logged" in at.info[0].value


def test_a_chain_picks_the_store_first(app_env, shop):
    other = catalog.create_store(app_env, "Harbour Shop", "Europe/Paris")
    catalog.add_associate(app_env, other, "Zoë", actor="test")
    at = page("pages/settings.py", role="owner")  # the manager's account predates Harbour
    assert at.selectbox(key="settings-store").value == shop["store"]
    at.selectbox(key="settings-store").set_value(other).run()
    assert at.dataframe[0].value["Name"].tolist() == ["Zoë"]
