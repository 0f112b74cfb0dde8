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
    ("pages/huddle.py", "Huddle", "📣", "manager"),  # issue #14
    ("pages/visits.py", "Visits", "🗂️", "manager"),
    ("pages/settings.py", "Settings", "⚙️", "manager"),
    ("pages/imports.py", "Imports", "📥", "manager"),  # issue #13
    ("pages/export.py", "Export", "⬇️", "manager"),  # their stores (#28)
)


def menu(role: str | None) -> list[str]:
    """The page titles the navigation shows for a role, sign-in/out last."""
    titles = [title for _, title, _, needed in PAGES if allows(role, needed)]
    return [*titles, "Sign out" if role else "Manager sign-in"]
