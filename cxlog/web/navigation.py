"""The page table the router (app.py) registers, and the menu per role."""

from __future__ import annotations

from cxlog.core.roles import allows
from cxlog.language.words import N_

# (page file, menu title, icon, role needed). Every page is registered with
# st.navigation so a direct URL reaches the page's own sign-in; the menu shows
# only what the session's role may use. The titles are English keys: the
# router draws each through ``_`` (issue #29).
PAGES: tuple[tuple[str, str, str, str], ...] = (
    ("pages/log.py", N_("Log"), "👋", "associate"),
    ("pages/followups.py", N_("Follow-ups"), "📞", "associate"),  # issue #15
    ("pages/dashboard.py", N_("Dashboard"), "📊", "manager"),
    ("pages/chain.py", N_("Stores"), "🏬", "manager"),  # the chain's view, 2+ stores (#28)
    ("pages/huddle.py", N_("Huddle"), "📣", "manager"),  # issue #14
    ("pages/visits.py", N_("Visits"), "🗂️", "manager"),
    ("pages/settings.py", N_("Settings"), "⚙️", "manager"),
    ("pages/imports.py", N_("Imports"), "📥", "manager"),  # issue #13
    ("pages/export.py", N_("Export"), "⬇️", "manager"),  # their stores (#28)
)


SIGN_OUT, SIGN_IN = N_("Sign out"), N_("Manager sign-in")

# Pages worth a place in the menu only to an account that sees several stores.
SEVERAL_STORES = frozenset({"pages/chain.py"})


def menu(role: str | None, stores_seen: int = 1) -> list[str]:
    """The page titles the navigation shows for a role (and the number of
    stores its account sees), sign-in/out last: English keys, drawn through ``_``."""
    titles = [
        title
        for path, title, _icon, needed in PAGES
        if allows(role, needed) and (path not in SEVERAL_STORES or stores_seen >= 2)
    ]
    return [*titles, SIGN_OUT if role else SIGN_IN]
