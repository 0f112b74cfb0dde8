"""The page table the router (app.py) registers, and the menu per role."""

from __future__ import annotations

from cxlog.core.roles import allows

# (page file, menu title, icon, role needed). Every page is registered with
# st.navigation so a direct URL reaches the page's own sign-in; the menu shows
# only what the session's role may use.
PAGES: tuple[tuple[str, str, str, str], ...] = (
    ("pages/log.py", "Log", "👋", "associate"),
    ("pages/followups.py", "Follow-ups", "📞", "associate"),  # issue #15
    ("pages/dashboard.py", "Dashboard", "📊", "manager"),
    ("pages/chain.py", "Stores", "🏬", "manager"),  # the chain's view, 2+ stores (#28)
    ("pages/huddle.py", "Huddle", "📣", "manager"),  # issue #14
    ("pages/visits.py", "Visits", "🗂️", "manager"),
    ("pages/settings.py", "Settings", "⚙️", "manager"),
    ("pages/imports.py", "Imports", "📥", "manager"),  # issue #13
    ("pages/export.py", "Export", "⬇️", "manager"),  # their stores (#28)
)


# Pages worth a place in the menu only to an account that sees several stores.
SEVERAL_STORES = frozenset({"pages/chain.py"})


def menu(role: str | None, stores_seen: int = 1) -> list[str]:
    """The page titles the navigation shows for a role (and the number of
    stores its account sees), sign-in/out last."""
    titles = [
        title
        for path, title, _, needed in PAGES
        if allows(role, needed) and (path not in SEVERAL_STORES or stores_seen >= 2)
    ]
    return [*titles, "Sign out" if role else "Manager sign-in"]
