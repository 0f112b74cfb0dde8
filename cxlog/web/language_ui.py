"""Which language this page speaks (issue #29), and the device's own choice.

The order, first that applies:
1. the device's own choice (the Language pick on the Log page and the
   sign-in form), remembered by the browser in a plain cookie;
2. the language the store fixed (Settings), else the one the chain fixed;
3. the browser's language (``st.context.locale``), when cxlog speaks it;
4. English.

The choice is made at the top of every run (app.py) and kept in the session,
so callbacks and fragments, which run without app.py, write in it too: the
resolver installed here is where ``cxlog.language.words`` looks.
"""

from __future__ import annotations

import json

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from cxlog.language import words
from cxlog.language.words import _
from cxlog.storage import settings
from cxlog.storage.db import Storage

LANGUAGE = "language"  # this run's language
OWN = "language_own"  # the device's own choice: a language, "" (follow the store) or None (unread)
SOURCE = "language_source"  # "device", "store" or "browser": what chose it
PENDING = "language_cookie"  # the device's pick, to write into its cookie on the next draw
# Two years: a tablet keeps its language until someone picks another.
COOKIE_SECONDS = 2 * 365 * 24 * 3600
PICK = "language_pick"
FIXED = "language_fixed"  # ((store, run), the fixed language) read this run
RUN = "language_run"  # counts the router's runs: what was read in one is not reused in the next
# The one variable part is the cookie's text, made from a language code
# cxlog speaks (never from typed text), JSON-encoded.
COOKIE_SCRIPT = "<script>document.cookie = __COOKIE__;</script>"


def _session_language() -> str | None:
    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    return st.session_state.get(LANGUAGE)


words.set_resolver(_session_language)


def own_choice() -> str:
    """The device's own language, or "" when it follows the store."""
    if st.session_state.get(OWN) is None:
        st.session_state[OWN] = words.supported(st.context.cookies.get(words.DEVICE_COOKIE)) or ""
    return st.session_state[OWN]


def browser_language() -> str | None:
    return words.supported(st.context.locale)


def choose(own: str | None, fixed: str | None, browser: str | None) -> tuple[str, str]:
    """(language, what chose it): the device's own choice, else the store's
    (or the chain's) fixed language, else the browser's, else English."""
    if words.supported(own):
        return words.supported(own), "device"
    if words.supported(fixed):
        return words.supported(fixed), "store"
    return words.supported(browser) or words.ENGLISH, "browser"


def fixed_for(storage: Storage, store_id: int | None) -> str | None:
    """The store's (or chain's) fixed language, read once per run and store."""
    known = st.session_state.get(FIXED)
    if known is not None and known[0] == (store_id, st.session_state.get(RUN)):
        return known[1]
    fixed = settings.store_language(storage, store_id)
    st.session_state[FIXED] = ((store_id, st.session_state.get(RUN)), fixed)
    return fixed


def settle(storage: Storage, store_id: int | None) -> str:
    """Choose this run's language for ``store_id``'s page (None: the chain's)."""
    st.session_state[RUN] = st.session_state.get(RUN, 0) + 1
    own = own_choice()
    fixed = fixed_for(storage, store_id)
    lang, source = choose(own, fixed, browser_language())
    st.session_state[LANGUAGE] = lang
    st.session_state[SOURCE] = source
    return lang


def current() -> str:
    return words.current()


def _picked() -> None:
    choice = st.session_state.get(PICK) or ""
    st.session_state[OWN] = choice
    st.session_state[LANGUAGE] = choice or st.session_state.get(LANGUAGE)
    st.session_state[PENDING] = choice


def picker(storage: Storage, store_id: int | None) -> None:
    """The device's Language pick: the store's language, or one of cxlog's."""
    fixed = fixed_for(storage, store_id)
    follow = (
        _("Store's language ({name})").format(name=words.LANGUAGES[fixed])
        if fixed
        else _("This device's language")
    )
    options = ["", *words.LANGUAGES]
    st.session_state[PICK] = own_choice()
    st.selectbox(
        "🌐 " + _("Language"),
        options,
        key=PICK,
        format_func=lambda code: words.LANGUAGES.get(code, follow),
        on_change=_picked,
    )


def remember() -> None:
    """Write (or clear) the device's cookie after a pick; at the end of a run."""
    choice = st.session_state.pop(PENDING, None)
    if choice is None:
        return
    choice = words.supported(choice) or ""
    age = COOKIE_SECONDS if choice else 0
    cookie = f"{words.DEVICE_COOKIE}={choice}; path=/; max-age={age}; samesite=strict"
    if st.context.url and st.context.url.startswith("https:"):
        cookie += "; secure"
    st.html(COOKIE_SCRIPT.replace("__COOKIE__", json.dumps(cookie)), unsafe_allow_javascript=True)


def for_pad() -> dict:
    """What the tap pad needs to follow a change of the store's language."""
    return {
        "lang_source": st.session_state.get(SOURCE, "browser"),
        "browser_lang": browser_language() or words.ENGLISH,
    }
