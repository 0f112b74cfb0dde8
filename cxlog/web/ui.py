"""The small Streamlit helper module: shared resources, session-state keys,
touch styling and the turning of named errors into messages. Pages import
this; the rest of cxlog never imports Streamlit."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from cxlog.access import accounts, lockout, sessions, shifts
from cxlog.access.accounts import Account
from cxlog.core import roles, routes
from cxlog.core.errors import CxlogError
from cxlog.core.model import utc_now
from cxlog.language import formats
from cxlog.language.words import N_, _, n_
from cxlog.storage.db import Storage, shared_storage
from cxlog.stores import catalog
from cxlog.web import heap, language_ui

T = TypeVar("T")

# Streamlit treats an app with a pages/ folder beside its main script as a
# legacy multipage app until the first st.navigation call in the process: on a
# freshly started server, a direct URL such as /settings ran the page script
# without the router (seen in our browser test). Every page therefore guards
# itself (require_account, init_state, setup's first-run check); cxlog.serve ends
# the legacy mode before the first session (docs/architecture.md).

# Every session-state key the pages use, in one place.
ERRORS = "errors"  # {place: message} shown once where the failed tap was
TOASTS = "toasts"  # [(text, icon)] queued by callbacks, shown by the next draw
ROLE = "role"  # the role of this run's session (read from the database each run)
ACCOUNT = "account"  # the Account of this run's session (read from the database each run)
ROLE_TOKEN = "role_token"  # this tab's session token until the cookie takes over
ROLE_CLAIM = "role_claim"  # one-time code the browser trades for the cookie
ROLE_SESSION_ID = "role_session_id"  # the session's row id (Settings → Access)
# Until when this tab may use ROLE_TOKEN without the cookie (issue #25): if
# the cookie hand-over fails, the tab is signed out after the claim's minute
# instead of staying signed in through its Streamlit session id.
ROLE_TOKEN_UNTIL = "role_token_until"
NOTICE = "notice"  # a sentence for the sign-in form (e.g. signed out for idling)
PICKED_STORE = "picked_store"

# Whole sentences per role needed: the role's word changes the grammar (#29).
NEEDS_ROLE = {
    roles.MANAGER: N_("This page needs the manager's account."),
    roles.OWNER: N_("This page needs the owner's account."),
}

# 48 px is the touch-target minimum on both devices (docs/product.md). Streamlit's
# buttons are ~40 px and pills ~32 px (docs/stack-facts.md), so raise them here. Only
# fixed CSS goes through st.html; nothing a person typed is ever in it.
TOUCH_CSS = """
<style>
.stButton button, .stDownloadButton button, .stFormSubmitButton button,
div[data-testid="stButtonGroup"] button, .stNumberInput button {
  min-height: 48px;
  min-width: 48px;
}
div[data-testid="stNumberInput"] input, div[data-testid="stTextInput"] input,
div[data-testid="stDateInput"] input, div[data-testid="stSelectbox"] input,
div[data-testid="stMultiSelect"] input {
  min-height: 48px;
}
div[data-testid="stToolbar"] button { min-height: 48px !important; min-width: 48px !important; }
div[data-testid="stMainBlockContainer"] { padding-top: 4rem; }
/* The top menu's overflow says "4 more" in English whatever the page's
   language (Streamlit's own words, #29): it shows "⋯" instead. */
[data-testid="stTopNav"] .rc-overflow-item-rest [data-testid="stMarkdownContainer"] p {
  font-size: 0;
}
[data-testid="stTopNav"] .rc-overflow-item-rest [data-testid="stMarkdownContainer"] p::after {
  content: "⋯";
  font-size: 1.25rem;
}
/* Every other control a finger can hit (#11): navigation, header and menu
   buttons, tabs, select boxes, a password's reveal button, a date picker's
   and a help icon's buttons, expanders. */
header button, header a, [data-testid="stSidebar"] a, [data-testid="stSidebar"] button,
[data-testid="stMain"] button, [role="tab"], details summary {
  min-height: 48px !important;
  min-width: 48px !important;
}
header a, [role="tab"] { display: inline-flex; align-items: center; justify-content: center; }
[data-baseweb="select"] > div { min-height: 48px; }
[data-testid="stCheckbox"] label { min-height: 48px; min-width: 48px; align-items: center; }
/* Imports (#13): the file picker and the kind of file. */
div[data-testid="stFileUploader"] button,
.st-key-imports-kind button { min-height: 48px !important; min-width: 48px; }
</style>
"""


def new_id() -> str:
    return uuid.uuid4().hex


def storage() -> Storage:
    """The database of this server (CXLOG_DB or data/cxlog.db), migrated once;
    the same Storage the API routes use."""
    return shared_storage()


def init_state() -> None:
    """The session's keys, set once; called first by the router and every page."""
    # The first call of a run after a heavy library's import keeps it out of
    # every later full garbage collection (cxlog/web/heap.py).
    heap.freeze_imports()
    st.session_state.setdefault(ERRORS, {})
    st.session_state.setdefault(TOASTS, [])
    st.session_state.setdefault(ROLE, None)
    st.session_state.setdefault(ACCOUNT, None)
    st.session_state.setdefault(ROLE_TOKEN, None)
    st.session_state.setdefault(ROLE_CLAIM, None)
    st.session_state.setdefault(ROLE_SESSION_ID, None)
    st.session_state.setdefault(ROLE_TOKEN_UNTIL, None)
    st.session_state.setdefault(NOTICE, None)
    st.session_state.setdefault(PICKED_STORE, None)


def touch_styles() -> None:
    st.html(TOUCH_CSS)


def attempt(place: str, action: Callable[[], T]) -> T | None:
    """Run a write from a widget callback. A named error is kept for ``place``
    to show on its next draw — the tap is reported, never silently dropped."""
    st.session_state[ERRORS].pop(place, None)
    try:
        return action()
    except CxlogError as exc:
        st.session_state[ERRORS][place] = str(exc)
        return None


def show_error(place: str) -> None:
    message = st.session_state[ERRORS].pop(place, None)
    if message:
        st.error(message, icon=":material/error:")


def my_stores(storage: Storage, account: Account) -> list[dict]:
    """The stores the signed-in account sees (issue #28), in the catalog's order."""
    return [s for s in catalog.list_stores(storage) if account.sees(s["id"])]


def sees_every_store(storage: Storage, account: Account) -> bool:
    """The owner, or a manager of every store there is: who may change what
    holds for the whole chain (the lists, the PIN rule)."""
    return account.stores is None or all(
        account.sees(s["id"]) for s in catalog.list_stores(storage)
    )


def pick_store(storage: Storage, account: Account, *, key: str) -> dict:
    """The store a manager page works on, among the account's: the only one,
    or picked from a list. An account without a store sees a sentence."""
    stores = my_stores(storage, account)
    if not stores:
        st.info(_("Your account has no store yet: ask the owner to add one to it."))
        st.stop()
    if len(stores) == 1:
        return stores[0]
    names = {s["id"]: s["name"] for s in stores}
    chosen = st.selectbox(_("Store"), list(names), key=key, format_func=names.get)
    return next(s for s in stores if s["id"] == chosen)


def toast_later(text: str, icon: str) -> None:
    """Queue a toast from a callback: drawing from a callback during a fragment
    rerun is unsupported in Streamlit, so the fragment draws it instead."""
    st.session_state[TOASTS].append((text, icon))


def show_toasts() -> None:
    while st.session_state[TOASTS]:
        text, icon = st.session_state[TOASTS].pop(0)
        st.toast(text, icon=icon)


def signed_in(storage: Storage) -> dict | None:
    """The associate whose shift this device is on, from its HttpOnly shift
    cookie (issue #11: no longer in the URL). Streamlit sees cookies as they
    were when the page loaded; the pad's API calls check the shift again on
    every tap, so an ended shift is refused there at once."""
    cookies = st.context.cookies
    return shifts.current(
        storage,
        cookies.get(shifts.SHIFT_COOKIE),
        device=cookies.get(shifts.DEVICE_COOKIE),
    )


def store_of_run(
    storage: Storage, account: Account | None, known: list[dict] | None = None
) -> int | None:
    """The store whose language this run speaks: the account's one store
    (``known``: my_stores of the account, when read already), the store of the shift on
    this device, the one picked or joined by QR code, the only one; None (the
    chain's language) otherwise."""
    if account is not None:
        stores = my_stores(storage, account) if known is None else known
        return stores[0]["id"] if len(stores) == 1 else None
    # A device on shift speaks its store's language; without a shift cookie
    # there is no shift to read (a read per run of every signed-out page).
    me = signed_in(storage) if st.context.cookies.get(shifts.SHIFT_COOKIE) else None
    if me is not None:
        return me["store_id"]
    stores = catalog.list_stores(storage)
    picked = st.query_params.get("store") or st.session_state.get(PICKED_STORE)
    for store in stores:
        if str(store["id"]) == str(picked):
            return store["id"]
    return stores[0]["id"] if len(stores) == 1 else None


def still_on_shift(storage: Storage, associate_id: int) -> bool:
    """For the first line of every callback of a page drawn for an associate
    (issue #25): the page's associate is from its last run, and the shift may
    have ended since ("Not you?" on another device, its 12 hours)."""
    me = signed_in(storage)
    return me is not None and me["id"] == associate_id


# --- manager and owner sign-in ------------------------------------------------
#
# The role lives in a server-side session (cxlog/access/sessions.py) whose token the
# browser keeps in an HttpOnly cookie, so a refresh, a bookmark or a second tab
# stays signed in. Streamlit reads cookies only from the request that opened
# the page's websocket: after the sign-in form, this tab holds the token in its
# session state and the browser posts a one-time claim code to
# /api/v1/sessions/claim, which sets the cookie, then reloads once.


def client_address() -> str:
    """The device's address for the sign-in throttle; the server's own screen
    (Streamlit reports localhost as None) is ``lockout.LOCAL``."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else lockout.LOCAL


def _cookie() -> str | None:
    value = st.context.cookies.get(sessions.COOKIE)
    return value if isinstance(value, str) else None


def session_token() -> str | None:
    """This browser's session token: the cookie, else this tab's fresh sign-in."""
    return _cookie() or st.session_state.get(ROLE_TOKEN)


def _check_session(storage: Storage) -> sessions.Check:
    result = sessions.Check(None)
    until = st.session_state.get(ROLE_TOKEN_UNTIL)
    if st.session_state.get(ROLE_TOKEN) and until is not None and utc_now() > until:
        # The sign-in's cookie never arrived (the hand-over failed): this tab
        # no longer rides on its Streamlit session id.
        st.session_state[ROLE_TOKEN] = None
        st.session_state[ROLE_TOKEN_UNTIL] = None
        if not _cookie():
            st.session_state[NOTICE] = _(
                "This browser did not keep the sign-in (its cookie never arrived): sign in again."
            )
    for token in dict.fromkeys((_cookie(), st.session_state.get(ROLE_TOKEN))):
        if token:
            result = sessions.check(storage, token)
            if result.role:
                return result
    return result


def current_account(storage: Storage) -> Account | None:
    """The signed-in account, or None (never signed in, signed out, idle too
    long, password changed, retired). Read from the database on every run: a
    session ended elsewhere (Settings → Access, a password reset) ends here,
    and a change of the account's stores shows at once."""
    result = _check_session(storage)
    if result.ended == "idle":
        minutes = result.idle_minutes or 0
        st.session_state[NOTICE] = n_(
            "Signed out after {n} minute without use.",
            "Signed out after {n} minutes without use.",
            minutes,
        ).format(n=formats.number(minutes))
    elif result.ended == "password":
        st.session_state[NOTICE] = _(
            "Your password was changed or your account retired: sign in again."
        )
    if result.account is None:
        st.session_state[ROLE_TOKEN] = None
    st.session_state[ACCOUNT] = result.account
    st.session_state[ROLE] = result.role
    st.session_state[ROLE_SESSION_ID] = result.session_id if result.account else None
    return result.account


def current_role(storage: Storage) -> str | None:
    """The signed-in account's role, or None (see current_account)."""
    account = current_account(storage)
    return account.role if account else None


def change(
    storage: Storage,
    place: str,
    action: Callable[[], object],
    confirmation: str,
    *clear: str,
    needed: str = roles.MANAGER,
    store_id: int | None = None,
) -> None:
    """A manager's change from a widget callback (Settings, its Coaching tab):
    the role checked again first (a tap on a control drawn before the session
    ended changes nothing), a named error kept for ``place``, and on success
    a confirmation and the given inputs emptied. ``store_id``: a change to
    one store's settings, refused once the store is off the account."""
    if not still_allowed(storage, needed, store_id):
        return
    attempt(place, action)
    if place not in st.session_state[ERRORS]:
        toast_later(confirmation, ":material/check:")
        for key in clear:
            st.session_state[key] = ""


def still_allowed(storage: Storage, needed: str, store_id: int | None = None) -> bool:
    """For the first line of every callback and fragment of a restricted page:
    a tap on a control drawn before the session ended, or before the store was
    taken off the account (``store_id``, issue #28), changes nothing (the next
    run shows the sign-in, or the account's stores)."""
    account = current_account(storage)
    if account is None or not roles.allows(account.role, needed):
        return False
    return store_id is None or account.sees(store_id)


# The cookie hand-over, tried three times a second apart (a wifi blip at that
# moment); its one variable part is the server-made claim code, JSON-encoded.
CLAIM_SCRIPT = (
    "<script>(function c(n){fetch('" + routes.api("/sessions/claim") + "',{method:'POST',"
    "credentials:'same-origin',headers:{'Content-Type':'application/json'},"
    "body:JSON.stringify({claim:__CLAIM__})}).then(r=>{if(r.ok)window.location.reload();"
    "else throw r}).catch(()=>{if(n>1)setTimeout(()=>c(n-1),1000)})})(3);</script>"
)


def hand_over_cookie() -> None:
    """After a sign-in in this tab: the browser trades the claim code for the
    session cookie, then reloads so the new page load carries it. The code is
    URL-safe base64 made by the server; nothing typed is in the script."""
    code = st.session_state.get(ROLE_CLAIM)
    if not code:
        return
    st.session_state[ROLE_CLAIM] = None
    st.html(CLAIM_SCRIPT.replace("__CLAIM__", json.dumps(code)), unsafe_allow_javascript=True)


def _submit_role_sign_in(storage: Storage) -> None:
    login = st.session_state.get("sign_in_login", "")
    password = st.session_state.get("sign_in_password", "")
    st.session_state["sign_in_password"] = ""

    def check() -> None:
        client = client_address()
        device = st.context.cookies.get(shifts.DEVICE_COOKIE)
        account = accounts.check_sign_in(
            storage, login, password, client=client, device=shifts.device_id(device)
        )
        start_role_session(storage, account, client)

    attempt("sign-in", check)


def start_role_session(storage: Storage, account: Account, client: str) -> None:
    """A password was just checked: open the session and queue the cookie hand-over."""
    agent = st.context.headers.get("User-Agent")
    device = sessions.device_label(agent if isinstance(agent, str) else None)
    token, code = sessions.start(storage, account, device=device, client=client)
    st.session_state[ROLE_TOKEN] = token
    st.session_state[ROLE_TOKEN_UNTIL] = utc_now() + sessions.CLAIM_LIFETIME
    st.session_state[ROLE_CLAIM] = code
    st.session_state[ROLE] = account.role
    st.session_state[ACCOUNT] = account
    st.session_state[NOTICE] = None


def sign_out_role(storage: Storage) -> None:
    """Sign out: the session ends on the server (its cookie is worth nothing)."""
    for token in (_cookie(), st.session_state.get(ROLE_TOKEN)):
        sessions.end(storage, token)
    st.session_state[ROLE_TOKEN] = None
    st.session_state[ROLE] = None
    st.session_state[ACCOUNT] = None


def sign_in_form(storage: Storage, needed: str = roles.MANAGER) -> None:
    st.title(_("Sign in"))
    if st.session_state.get(NOTICE):
        st.info(st.session_state[NOTICE])
    if st.session_state.get(ACCOUNT) is not None and not roles.allows(
        st.session_state[ROLE], needed
    ):
        st.warning(_(NEEDS_ROLE[needed]), icon=":material/lock:")
    st.caption(
        _(
            "Managers see their stores' dashboard, visits and settings; the owner sees every "
            "store and manages the accounts."
        )
    )
    # A form sends every field at the tap, Tab or Enter: nothing typed is lost.
    with st.form("sign-in-form", enter_to_submit=True, border=False):
        st.text_input(
            _("Your name (as your account was made)"),
            key="sign_in_login",
            max_chars=accounts.MAX_LOGIN_LENGTH,
            autocomplete="username",
        )
        st.text_input(
            _("Password"),
            type="password",
            key="sign_in_password",
            max_chars=200,
            autocomplete="current-password",
        )
        show_error("sign-in")
        st.form_submit_button(
            _("Sign in"),
            key="sign-in-submit",
            type="primary",
            on_click=_submit_role_sign_in,
            args=(storage,),
            icon=":material/login:",
        )
    language_ui.picker(storage, None)  # this device's own language (#29)


def require_account(storage: Storage, needed: str) -> Account:
    """Stop the page with a sign-in form unless the session's account has a
    role that may see it. Every restricted page calls this first: hiding a
    page from the navigation is not access control (it still opens by URL)."""
    init_state()  # the page may run without the router (see the legacy mode above)
    account = current_account(storage)
    if account is not None and roles.allows(account.role, needed):
        return account
    sign_in_form(storage, needed)
    st.stop()
