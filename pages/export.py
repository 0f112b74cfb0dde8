"""Export (owner): the visits CSV, the summary CSV and a database backup (#6).

The page builds a file only when asked ("Prepare …"), then offers it for
download: st.download_button keeps the whole file in memory (docs/stack-facts.md),
which is fine for a store's date range; the command line streams any size.
"""

from datetime import date, timedelta

import streamlit as st

from cxlog import backup, catalog, export, followups_csv, roles, summary, ui

ui.require_role(ui.storage(), roles.OWNER)

storage = ui.storage()
state = st.session_state
# This page's session-state keys: a prepared file is kept with the choice it
# was made for, so changing the dates or store never offers a stale file.
PREPARED = {
    "visits": "export_visits_file",
    "summary": "export_summary_file",
    "followups": "export_followups_file",  # issue #15
}
MAKERS = {
    "visits": export.visits_csv,
    "summary": summary.summary_csv,
    "followups": followups_csv.followups_csv,
}
BACKUP = "export_backup_file"
ALL_STORES = 0  # store ids start at 1

st.title("Export")
st.caption(
    "Take the data to a spreadsheet, an accountant or head office. Every column is "
    "described in docs/data-dictionary.md. Cells that start like a formula get a leading "
    "apostrophe, so a spreadsheet shows them as text."
)

stores = catalog.list_stores(storage)
if not stores:
    st.info("There are no stores yet; set one up in Settings first.")
    st.stop()

names = {s["id"]: s["name"] for s in stores}
today = date.today()
with st.container(horizontal=True, vertical_alignment="bottom"):
    store_id = st.selectbox(
        "Store",
        [ALL_STORES, *names],
        format_func=lambda i: names.get(i, "All stores"),
        key="export-store",
    )
    days = st.date_input(
        "Days (each store's local dates, both included)",
        value=(today - timedelta(days=30), today),
        key="export-days",
        format="YYYY-MM-DD",
    )
with st.container(horizontal=True):
    include_voided = st.checkbox("Include voided visits", key="export-voided")
    for_excel = st.checkbox(
        "For Excel", key="export-excel", help="Adds a byte-order mark so Excel reads UTF-8."
    )

if not isinstance(days, tuple) or len(days) != 2:
    st.info("Pick the last day of the range too.")
    st.stop()

selection = export.ExportSelection(
    first_day=days[0],
    last_day=days[1],
    store_ids=() if store_id == ALL_STORES else (store_id,),
    include_voided=include_voided,
)
choice = (selection, for_excel)
store_name = names.get(store_id)


def prepare(kind: str) -> None:
    if not ui.still_allowed(storage, roles.OWNER):
        return  # the session ended since this button was drawn
    make = MAKERS[kind]
    data = ui.attempt(f"export-{kind}", lambda: make(storage, selection, for_excel=for_excel))
    if data is not None:
        state[PREPARED[kind]] = (choice, data, export.file_name(kind, selection, store_name))


def offer(kind: str, title: str, what: str) -> None:
    st.subheader(title)
    st.write(what)
    ui.show_error(f"export-{kind}")
    prepared = state.get(PREPARED[kind])
    with st.container(horizontal=True):
        st.button(
            f"Prepare the {title.replace('CSV', '').strip().lower()} CSV",
            key=f"export-{kind}-prepare",
            icon=":material/table_view:",
            on_click=prepare,
            args=(kind,),
        )
        if prepared and prepared[0] == choice:
            st.download_button(
                f"Download {prepared[2]}",
                data=prepared[1],
                file_name=prepared[2],
                mime="text/csv",
                key=f"export-{kind}-download",
                icon=":material/download:",
                on_click="ignore",
                type="primary",
            )


count = ui.attempt("export-count", lambda: export.count_visits(storage, selection))
ui.show_error("export-count")
offer(
    "visits",
    "Visits CSV",
    f"One row per visit: **{count or 0:,} visits** in this range"
    + ("" if include_voided else " (voided visits left out)")
    + ".",
)
offer(
    "summary",
    "Summary CSV",
    "The dashboard's tables for this range — by first engagement, connection depth, "
    "reason, no-sale reason, associate and store, and the lifts — as one table.",
)

offer(
    "followups",
    "Follow-ups CSV",
    "One row per follow-up promised in this range: its visit code, channel, due day, "
    "result and the original visit's moment — never a customer's name or contact.",
)


def make_backup() -> None:
    if not ui.still_allowed(storage, roles.OWNER):
        return
    result = ui.attempt("export-backup", lambda: backup.backup_bytes(storage))
    if result is not None:
        state[BACKUP] = result


st.subheader("Backup")
st.write(
    "A copy of the whole database, made safely while tablets keep logging and checked "
    "(SQLite integrity check) before it is offered. Keep it somewhere other than this "
    "machine; it holds the password hashes, so keep it private."
)
ui.show_error("export-backup")
with st.container(horizontal=True):
    st.button(
        "Make a backup", key="export-backup-make", icon=":material/backup:", on_click=make_backup
    )
    if state.get(BACKUP):
        data, made = state[BACKUP]
        st.download_button(
            f"Download backup ({made.size_bytes / 1e6:.1f} MB, {made.visits:,} visits)",
            data=data,
            file_name=f"cxlog-backup-{today.isoformat()}.db",
            mime="application/vnd.sqlite3",
            key="export-backup-download",
            icon=":material/download:",
            on_click="ignore",
            type="primary",
        )
