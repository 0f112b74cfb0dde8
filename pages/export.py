"""Export: the visits CSV, the summary CSV (a manager: of their stores, issue
#28) and, for the owner, a database backup (#6).

"Prepare …" records what was asked for and offers a link that works once,
within a minute, for this signed-in owner only (cxlog/export/downloads.py, issue
#25); the file is made when the link is followed. The command line streams
any size.
"""

from datetime import timedelta

import streamlit as st

from cxlog.calendar import localday
from cxlog.core import roles
from cxlog.export import downloads, export
from cxlog.language import formats
from cxlog.language.words import _, n_
from cxlog.web import ui

me = ui.require_account(ui.storage(), roles.MANAGER)

storage = ui.storage()
state = st.session_state
# This page's session-state keys: a prepared file is kept with the choice it
# was made for, so changing the dates or store never offers a stale file.
PREPARED = {
    "visits": "export_visits_file",
    "summary": "export_summary_file",
    "followups": "export_followups_file",  # issue #15
}
BACKUP = "export_backup_file"
ALL_STORES = 0  # store ids start at 1

st.title(_("Export"))
st.caption(
    _(
        "Take the data to a spreadsheet, an accountant or head office. Every column is "
        "described in {dictionary}. Cells that start like a formula get a leading "
        "apostrophe, so a spreadsheet shows them as text."
    ).format(dictionary="docs/data-dictionary.md")
)

stores = ui.my_stores(storage, me)
if not stores:
    st.info(_("There are no stores yet; set one up in Settings first."))
    st.stop()

names = {s["id"]: s["name"] for s in stores}
# The newest store-local day of any store (not the server's date: a store
# east of the server is already in tomorrow).
today = max(localday.today(s["timezone"]) for s in stores)
with st.container(horizontal=True, vertical_alignment="bottom"):
    store_id = st.selectbox(
        _("Store"),
        [ALL_STORES, *names],
        format_func=lambda i: names.get(i) or _("All stores"),
        key="export-store",
    )
    days = st.date_input(
        _("Days (each store's local dates, both included)"),
        value=(today - timedelta(days=30), today),
        key="export-days",
        format="YYYY-MM-DD",
    )
with st.container(horizontal=True):
    include_voided = st.checkbox(_("Include voided visits"), key="export-voided")
    for_excel = st.checkbox(
        _("For Excel"), key="export-excel", help=_("Adds a byte-order mark so Excel reads UTF-8.")
    )

if not isinstance(days, tuple) or len(days) != 2:
    st.info(_("Pick the last day of the range too."))
    st.stop()

selection = export.ExportSelection(
    first_day=days[0],
    last_day=days[1],
    # "All stores" is every store for the owner, a manager's own stores for them.
    store_ids=(me.stores or ()) if store_id == ALL_STORES else (store_id,),
    include_voided=include_voided,
)
choice = (selection, for_excel)
store_name = names.get(store_id)


def link(token: str) -> str:
    return f"{downloads.ROUTE}/{token}"


def prepare(kind: str) -> None:
    if not ui.still_allowed(storage, roles.MANAGER, None if store_id == ALL_STORES else store_id):
        return  # the session ended since this button was drawn
    name = export.file_name(kind, selection, store_name)
    choices = downloads.csv_choices(selection, for_excel)
    token = ui.attempt(
        f"export-{kind}",
        lambda: downloads.offer(storage, state[ui.ROLE_SESSION_ID], kind, name, choices),
    )
    if token is not None:
        state[PREPARED[kind]] = (choice, token, name)


def offer(kind: str, title: str, button: str, what: str) -> None:
    """One file's section: its title, what it holds, its prepare button and,
    once prepared for this choice, its download link (texts already translated)."""
    st.subheader(title)
    st.write(what)
    ui.show_error(f"export-{kind}")
    prepared = state.get(PREPARED[kind])
    with st.container(horizontal=True):
        st.button(
            button,
            key=f"export-{kind}-prepare",
            icon=":material/table_view:",
            on_click=prepare,
            args=(kind,),
        )
        if prepared and prepared[0] == choice:
            st.link_button(
                _("Download {file}").format(file=prepared[2]),
                link(prepared[1]),
                key=f"export-{kind}-download",
                icon=":material/download:",
                type="primary",
            )


count = ui.attempt("export-count", lambda: export.count_visits(storage, selection))
ui.show_error("export-count")
visit_count = count or 0
offer(
    "visits",
    _("Visits CSV"),
    _("Prepare the visits CSV"),
    (
        n_(
            "One row per visit: **{n} visit** in this range.",
            "One row per visit: **{n} visits** in this range.",
            visit_count,
        )
        if include_voided
        else n_(
            "One row per visit: **{n} visit** in this range (voided visits left out).",
            "One row per visit: **{n} visits** in this range (voided visits left out).",
            visit_count,
        )
    ).format(n=formats.number(visit_count)),
)
offer(
    "summary",
    _("Summary CSV"),
    _("Prepare the summary CSV"),
    _(
        "The dashboard's tables for this range — by first engagement, connection depth, "
        "reason, no-sale reason, associate and store, and the lifts — as one table."
    ),
)

offer(
    "followups",
    _("Follow-ups CSV"),
    _("Prepare the follow-ups CSV"),
    _(
        "One row per follow-up promised in this range: its visit code, channel, due day, "
        "result and the original visit's moment — never a customer's name or contact."
    ),
)


def make_backup() -> None:
    if not ui.still_allowed(storage, roles.OWNER):
        return
    name = f"cxlog-backup-{today.isoformat()}.db"
    token = ui.attempt(
        "export-backup",
        lambda: downloads.offer(storage, state[ui.ROLE_SESSION_ID], downloads.BACKUP, name, {}),
    )
    if token is not None:
        state[BACKUP] = (token, name)


def backup_section() -> None:
    st.subheader(_("Backup"))
    st.write(
        _(
            "A copy of the whole database, made safely while tablets keep logging and checked "
            "(SQLite integrity check) when you download it. Keep it somewhere other than this "
            "machine; it holds the password hashes, so keep it private."
        )
    )
    ui.show_error("export-backup")
    with st.container(horizontal=True):
        st.button(
            _("Make a backup"),
            key="export-backup-make",
            icon=":material/backup:",
            on_click=make_backup,
        )
        if state.get(BACKUP):
            token, name = state[BACKUP]
            st.link_button(
                _("Download {file}").format(file=name),
                link(token),
                key="export-backup-download",
                icon=":material/download:",
                type="primary",
            )


# The backup holds every store and every password hash: the owner's alone.
if me.role == roles.OWNER:
    backup_section()
st.caption(
    _(
        "A download link works once, within a minute, in this browser while you are signed "
        "in; prepare the file again for another copy."
    )
)
