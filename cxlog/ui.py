"""The small Streamlit helper module: shared resources, session-state keys,
touch styling and the turning of named errors into messages. Pages import
this; the rest of cxlog never imports Streamlit."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from cxlog import access, catalog
from cxlog.db import Storage, default_path, shared_storage
from cxlog.errors import CxlogError, ValidationError

T = TypeVar("T")

# Streamlit treats an app with a pages/ folder beside its main script as a
# legacy multipage app until the first st.navigation call in the process: on a
# freshly started server, a direct URL such as /settings ran the page script
# without the router (seen in our browser test). Every page therefore guards
# itself (require_role, init_state, setup's first-run check); cxlog.serve ends
# the legacy mode before the first session (docs/architecture.md).

# Every session-state key the pages use, in one place.
SHIFT = "shift_token"  # the Log page's who-am-I; mirrored in the URL (?shift=…)
START_NONCE = "start_nonce"  # id of the next visit, drawn into the start buttons' keys
LAST_START = "last_start"  # (visit id, engagement) of this device's last start
LAST_CLOSED = "last_closed"  # (visit id, closed at epoch s) of this device's last close
STEPPER_OPEN = "stepper_open"  # visit ids whose "5+" stepper is showing
AMOUNT_OPEN = "amount_open"  # visit ids whose sale-amount field is showing
FRESH = "fresh"  # {visit id: row} a callback just wrote, for the card's next draw
ERRORS = "errors"  # {place: message} shown once where the failed tap was
TOASTS = "toasts"  # [(text, icon)] queued by callbacks, shown by the next draw
ROLE = "role"  # "manager" or "owner" once signed in with a password; None otherwise
ROLE_SEEN = "role_seen"  # epoch seconds of the signed-in role's last page run
NOTICE = "notice"  # a sentence for the sign-in form (e.g. signed out for idling)
PICKED_STORE = "picked_store"
PICKED_ASSOCIATE = "picked_associate"

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
div[data-testid="stNumberInput"] input, div[data-testid="stTextInput"] input {
  min-height: 48px;
}
.st-key-start-row .stButton button { min-height: 64px; font-size: 1.15rem; }
div[data-testid="stToolbar"] button { min-height: 48px !important; min-width: 48px !important; }
div[data-testid="stMainBlockContainer"] { padding-top: 4rem; }
</style>
"""


def new_id() -> str:
    return uuid.uuid4().hex


def storage() -> Storage:
    """The database of this server (CXLOG_DB or data/cxlog.db), migrated once;
    the same Storage the API routes use."""
    return shared_storage(default_path())


def init_state() -> None:
    st.session_state.setdefault(SHIFT, None)
    st.session_state.setdefault(START_NONCE, new_id())
    st.session_state.setdefault(LAST_START, None)
    st.session_state.setdefault(LAST_CLOSED, None)
    st.session_state.setdefault(STEPPER_OPEN, set())
    st.session_state.setdefault(AMOUNT_OPEN, set())
    st.session_state.setdefault(FRESH, {})
    st.session_state.setdefault(ERRORS, {})
    st.session_state.setdefault(TOASTS, [])
    st.session_state.setdefault(ROLE, None)
    st.session_state.setdefault(ROLE_SEEN, 0.0)
    st.session_state.setdefault(NOTICE, None)
    st.session_state.setdefault(PICKED_STORE, None)
    st.session_state.setdefault(PICKED_ASSOCIATE, None)


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


def pick_store(storage: Storage, *, key: str) -> dict:
    """The store a manager page works on: the only one, or picked from a list."""
    stores = catalog.list_stores(storage)
    if len(stores) == 1:
        return stores[0]
    names = {s["id"]: s["name"] for s in stores}
    chosen = st.selectbox("Store", list(names), key=key, format_func=names.get)
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
    """The associate whose shift this device is on, from session or URL."""
    token = st.session_state.get(SHIFT) or st.query_params.get("shift")
    if not token:
        return None
    associate = access.shift_associate(storage, token)
    if associate is None:
        st.session_state[SHIFT] = None
        st.query_params.pop("shift", None)
        return None
    st.session_state[SHIFT] = token
    if st.query_params.get("shift") != token:
        st.query_params["shift"] = token  # so a refresh keeps the shift
    return associate


def sign_in(storage: Storage, associate_id: int) -> None:
    token = access.start_shift(storage, associate_id)
    st.session_state[SHIFT] = token
    st.query_params["shift"] = token


def sign_out(storage: Storage) -> None:
    token = st.session_state.get(SHIFT)
    if token:
        access.end_shift(storage, token)
    st.session_state[SHIFT] = None
    st.session_state[PICKED_ASSOCIATE] = None
    st.query_params.pop("shift", None)


# --- manager and owner sign-in ------------------------------------------------


def current_role(storage: Storage) -> str | None:
    """The signed-in role, or None once the manager idle time has passed."""
    role = st.session_state.get(ROLE)
    if role is None:
        return None
    idle = access.idle_minutes(storage)
    if time.time() - st.session_state.get(ROLE_SEEN, 0.0) > idle * 60:
        sign_out_role()
        st.session_state[NOTICE] = f"Signed out after {idle} minutes without use."
        return None
    st.session_state[ROLE_SEEN] = time.time()
    return role


def start_role(role: str) -> None:
    st.session_state[ROLE] = role
    st.session_state[ROLE_SEEN] = time.time()
    st.session_state[NOTICE] = None


def sign_out_role() -> None:
    st.session_state[ROLE] = None
    st.session_state[ROLE_SEEN] = 0.0


def _submit_sign_in(storage: Storage) -> None:
    role = st.session_state["sign_in_role"]
    password = st.session_state.get("sign_in_password", "")
    st.session_state["sign_in_password"] = ""

    def check() -> None:
        if role not in access.ROLES:
            raise ValidationError("Pick Manager or Owner first.")
        access.sign_in(storage, role, password)
        start_role(role)

    attempt("sign-in", check)


def sign_in_form(storage: Storage, needed: str = access.MANAGER) -> None:
    st.title("Sign in")
    if st.session_state.get(NOTICE):
        st.info(st.session_state[NOTICE])
    roles = [r for r in access.ROLES if access.allows(r, needed)]
    st.caption("Managers see the dashboard, visits and settings; the owner also exports.")
    st.segmented_control(
        "Role", roles, default=roles[0], key="sign_in_role", format_func=str.capitalize
    )
    st.text_input("Password", type="password", key="sign_in_password", max_chars=200)
    show_error("sign-in")
    st.button(
        "Sign in",
        key="sign-in-submit",
        type="primary",
        on_click=_submit_sign_in,
        args=(storage,),
        icon=":material/login:",
    )


def require_role(storage: Storage, needed: str) -> str:
    """Stop the page with a sign-in form unless the session holds a role that
    may see it. Every restricted page calls this first: hiding a page from the
    navigation is not access control (it still opens by URL)."""
    init_state()  # the page may run without the router (see the legacy mode above)
    role = current_role(storage)
    if access.allows(role, needed):
        return role
    sign_in_form(storage, needed)
    st.stop()
