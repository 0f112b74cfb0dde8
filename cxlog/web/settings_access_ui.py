"""Settings' tabs for the store, access, joining devices and the follow-up
window (pages/settings.py draws the page)."""

from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st

from cxlog.access import accounts, join, sessions
from cxlog.access.accounts import Account
from cxlog.calendar import localday
from cxlog.core.model import from_utc_text, timezones
from cxlog.core.text import plain
from cxlog.followups import followups
from cxlog.language import words
from cxlog.language.words import N_, _, shown
from cxlog.storage import settings
from cxlog.storage.db import Storage
from cxlog.stores import catalog
from cxlog.web import ui
from cxlog.web.accounts_ui import NAME_AND_ROLE
from cxlog.web.settings_ui import form


def store_form(storage: Storage, store: dict, role: str) -> None:
    state = st.session_state
    ui.show_error("store")
    name_key, zone_key = f"store-name-{store['id']}", f"store-zone-{store['id']}"
    state.setdefault(name_key, store["name"])
    state.setdefault(zone_key, store["timezone"])
    with form("store-form"):
        st.text_input(_("Store name"), key=name_key, max_chars=60)
        zones = sorted(timezones())
        st.selectbox(_("Timezone (hours and days on the dashboard use it)"), zones, key=zone_key)
        st.form_submit_button(
            _("Save store"),
            key="store-save",
            type="primary",
            on_click=lambda: ui.change(
                storage,
                "store",
                lambda: catalog.update_store(
                    storage, store["id"], name=state[name_key], timezone=state[zone_key], actor=role
                ),
                _("Store saved."),
            ),
        )


def access_tab(storage: Storage, store: dict, me: Account) -> None:
    state = st.session_state
    ui.show_error("access")
    actor = me.actor
    # The PIN rule and the idle time: the chain's, and (issue #28) a store's
    # own where it wants one; only an account that sees every store changes
    # the chain's.
    everywhere = ui.sees_every_store(storage, me)
    several = len(catalog.list_stores(storage)) > 1
    if several:
        st.subheader(_("Every store (the chain's rule)"))
    state["pin-required"] = settings.pin_required(storage)
    st.toggle(
        _("Associates need a PIN to say who they are"),
        key="pin-required",
        disabled=not everywhere,
        on_change=lambda: ui.change(
            storage,
            "access",
            lambda: settings.set_setting(
                storage, settings.PIN_REQUIRED, "1" if state["pin-required"] else "0", actor=actor
            ),
            _("PIN setting saved."),
        ),
    )
    state.setdefault("idle-minutes", settings.idle_minutes(storage))
    with form("idle-form"):
        st.number_input(
            _("Sign managers out after (minutes without use)"),
            min_value=5,
            max_value=480,
            step=5,
            key="idle-minutes",
            disabled=not everywhere,
        )
        st.form_submit_button(
            _("Save"),
            key="idle-save",
            disabled=not everywhere,
            on_click=lambda: ui.change(
                storage,
                "access",
                lambda: settings.set_idle_minutes(storage, int(state["idle-minutes"]), actor=actor),
                _("Idle time saved."),
            ),
        )
    if not everywhere:
        st.caption(
            _("These two hold for every store that has no rule of its own: the owner changes them.")
        )
    if several:
        store_rules(storage, store, me)
    if several:
        st.subheader(_("Your account"))
    with form("password-own-form"):
        st.text_input(
            _("New password for {name} (at least 8 characters)").format(name=plain(me.login)),
            type="password",
            key="password-own",
            max_chars=200,
            autocomplete="new-password",
        )
        st.form_submit_button(
            _("Change my password"),
            key="password-own-save",
            on_click=lambda: ui.change(
                storage,
                "access",
                # Every other session of this account ends; this one stays.
                lambda: accounts.set_password(
                    storage,
                    me.id,
                    state["password-own"],
                    actor=actor,
                    keep_session=ui.session_token(),
                ),
                _("Password changed; your other devices must sign in again."),
                "password-own",
            ),
        )

    # Signed-in devices: a manager sees and ends their own sessions, the owner all.
    st.subheader(_("Signed-in devices"))
    mine = state.get(ui.ROLE_SESSION_ID)
    listed = sessions.active(storage, seen_by=me)

    def when(text: str) -> str:
        return localday.moment_text(from_utc_text(text), store["timezone"])

    account_col, device_col, address_col = _("Account"), _("Device"), _("Address")
    signed_in_col, used_col = _("Signed in"), _("Last used")
    st.dataframe(
        [
            {
                account_col: shown(NAME_AND_ROLE[s["role"]]).format(name=s["login"]),
                device_col: _("{device} (this one)").format(device=s["device"])
                if s["id"] == mine
                else s["device"],
                address_col: s["client"],
                signed_in_col: when(s["created_at"]),
                used_col: when(s["last_seen_at"]),
            }
            for s in listed
        ],
        hide_index=True,
    )
    others = [s for s in listed if s["id"] != mine]
    if others:
        st.selectbox(
            _("End a session"),
            [s["id"] for s in others],
            key="end-session-pick",
            format_func={
                s["id"]: f"{s['login']} · {s['device']} · {when(s['last_seen_at'])}" for s in others
            }.get,
        )
        with st.container(horizontal=True):
            st.button(
                _("End this session"),
                key="end-session",
                icon=":material/logout:",
                # The pick as it is at the tap, read from the widget's state.
                on_click=lambda: ui.change(
                    storage,
                    "access",
                    lambda: sessions.end_session(
                        storage, state["end-session-pick"], actor=actor, seen_by=me
                    ),
                    _("Session ended: that device must sign in again."),
                ),
            )
            st.button(
                _("Sign out everywhere else"),
                key="end-all-sessions",
                on_click=lambda: ui.change(
                    storage,
                    "access",
                    lambda: sessions.end_all(storage, actor=actor, except_id=mine, seen_by=me),
                    _("Every other session ended."),
                ),
            )


PIN_RULES = {
    "chain": N_("As every store"),
    "on": N_("Always ask for a PIN here"),
    "off": N_("Never ask for a PIN here"),
}


def store_rules(storage: Storage, store: dict, me: Account) -> None:
    """One store's own PIN rule and idle time (issue #28), or the chain's."""
    state, sid = st.session_state, store["id"]
    st.subheader(_("{store} only").format(store=plain(store["name"])))
    own_pin = settings.store_own(storage, settings.PIN_REQUIRED, sid)
    pin_key = f"store-pin-{sid}"
    state[pin_key] = "chain" if own_pin is None else "on" if own_pin == "1" else "off"
    st.selectbox(  # a select box: a whole 48 px target, where a radio's rows are 24
        _("PIN at this store"),
        list(PIN_RULES),
        key=pin_key,
        format_func=lambda rule: _(PIN_RULES[rule]),
        on_change=lambda: ui.change(
            storage,
            "access",
            lambda: settings.set_pin_rule(storage, sid, state[pin_key], actor=me.actor),
            _("PIN rule of the store saved."),
            store_id=sid,
        ),
    )
    own_idle = settings.store_own(storage, settings.IDLE_MINUTES, sid)
    idle_key = f"store-idle-{sid}"
    state.setdefault(idle_key, int(own_idle) if own_idle else settings.idle_minutes(storage))
    with form(f"store-idle-form-{sid}"):
        st.number_input(
            _("Sign this store's managers out after (minutes without use)"),
            min_value=5,
            max_value=480,
            step=5,
            key=idle_key,
        )
        st.caption(
            _("An account with several stores is signed out after the shortest of their times.")
            if own_idle
            else _("Now: as every store.")
        )
        with st.container(horizontal=True):
            st.form_submit_button(
                _("Save for this store"),
                key=f"store-idle-save-{sid}",
                on_click=lambda: ui.change(
                    storage,
                    "access",
                    lambda: settings.set_store_idle_minutes(
                        storage, sid, int(state[idle_key]), actor=me.actor
                    ),
                    _("Idle time of the store saved."),
                    store_id=sid,
                ),
            )
            st.form_submit_button(
                _("As every store"),
                key=f"store-idle-chain-{sid}",
                disabled=own_idle is None,
                on_click=lambda: ui.change(
                    storage,
                    "access",
                    lambda: settings.set_store_idle_minutes(storage, sid, None, actor=me.actor),
                    _("The store follows the chain's idle time."),
                    store_id=sid,
                ),
            )


def devices(storage: Storage, store: dict) -> None:
    if urlsplit(st.context.url or "").scheme != "https":
        st.warning(
            _(
                "This page came over plain HTTP: anyone on the same wifi can read what a "
                "signed-in device sends, including its sign-in. Use a wifi only staff can "
                "join, or serve cxlog over HTTPS (README: Access and security)."
            ),
            icon=":material/lock_open:",
        )
    several = len(catalog.list_stores(storage)) > 1
    st.write(
        _("Tablets and phones of {store} open the Log page at:").format(store=plain(store["name"]))
        if several
        else _("Tablets and phones on the store network open the Log page at:")
    )
    # In a chain each store's code opens the Log page on that store's people.
    urls = join.log_page_urls(
        st.get_option("server.port"), st.context.url, store["id"] if several else None
    )
    if not urls:
        st.warning(
            _(
                "This machine shows no network address other than itself: connect it to "
                "the store network, then reload this page."
            )
        )
    for url in urls:
        st.code(url, language=None)
    if urls:
        st.image(join.qr_svg(urls[0]), caption=_("Scan with the tablet's camera"), width=232)
    st.caption(
        _(
            "On the tablet: open the address, tap your name, then add the page to the home "
            "screen (Share → Add to Home Screen on iPad; ⋮ → Add to Home screen on Android)."
        )
    )


def followup_window(storage: Storage, store: dict, role: str) -> None:
    state = st.session_state
    ui.show_error("followup-window")
    with st.form(f"followup-window-{store['id']}"):
        st.number_input(
            _("Follow-up conversion window (days after the promise)"),
            min_value=1,
            max_value=followups.MAX_WINDOW_DAYS,
            value=followups.window_days(storage, store["id"]),
            step=1,
            key=f"followup-window-{store['id']}",
        )
        st.caption(
            _(
                'A follow-up counts as converted on the dashboard when its result is "came back '
                'and bought" within this many days of the promise.'
            )
        )
        st.form_submit_button(
            _("Save window"),
            on_click=lambda: ui.change(
                storage,
                "followup-window",
                lambda: followups.set_window_days(
                    storage,
                    store["id"],
                    int(state[f"followup-window-{store['id']}"]),
                    actor=role,
                ),
                _("Follow-up window saved."),
            ),
        )


def store_language(storage: Storage, store: dict, account: Account) -> None:
    """Settings → Store: the language this store's devices start in, and (for
    an account that sees every store of a chain) the chain's."""
    ui.show_error("language")
    several = len(catalog.list_stores(storage)) > 1
    everywhere = ui.sees_every_store(storage, account)
    if several and everywhere:
        chain = settings.store_language(storage)
        key = "language-chain"
        st.session_state[key] = chain or ""
        st.selectbox(
            _("Language of every store (each store may fix its own)"),
            ["", *words.LANGUAGES],
            key=key,
            format_func=lambda code: words.LANGUAGES.get(code) or _("Each device's browser"),
            on_change=lambda: ui.change(
                storage,
                "language",
                lambda: settings.set_language(
                    storage, st.session_state[key] or None, actor=account.actor
                ),
                _("Language saved."),
            ),
        )
    own = settings.store_own(storage, settings.LANGUAGE, store["id"])
    inherited = settings.store_language(storage) if several else None
    follow = (
        _("Every store's ({name})").format(name=words.LANGUAGES[inherited])
        if inherited
        else _("Each device's browser")
    )
    key = f"language-store-{store['id']}"
    st.session_state[key] = words.supported(own) or ""
    st.selectbox(
        _("Language of this store's tablets and phones"),
        ["", *words.LANGUAGES],
        key=key,
        format_func=lambda code: words.LANGUAGES.get(code) or follow,
        help=_(
            "Tablets follow a change at their next refresh. A device whose own language "
            "was picked on it (at the foot of the Log page) keeps that one."
        ),
        on_change=lambda: ui.change(
            storage,
            "language",
            lambda: settings.set_store_language(
                storage, store["id"], st.session_state[key] or None, actor=account.actor
            ),
            _("Language saved."),
            store_id=store["id"],
        ),
    )
