"""Imports (manager): door-counter traffic and POS totals files, the store's
counter settings, and how much of the counted traffic was logged (#13)."""

from datetime import timedelta

import streamlit as st

from cxlog.calendar import localday
from cxlog.core import roles
from cxlog.core.errors import CxlogError
from cxlog.core.model import utc_now
from cxlog.core.text import plain
from cxlog.coverage import coverage, traffic
from cxlog.coverage.traffic import CounterSettings
from cxlog.language.words import N_, _
from cxlog.web import coverage_view, ui

me = ui.require_account(ui.storage(), roles.MANAGER)
ui.touch_styles()

storage = ui.storage()
RESULT = "imports_result"  # (ok, markdown) of the last import, shown once
KINDS = {traffic.TRAFFIC: N_("Door-counter traffic"), traffic.POS: N_("POS totals")}


def format_name(fmt: str) -> str:
    """A file format as the picker shows it: a vendor's name, or "Generic"."""
    return _("Generic") if fmt == "generic" else fmt.capitalize()


st.title(_("Imports"))
st.caption(
    _(
        "Bring in door-counter traffic and POS totals to see how much of the real traffic "
        "is logged. A file with a mistake is refused whole, line by line; importing a file "
        "again replaces its hours (POS: its days), never adds them twice."
    )
)
stores = {s["id"]: s for s in ui.my_stores(storage, me)}
if not stores:
    st.info(_("Add your store in Settings first."))
    st.stop()
store = ui.pick_store(storage, me, key="imports-store")
names = {k: s["name"] for k, s in stores.items()}


def run_import(kind: str, fmt: str, mapping: str, upload) -> None:
    try:
        done = traffic.import_file(
            storage, kind, store["id"], upload.getvalue(), fmt=fmt, mapping=mapping, actor=me.actor
        )
    except CxlogError as exc:
        st.session_state[RESULT] = (False, traffic.refusal_text(upload.name, exc))
    else:
        st.session_state[RESULT] = (True, plain(done.sentence(store["name"])))


st.subheader(_("Import a file"))
kind = (
    st.segmented_control(
        _("What the file holds"),
        list(KINDS),
        format_func=lambda k: _(KINDS[k]),
        default=traffic.TRAFFIC,
        key="imports-kind",
    )
    or traffic.TRAFFIC
)
formats = traffic.TRAFFIC_FORMATS if kind == traffic.TRAFFIC else traffic.POS_FORMATS
with st.container(horizontal=True, vertical_alignment="bottom"):
    fmt = st.selectbox(
        _("Format"), list(formats), format_func=format_name, key=f"imports-format-{kind}"
    )
    mapping = st.text_input(
        _("Column names (optional)"),
        key=f"imports-map-{kind}",
        placeholder="in=Enters, start=Time",
        max_chars=300,
    )
columns = ", ".join(f"{field}: {' / '.join(names_)}" for field, names_ in formats[fmt].items())
st.caption(
    _(
        "Columns read ({format}): {columns}. Times without an offset are the store's local "
        "time. For a file whose header differs, name its columns as field=Column."
    ).format(format=fmt, columns=columns)
)
upload = st.file_uploader(_("CSV file"), type=["csv", "txt"], key=f"imports-file-{kind}")
if st.button(
    _("Import"), type="primary", disabled=upload is None, key="imports-go", icon=":material/upload:"
):
    run_import(kind, fmt or "generic", mapping, upload)
if RESULT in st.session_state:
    ok, text = st.session_state.pop(RESULT)
    (st.success if ok else st.error)(text, icon=":material/check:" if ok else ":material/error:")

st.subheader(_("Counter settings"))
saved = traffic.counter_settings(storage, [store["id"]])[store["id"]]
with st.form("counter-settings"):
    two_way = st.checkbox(
        _("Two-way beam: visitors = (in + out) ÷ 2"), value=saved.two_way, key="imports-two-way"
    )
    staff = st.number_input(
        _("Staff entries to take off each hour"),
        min_value=0.0,
        max_value=1000.0,
        value=float(saved.staff_per_hour),
        step=0.5,
        key="imports-staff",
    )
    threshold = st.number_input(
        _("Warn when coverage is under (%)"),
        min_value=5,
        max_value=100,
        value=round(100 * saved.coverage_threshold),
        key="imports-threshold",
    )
    if st.form_submit_button(_("Save settings")):
        settings = CounterSettings(two_way, staff, threshold / 100)
        if (
            ui.attempt(
                "counter-settings",
                lambda: traffic.save_counter_settings(
                    storage, store["id"], settings, actor=me.actor
                ),
            )
            is None
            and "counter-settings" not in st.session_state[ui.ERRORS]
        ):
            st.success(_("Saved."), icon=":material/check:")
ui.show_error("counter-settings")

st.subheader(_("Last 30 days"))
today = localday.today(store["timezone"], utc_now())
cov = ui.attempt(
    "coverage-days",
    lambda: coverage.build(
        storage, coverage.day_ranges(storage, [store["id"]], today - timedelta(days=29), today)
    ),
)
ui.show_error("coverage-days")
if cov is not None and (cov.has_traffic or len(cov.daily)):
    for column, tile in zip(st.columns(3), coverage_view.tiles(cov.totals), strict=True):
        with column, st.container(border=True):
            st.metric(tile.label, tile.value)
            st.caption(tile.caption)
    note = coverage.warning(cov, {k: plain(v) for k, v in names.items()})
    if note:
        st.warning(note, icon=":material/warning:")
    st.table(coverage_view.day_table(cov, names), hide_index=True, border="horizontal")
    for line in coverage.flag_lines(cov, {k: plain(v) for k, v in names.items()}):
        st.markdown(line)
elif cov is not None:
    st.info(_("No counter or POS figures for the last 30 days yet; import a file above."))
