"""Settings per store with the chain's defaults (issue #28): the PIN rule,
the idle time and the two lists hold for every store unless a store sets its
own; a store's own entries and hidden entries reach its tablets only; a
joining device opens on its store's people."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from cxlog.access import access, accounts, join, sessions
from cxlog.core.errors import ValidationError
from cxlog.core.model import REASON, utc_now
from cxlog.core.roles import MANAGER
from cxlog.server import api
from cxlog.storage import settings
from cxlog.storage.db import Storage
from cxlog.stores import catalog, moving
from cxlog.visits import taps, visits
from tests.conftest import as_role, new_id
from tests.helpers import asgi
from tests.helpers.pages import device, open_page, pad_data, text_of

HARBOUR = "Harbour Store"


@pytest.fixture
def chain(app_env, shop) -> dict:
    """The shop (A), a second store (B) with Bea, and Mia, manager of A only."""
    b = catalog.create_store(app_env, HARBOUR, "Europe/Paris")
    bea = catalog.add_associate(app_env, b, "Bea", actor="test")
    mia = accounts.add(app_env, "Mia", MANAGER, "mia-pass-01", [shop["store"]], actor="test")
    return {"storage": app_env, "a": shop["store"], "b": b, "bea": bea, "mia": mia, **shop}


def start_shift(associate_id: int, pin: str | None = None) -> tuple[int, dict]:
    from starlette.applications import Starlette

    body = {"associate_id": associate_id, **({"pin": pin} if pin else {})}
    status, _, data = asgi.request(
        Starlette(routes=api.routes()), "POST", "/api/v1/shifts", body=json.dumps(body).encode()
    )
    return status, json.loads(data)


def test_a_store_may_ask_for_a_pin_where_the_chain_does_not(chain):
    storage, ana, bea = chain["storage"], chain["ana"], chain["bea"]
    access.set_pin(storage, ana, "2468", actor="test")
    assert not access.pin_asked(storage, ana) and not access.pin_asked(storage, bea)
    settings.set_pin_rule(storage, chain["a"], "on", actor="manager:Mia")
    assert access.pin_asked(storage, ana) and not access.pin_asked(storage, bea)
    # The API asks A's associate for the PIN, not B's.
    status, answer = start_shift(ana)
    assert status == 403 and "PIN" in answer["error"]
    assert start_shift(ana, "2468")[0] == 200
    assert start_shift(bea)[0] == 200
    # The chain's rule on, a store's "off" wins for that store only.
    settings.set_setting(storage, settings.PIN_REQUIRED, "1", actor="owner")
    settings.set_pin_rule(storage, chain["a"], "off", actor="owner")
    assert not access.pin_asked(storage, ana) and access.pin_asked(storage, bea)
    settings.set_pin_rule(storage, chain["a"], "chain", actor="owner")
    assert access.pin_asked(storage, ana)
    with pytest.raises(ValidationError):
        settings.set_pin_rule(storage, chain["a"], "sometimes", actor="owner")
    with pytest.raises(ValidationError, match="does not exist"):
        settings.set_pin_rule(storage, 999, "on", actor="owner")
    with storage.read() as db:
        rows = list(
            db.query(
                "SELECT actor, store_id FROM audit WHERE entity_id = ? ORDER BY id",
                [f"pin_required:{chain['a']}"],
            )
        )
    assert [r["actor"] for r in rows] == ["manager:Mia", "owner", "owner"]
    assert {r["store_id"] for r in rows} == {chain["a"]}


def test_the_log_page_shows_the_store_s_pin_rule(chain, monkeypatch):
    settings.set_pin_rule(chain["storage"], chain["a"], "on", actor="owner")
    at = open_page()
    at.query_params["store"] = str(chain["a"])
    monkeypatch.setattr("cxlog.web.ui.signed_in", lambda s: None)
    at.run()
    assert pad_data(at)["pin_required"] is True
    at = open_page()
    at.query_params["store"] = str(chain["b"])
    at.run()
    data = pad_data(at)
    assert data["pin_required"] is False and [p["name"] for p in data["people"]] == ["Bea"]


def test_a_joining_device_opens_on_its_store(chain, monkeypatch):
    url = join.log_page_urls(8501, "https://shop.example:8501/settings", chain["b"])[0]
    assert url == f"https://shop.example:8501/?store={chain['b']}"
    assert join.log_page_urls(8501, "https://shop.example:8501/")[0] == "https://shop.example:8501/"
    monkeypatch.setattr("cxlog.web.ui.signed_in", lambda s: None)
    at = open_page()
    at.query_params["store"] = str(chain["b"])
    at.run()
    assert not at.pills  # no store to pick: the code said which
    assert [p["name"] for p in pad_data(at)["people"]] == ["Bea"]
    # Without the code (or with one of no store) the device picks its store first.
    for query in ({}, {"store": "999"}):
        at = open_page()
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
        assert at.pills[0].label == "Store" and pad_data(at) is None


def test_the_idle_time_is_the_shortest_of_the_account_s_stores(chain):
    storage = chain["storage"]
    settings.set_store_idle_minutes(storage, chain["a"], 10, actor="owner")
    assert settings.idle_minutes(storage) == 30  # the chain's
    assert settings.idle_minutes(storage, (chain["a"],)) == 10
    assert settings.idle_minutes(storage, (chain["b"],)) == 30
    assert settings.idle_minutes(storage, (chain["a"], chain["b"])) == 10
    mia = accounts.get(storage, chain["mia"])
    owner = accounts.get(storage, accounts.find(storage, "owner")["id"])
    now = utc_now()
    tokens = {}
    for who in (mia, owner):
        _, claim = sessions.start(storage, who, device="d", client="10.0.0.5", now=now)
        tokens[who.login] = sessions.claim(storage, claim)
    later = now + timedelta(minutes=15)
    ended = sessions.check(storage, tokens["Mia"], now=later)
    assert ended.account is None and ended.ended == "idle" and ended.idle_minutes == 10
    assert sessions.check(storage, tokens["owner"], now=later).account.login == "owner"
    # Back to the chain's: a new session of Mia's lasts 30 minutes again.
    settings.set_store_idle_minutes(storage, chain["a"], None, actor="owner")
    _, claim = sessions.start(storage, mia, device="d", client="10.0.0.5", now=now)
    assert sessions.check(storage, sessions.claim(storage, claim), now=later).account
    with pytest.raises(ValidationError):
        settings.set_store_idle_minutes(storage, chain["a"], 3, actor="owner")
    # The sessions list keeps a session the longest idle time still allows.
    settings.set_store_idle_minutes(storage, chain["b"], 120, actor="owner")
    with storage.read() as db:
        assert settings.longest_idle_minutes_in(db) == 120


def offered(storage: Storage, store_id: int) -> list[str]:
    return [r["name"] for r in taps.pad_lists(storage, store_id)["reasons"]]


def test_a_store_keeps_its_own_list_beside_the_chain_s(chain):
    storage, a, b = chain["storage"], chain["a"], chain["b"]
    chain_names = [r["name"] for r in catalog.list_reasons(storage, REASON)]
    gift = chain["reasons"][chain_names[0]]
    repair = catalog.add_reason(storage, REASON, "Watch repair", actor="manager:Mia", store_id=a)
    catalog.set_reason_hidden(storage, a, gift, True, actor="manager:Mia")
    assert offered(storage, a) == [*chain_names[1:], "Watch repair"]
    assert offered(storage, b) == chain_names
    assert [r["name"] for r in catalog.list_reasons(storage, REASON)] == chain_names
    # A tap at B cannot name A's own entry, nor one at A a hidden entry.
    at_b = new_id()
    visits.create_visit(storage, at_b, b, chain["bea"], "warm")
    with pytest.raises(ValidationError, match="not on this store's list"):
        visits.set_reason(storage, at_b, repair, actor="test")
    at_a = new_id()
    visits.create_visit(storage, at_a, a, chain["ana"], "warm")
    with pytest.raises(ValidationError, match="not on this store's list"):
        visits.set_reason(storage, at_a, gift, actor="test")
    visits.set_reason(storage, at_a, repair, actor="test")
    visits.set_reason(storage, at_b, gift, actor="test")
    # Names are unique in what a store offers; B may have its own "Watch repair".
    with pytest.raises(ValidationError, match="already has"):
        catalog.add_reason(storage, REASON, "watch REPAIR", actor="test", store_id=a)
    with pytest.raises(ValidationError, match="already has"):
        catalog.add_reason(storage, REASON, chain_names[1], actor="test", store_id=a)
    with pytest.raises(ValidationError, match="already has"):
        catalog.add_reason(storage, REASON, "Watch repair", actor="owner")  # A would show two
    catalog.add_reason(storage, REASON, "Watch repair", actor="test", store_id=b)
    with pytest.raises(ValidationError, match="every store's list"):
        catalog.set_reason_hidden(storage, b, repair, True, actor="test")
    # Moving within A's own entries leaves the chain's order alone.
    second = catalog.add_reason(storage, REASON, "Engraving", actor="test", store_id=a)
    catalog.move_reason(storage, REASON, second, -1, actor="test")
    assert offered(storage, a)[-2:] == ["Engraving", "Watch repair"]
    assert [r["name"] for r in catalog.list_reasons(storage, REASON)] == chain_names
    # Shown again at A; every entry still has its name for the dashboard.
    catalog.set_reason_hidden(storage, a, gift, False, actor="test")
    assert offered(storage, a)[0] == chain_names[0]
    every = {r["name"] for r in catalog.list_reasons(storage, REASON, every=True)}
    assert {"Watch repair", "Engraving", *chain_names} == every


def test_a_copied_store_keeps_its_own_list(chain, tmp_path):
    storage, a = chain["storage"], chain["a"]
    gift = chain["reasons"][catalog.list_reasons(storage, REASON)[0]["name"]]
    catalog.add_reason(storage, REASON, "Watch repair", actor="test", store_id=a)
    catalog.add_reason(storage, REASON, "Harbour tours", actor="test", store_id=chain["b"])
    catalog.set_reason_hidden(storage, a, gift, True, actor="test")
    target = Storage(str(tmp_path / "other.db"))
    target.migrate()
    catalog.create_store(target, "Elsewhere", "Europe/London")
    moved = moving.copy(storage, target, "Corner Shop")
    new_a = moved.stores[a]
    names = offered(target, new_a)
    assert names[-1] == "Watch repair" and "Harbour tours" not in names
    assert len(names) == len(offered(storage, a))
    first = catalog.list_reasons(target, REASON)[0]
    assert first["name"] not in names  # still hidden at the copy


def test_a_store_manager_sets_their_store_s_rules_in_settings(chain):
    storage = chain["storage"]
    at = as_role(open_page(), "Mia").run()
    at.switch_page("pages/settings.py").run()
    assert not at.exception
    assert at.toggle(key="pin-required").disabled  # the chain's: the owner's
    at.selectbox(key=f"store-pin-{chain['a']}").set_value("on").run()
    assert settings.store_own(storage, settings.PIN_REQUIRED, chain["a"]) == "1"
    at.number_input(key=f"store-idle-{chain['a']}").set_value(15)
    at.button(key=f"store-idle-save-{chain['a']}").click().run()
    assert settings.idle_minutes(storage, (chain["a"],)) == 15
    at.text_input(key=f"new-reason-{chain['a']}").input("Watch repair")
    at.button(key=f"add-reason-{chain['a']}").click().run()
    assert offered(storage, chain["a"])[-1] == "Watch repair"
    assert "Watch repair" not in offered(storage, chain["b"])
    # Nothing of B's: no rule, no entry, no picker for it.
    assert settings.store_own(storage, settings.PIN_REQUIRED, chain["b"]) is None
    assert not [r for r in at.selectbox if r.key == f"store-pin-{chain['b']}"]


def test_an_owner_hides_a_chain_entry_at_one_store(chain):
    storage = chain["storage"]
    at = as_role(open_page(), "owner").run()
    at.switch_page("pages/settings.py").run()
    at.selectbox(key="settings-store").set_value(chain["b"]).run()
    first = catalog.list_reasons(storage, REASON)[0]
    at.multiselect(key=f"hidden-reason-{chain['b']}").set_value([first["id"]]).run()
    assert not at.exception
    assert first["name"] not in offered(storage, chain["b"])
    assert first["name"] in offered(storage, chain["a"])


def test_one_store_has_no_store_rules(app_env, shop):
    """A single store: its rules are the chain's, shown as before."""
    at = as_role(open_page(), "manager").run()
    at.switch_page("pages/settings.py").run()
    assert not at.exception
    assert not at.toggle(key="pin-required").disabled
    assert not [r for r in at.selectbox if r.key.startswith("store-pin-")]
    assert not [m for m in at.multiselect if m.key.startswith("hidden-")]


def test_the_pad_of_an_associate_gets_their_store_s_list(chain, monkeypatch):
    storage = chain["storage"]
    catalog.add_reason(storage, REASON, "Watch repair", actor="test", store_id=chain["a"])
    from cxlog.access import shifts

    cookie = shifts.start(storage, chain["bea"], shifts.new_device_id())
    names = [r["name"] for r in pad_data(device(monkeypatch, storage, cookie))["reasons"]]
    assert "Watch repair" not in names
    cookie = shifts.start(storage, chain["ana"], shifts.new_device_id())
    names = [r["name"] for r in pad_data(device(monkeypatch, storage, cookie))["reasons"]]
    assert names[-1] == "Watch repair"


def test_another_store_s_own_entry_never_shows(chain):
    """Mia (store A) never sees the name of an entry only B offers."""
    catalog.add_reason(chain["storage"], REASON, "Harbour tours", actor="test", store_id=chain["b"])
    for page in ("pages/dashboard.py", "pages/visits.py", "pages/settings.py"):
        at = as_role(open_page(), "Mia").run()
        at.switch_page(page).run()
        assert not at.exception and "Harbour tours" not in text_of(at), page
    at = as_role(open_page(), "owner").run()
    at.switch_page("pages/dashboard.py").run()
    assert "Harbour tours" in text_of(at)  # the owner's filter lists it
