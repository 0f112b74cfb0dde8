"""Hostile input into every text a person can type (issue #7): names of
associates, reasons and the store, void notes, passwords, PINs, the shift in
the URL and junk query parameters. Each is stored exactly as typed (trimmed,
NFC) or refused with a sentence; SQL stays data, nothing is executed, and no
page shows a stack trace. What the browser renders is checked in
test_hostile_browser.py."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
import sqlite_utils
from streamlit.testing.v1 import AppTest

from cxlog.access import access, accounts, lockout, shifts
from cxlog.core import roles
from cxlog.core.errors import ValidationError
from cxlog.core.model import NO_SALE_REASON, REASON
from cxlog.storage import settings
from cxlog.stores import catalog
from cxlog.visits import visits
from cxlog.web import navigation
from tests.conftest import as_role, new_id, sign_in_role
from tests.helpers.pages import device, open_page, pad_data

HOSTILE: dict[str, str] = {
    "10,000 characters": "x" * 10_000,
    "NUL byte": "Ana\x00Ben",
    "newline": "Ana\nBen",
    "only spaces": "   ",
    "right-to-left override": "\u202eanA\u202c Ben",
    "unclosed override": "\u202enoB",
    "right-to-left mark": "\u200fعلي\u200f",
    "emoji": "Zoë 👩🏽‍💼🛍️",
    "script tag": "<script>alert(1)</script>",
    "html attribute": '"><img src=x onerror=alert(1)>',
    "SQL fragment": "Bob'); DROP TABLE visits;--",
    "SQL condition": "x' OR '1'='1' --",
    "CSV formula": '=HYPERLINK("http://evil.example")',
    "CSV at-sign": "@SUM(A1:A9)",
    "CSV plus": "+1-1+cmd|' /C calc'!A0",
    "markdown": "**[x](http://evil.example)**",
    "markdown image": "![i](http://evil.example/p.png)",
    "streamlit markup": ":red[x] :material/home: $x^2$",
}
# Refused for every name: too long, control characters, nothing but spaces.
REFUSED = {"10,000 characters", "NUL byte", "newline", "only spaces"}
TABLES = [
    "associates",
    "audit",
    "reasons",
    "settings",
    "shifts",
    "sign_in_failures",
    "sign_in_throttle",
    "role_sessions",
    "stores",
]


def as_stored(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def a_sentence(message: str) -> bool:
    return message[:1].isupper() and message.endswith(".") and "Traceback" not in message


def result(call: Callable[[], object]) -> object:
    """What became of one input: the stored value, or "refused" with a sentence."""
    try:
        return call()
    except ValidationError as exc:
        assert a_sentence(str(exc)), str(exc)
        return "refused"


def expected(refused: set[str], stored: Callable[[str], object] = as_stored) -> dict:
    return {
        label: "refused" if label in refused else stored(text) for label, text in HOSTILE.items()
    }


def assert_intact(storage) -> None:
    db = sqlite_utils.Database(storage.path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert {"visits", *TABLES} <= set(db.table_names())


# --- the domain edge: every function that takes typed text --------------------

NAME_FIELDS: dict[str, Callable] = {
    "new associate": lambda s, shop, text: catalog.get_associate(
        s, catalog.add_associate(s, shop["store"], text, actor="manager")
    )["name"],
    "renamed associate": lambda s, shop, text: (
        catalog.rename_associate(s, shop["ana"], text, actor="manager"),
        catalog.get_associate(s, shop["ana"])["name"],
    )[1],
    "new reason": lambda s, shop, text: _reason_name(
        s, catalog.add_reason(s, REASON, text, actor="manager")
    ),
    "new no-sale reason": lambda s, shop, text: _reason_name(
        s, catalog.add_reason(s, NO_SALE_REASON, text, actor="manager")
    ),
    "renamed reason": lambda s, shop, text: (
        catalog.rename_reason(s, shop["reasons"]["Gift"], text, actor="manager"),
        _reason_name(s, shop["reasons"]["Gift"]),
    )[1],
    "new store": lambda s, shop, text: catalog.get_store(
        s, catalog.create_store(s, text, "Europe/London", actor="owner")
    )["name"],
    "renamed store": lambda s, shop, text: (
        catalog.update_store(s, shop["store"], name=text, actor="manager"),
        catalog.get_store(s, shop["store"])["name"],
    )[1],
}


def _reason_name(storage, reason_id: int) -> str:
    (name,) = [
        r["name"] for r in catalog.list_reasons(storage, REASON) if r["id"] == reason_id
    ] or [r["name"] for r in catalog.list_reasons(storage, NO_SALE_REASON) if r["id"] == reason_id]
    return name


@pytest.mark.parametrize("field", list(NAME_FIELDS))
def test_names_are_stored_as_typed_or_refused_with_a_sentence(field, storage, shop):
    write = NAME_FIELDS[field]
    got = {label: result(lambda t=text: write(storage, shop, t)) for label, text in HOSTILE.items()}
    assert got == expected(REFUSED)
    assert_intact(storage)


def test_void_notes_are_stored_as_typed_or_refused(storage, shop):
    def void(text: str) -> str:
        vid = new_id()
        visits.create_visit(storage, vid, shop["store"], shop["ana"], "warm")
        return visits.void_visit(storage, vid, text, actor="manager")["void_reason"]

    got = {label: result(lambda t=text: void(t)) for label, text in HOSTILE.items()}
    assert got == expected(REFUSED)
    assert_intact(storage)


def test_passwords_are_kept_as_typed_or_refused(storage):
    """A password is never trimmed or normalised: exactly what was typed signs in."""

    def set_then_sign_in(text: str) -> str:
        accounts.add_or_reset(storage, roles.OWNER, roles.OWNER, text, actor="owner")
        sign_in_role(storage, roles.OWNER, text)
        with pytest.raises(ValidationError, match="not right"):
            sign_in_role(storage, roles.OWNER, text + "?")
        return "signs in"

    got = {label: result(lambda t=text: set_then_sign_in(t)) for label, text in HOSTILE.items()}
    # Shorter than 8 characters, longer than 200, or with a NUL: refused.
    short = {label for label, text in HOSTILE.items() if len(text) < 8}
    refused = {"10,000 characters", "NUL byte"} | short
    assert got == expected(refused, lambda text: "signs in")
    assert_intact(storage)


def test_a_hostile_password_at_sign_in_is_just_wrong(storage):
    accounts.add_or_reset(storage, roles.OWNER, roles.OWNER, "owner-secret-1", actor="owner")
    for text in HOSTILE.values():
        with pytest.raises(ValidationError) as refused:
            sign_in_role(storage, roles.OWNER, text)
        assert a_sentence(str(refused.value))
        with pytest.raises(ValidationError) as refused:  # as the name, too (#28)
            sign_in_role(storage, text, "owner-secret-1")
        assert a_sentence(str(refused.value))
    locked = lockout.locked_until(storage, accounts.who(roles.OWNER), "10.0.0.2")
    assert locked is not None  # locks out
    assert_intact(storage)


def test_pins_shift_tokens_and_visit_ids_refuse_hostile_text(storage, shop):
    for text in HOSTILE.values():
        assert result(lambda t=text: access.set_pin(storage, shop["ana"], t, actor="m")) == (
            "refused"
        )
        assert shifts.current(storage, text) is None
        assert (
            result(
                lambda t=text: visits.create_visit(storage, t, shop["store"], shop["ana"], "warm")
            )
            == "refused"
        )
    assert catalog.get_associate(storage, shop["ana"])["pin_hash"] is None
    assert sqlite_utils.Database(storage.path)["visits"].count == 0
    assert_intact(storage)


# --- what the pages do with it (AppTest) ---------------------------------------

SHOWN = [label for label in HOSTILE if label not in REFUSED]


def test_hostile_names_on_the_log_page_are_plain_text(app_env, shop, monkeypatch):
    """Names, store and reasons with markup in them reach the tap pad exactly
    as stored; the pad puts them on screen as text (never as HTML or
    markdown), which tests/reliability/test_hostile_browser.py checks in
    Chromium."""
    markup = HOSTILE["markdown"]
    catalog.rename_associate(app_env, shop["ana"], markup, actor="manager")
    catalog.update_store(app_env, shop["store"], name=HOSTILE["script tag"], actor="manager")
    catalog.rename_reason(app_env, shop["reasons"]["Gift"], HOSTILE["CSV formula"], actor="m")
    for label in SHOWN:
        if label not in ("markdown", "script tag", "CSV formula"):
            catalog.add_associate(app_env, shop["store"], HOSTILE[label], actor="manager")
    at = device(monkeypatch, app_env)
    assert not at.exception
    names = {as_stored(HOSTILE[label]) for label in SHOWN} - {
        HOSTILE["script tag"],
        HOSTILE["CSV formula"],
    }
    assert sorted(p["name"] for p in pad_data(at)["people"]) == sorted(names | {"Ben"})

    cookie = shifts.start(app_env, shop["ana"], shifts.new_device_id())
    data = pad_data(device(monkeypatch, app_env, cookie))
    assert data["me"] == {"id": shop["ana"], "name": markup, "store": HOSTILE["script tag"]}
    assert data["reasons"][0] == {"id": shop["reasons"]["Gift"], "name": HOSTILE["CSV formula"]}


@pytest.mark.parametrize(
    "value",
    [
        "x" * 10_000,
        "\x00" * 20,
        "<script>alert(1)</script>",
        "'; DROP TABLE device_shifts;--",
        "\u202e🛍️" * 5,
        "%00%27",
        "1." + "A" * 24,
    ],
)
def test_a_hostile_shift_cookie_asks_who_is_logging(app_env, shop, value, monkeypatch):
    at = device(monkeypatch, app_env, value)
    assert not at.exception
    assert pad_data(at)["mode"] == "who"
    assert_intact(app_env)


def test_hostile_pins_on_the_log_page_are_refused_then_lock(app_env, shop, monkeypatch):
    """The pad's PIN goes to POST /api/v1/shifts; the route's own work, here
    without a server (tests/test_api_taps.py covers the route)."""
    from cxlog.server.api import shifts as shift_route
    from cxlog.server.api.common import ApiError
    from cxlog.storage.db import shared_storage

    monkeypatch.setattr(
        shift_route, "shared_storage", lambda *where: shared_storage(app_env.address)
    )
    settings.set_setting(app_env, settings.PIN_REQUIRED, "1", actor="manager")
    access.set_pin(app_env, shop["ana"], "2468", actor="manager")
    device_id = shifts.new_device_id()
    for text in [*list(HOSTILE.values())[:6], "2468"]:
        with pytest.raises(ApiError) as refused:
            shift_route._start(
                {"associate_id": shop["ana"], "pin": text}, device_id, "10.0.0.66", device_id
            )
        assert refused.value.status == 403 and a_sentence(refused.value.message)
    assert "locked" in refused.value.message  # six wrong tries: the right PIN waits too
    assert sqlite_utils.Database(app_env.path)["device_shifts"].count == 0


def test_hostile_passwords_in_the_sign_in_form_are_refused(app_env):
    at = open_page().run()
    at.switch_page("pages/account.py")
    at.run()
    for text in list(HOSTILE.values())[:5]:  # the lockout answers the rest the same way
        at.text_input(key="sign_in_login").set_value(text[:80])
        at.text_input(key="sign_in_password").set_value(text)
        at.button(key="sign-in-submit").click().run()
        assert not at.exception
        assert at.error and a_sentence(at.error[0].value)
        assert at.session_state["role"] is None


JUNK_QUERY = {
    "shift": "<script>alert(1)</script>",
    "page": "../../etc/passwd",
    "embed_options": "'; DROP TABLE visits;--",
    "x": "\x00" * 3 + "=cmd|' /C calc'!A0",
}


@pytest.mark.parametrize("page", [p[0] for p in navigation.PAGES] + ["pages/account.py"])
def test_junk_query_parameters_on_every_page(app_env, shop, page):
    at = as_role(open_page(), "owner")
    for key, value in JUNK_QUERY.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page)
    for key, value in JUNK_QUERY.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    assert at.title or pad_data(at)  # the Log page's title is drawn by its pad
    assert_intact(app_env)


# --- the Settings and Visits pages' text inputs --------------------------------

PAGE_INPUTS = [
    "10,000 characters",
    "NUL byte",
    "right-to-left override",
    "emoji",
    "script tag",
    "SQL fragment",
    "CSV formula",
    "markdown image",
]
SETTINGS_FIELDS = {
    # input key → (button key, read back the stored value)
    "new-associate": (
        "add-associate",
        lambda s, shop: {a["name"] for a in catalog.list_associates(s, shop["store"])},
    ),
    f"new-{REASON}": (
        f"add-{REASON}",
        lambda s, shop: {r["name"] for r in catalog.list_reasons(s, REASON)},
    ),
    f"new-{NO_SALE_REASON}": (
        f"add-{NO_SALE_REASON}",
        lambda s, shop: {r["name"] for r in catalog.list_reasons(s, NO_SALE_REASON)},
    ),
    "rename-associate": (
        "rename-associate-save",
        lambda s, shop: {a["name"] for a in catalog.list_associates(s, shop["store"])},
    ),
}


def settings_page() -> AppTest:
    at = as_role(open_page(), "manager").run()
    at.switch_page("pages/settings.py")
    return at.run()


@pytest.mark.parametrize("field", list(SETTINGS_FIELDS))
def test_settings_text_inputs_store_as_typed_or_refuse(field, app_env, shop):
    button, read = SETTINGS_FIELDS[field]
    at = settings_page()
    for label in PAGE_INPUTS:
        widget = at.text_input(key=field)
        # Streamlit cuts a longer value to max_chars on the server, so a client
        # that sends 10,000 characters gets what a browser would have let it type.
        text = HOSTILE[label][: widget.max_chars]
        widget.set_value(HOSTILE[label])
        at.button(key=button).click().run()
        assert not at.exception, label
        stored = as_stored(text) in read(app_env, shop)
        refused = any(a_sentence(e.value) for e in at.error)
        assert stored != refused, label  # exactly one: kept as typed, or a sentence
        assert refused == (label == "NUL byte"), label
    assert_intact(app_env)


def test_settings_store_name_and_password_inputs(app_env, shop):
    at = settings_page()
    name_key = f"store-name-{shop['store']}"
    for label in PAGE_INPUTS:
        at.text_input(key=name_key).set_value(HOSTILE[label])
        at.button(key="store-save").click().run()
        assert not at.exception, label
        stored = catalog.get_store(app_env, shop["store"])["name"]
        typed = as_stored(HOSTILE[label][:60])  # the input's max_chars
        assert (stored == typed) == (label != "NUL byte"), label
    for label in ("NUL byte", "10,000 characters", "script tag"):
        at.text_input(key="password-own").set_value(HOSTILE[label])
        at.button(key="password-own-save").click().run()
        assert not at.exception, label
    # Only the 25-character script tag was long enough and clean enough to keep.
    sign_in_role(app_env, roles.MANAGER, HOSTILE["script tag"])
    assert_intact(app_env)


def test_hostile_account_names_are_kept_as_typed_or_refused(app_env, shop):
    """Settings → Accounts (issue #28): a name is stored as typed (trimmed,
    NFC) or refused with a sentence; it never breaks the page."""
    at = as_role(open_page(), "owner").run()
    at.switch_page("pages/settings.py")
    at.run()
    made = {}
    for label, text in HOSTILE.items():
        at.text_input(key="account-new-login").set_value(text)
        at.segmented_control(key="account-new-role").set_value(roles.OWNER)
        at.text_input(key="account-new-password").set_value("a password 1")
        at.button(key="account-add").click().run()
        assert not at.exception, label
        row = accounts.find(app_env, text[:80])  # the field keeps 80 characters
        made[label] = "refused" if row is None else "kept"
        if row is None:
            assert at.error and a_sentence(at.error[0].value), label
        else:
            assert row["login"] == as_stored(text[:80]), label
    assert made["NUL byte"] == "refused" and made["script tag"] == "kept"
    assert_intact(app_env)


def test_visits_page_void_note(app_env, shop):
    vid = new_id()
    visits.create_visit(app_env, vid, shop["store"], shop["ana"], "warm")
    at = as_role(open_page(), "manager").run()
    at.switch_page("pages/visits.py")
    at.run()
    at.text_input(key=f"void-why-{vid}").set_value(HOSTILE["NUL byte"])
    at.button(key=f"void-{vid}").click().run()
    assert not at.exception
    assert at.error and a_sentence(at.error[0].value)
    assert visits.get_visit(app_env, vid)["voided_at"] is None
    at.text_input(key=f"void-why-{vid}").set_value(HOSTILE["SQL fragment"])
    at.button(key=f"void-{vid}").click().run()
    assert not at.exception
    visit = visits.get_visit(app_env, vid)
    assert visit["void_reason"] == HOSTILE["SQL fragment"]
    assert_intact(app_env)
