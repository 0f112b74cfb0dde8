"""Streamlit drawing for issue #14 (the second small UI module besides
cxlog/web/ui.py): the Settings → Coaching tab and the huddle card's styles.
Every write is one cxlog.coaching.goals call (one transaction); each form sends all
its fields at submit (st.form), so typed values are never half-sent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import streamlit as st
from babel.numbers import list_currencies

from cxlog.calendar import localday
from cxlog.coaching import goals
from cxlog.core.model import entry_name, utc_now
from cxlog.core.money import COMMON
from cxlog.core.text import plain
from cxlog.language.words import _, shown
from cxlog.storage.db import Storage
from cxlog.web import ui

NO_MEASURE = ""

# On a 390 px phone the card wraps (no sideways scroll); printed, only the
# card is kept, on one page: navigation, toolbar and the pickers are hidden
# and Streamlit's fixed-height scroll box is released so nothing is cut.
HUDDLE_CSS = """
<style>
.st-key-huddle-card h2 { font-size: 1.45rem; }
.st-key-huddle-card h3 { font-size: 1.1rem; margin-top: 0.6rem; }
.st-key-huddle-card li, .st-key-huddle-card p { overflow-wrap: anywhere; }
div[data-testid="stDateInput"] input { min-height: 48px; }
@media print {
  @page { margin: 12mm; }
  header, [data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSidebar"],
  .st-key-huddle-controls, .st-key-huddle-title, .st-key-huddle-print,
  [data-testid="stHeaderActionElements"] {
    display: none !important;
  }
  html, body, .stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"],
  [data-testid="stAppScrollToBottomContainer"] {
    height: auto !important; overflow: visible !important; position: static !important;
  }
  [data-testid="stMainBlockContainer"] { padding: 0 !important; max-width: 100% !important; }
  .st-key-huddle-card { font-size: 10.5pt; line-height: 1.3; border: none !important; }
  .st-key-huddle-card h2 { font-size: 15pt; margin: 0 0 4pt; }
  .st-key-huddle-card h3 { font-size: 12pt; margin: 6pt 0 2pt; padding: 0; }
  .st-key-huddle-card ul { margin: 0 0 2pt; padding-left: 1.3em; }
  .st-key-huddle-card li, .st-key-huddle-card li p { margin: 0; font-size: 10.5pt; }
}
</style>
"""


def huddle_styles() -> None:
    st.html(HUDDLE_CSS)  # fixed CSS only; nothing typed goes in


PLACE = "coaching"  # where this tab's errors show (cxlog.web.ui.attempt)


def _save(action: Callable[[], object], confirmation: str) -> None:
    """A form's on_click: runs before the page redraws, so the tab shows the
    saved values at once; a named error is kept to show in the tab. The role
    is checked again first (issue #25): a tap on a form drawn before the
    session ended (idle, signed out elsewhere) changes nothing."""
    ui.change(ui.storage(), PLACE, action, confirmation)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def settings_tab(storage: Storage, store: dict, role: str) -> None:
    sid = store["id"]
    state = st.session_state
    current = goals.store_goals(storage, sid)
    ui.show_error(PLACE)

    st.subheader(_("Goals"))
    with st.form(f"goals-form-{sid}"):
        st.number_input(
            _("Warm rate goal (%)"),
            0.0,
            100.0,
            _percent(current.warm_rate),
            1.0,
            key="goal-warm",
        )
        st.number_input(
            _("Conversion goal (%)"),
            0.0,
            100.0,
            _percent(current.conversion),
            1.0,
            key="goal-conversion",
        )
        st.number_input(
            _("Units per sale goal"), 1.0, 99.0, current.units_per_sale, 0.1, key="goal-ups"
        )
        st.form_submit_button(
            _("Save goals"),
            key="goals-save",
            type="primary",
            on_click=lambda: _save(
                lambda: goals.set_goals(
                    storage,
                    sid,
                    warm_rate_percent=state["goal-warm"],
                    conversion_percent=state["goal-conversion"],
                    units_per_sale=state["goal-ups"],
                    actor=role,
                ),
                _("Goals saved; the dashboard and the huddle use them."),
            ),
        )
    st.caption(_("Leave a goal empty to have none. The dashboard draws goals as dashed lines."))

    st.subheader(_("Currency"))
    codes = list(COMMON) + sorted(set(list_currencies()) - set(COMMON))
    with st.form(f"currency-form-{sid}"):
        st.selectbox(
            _("Currency of this store's amounts (ISO 4217)"),
            codes,
            index=codes.index(current.currency) if current.currency in codes else None,
            placeholder=_("Pick a currency"),
            key="store-currency",
        )
        st.form_submit_button(
            _("Save currency"),
            key="currency-save",
            on_click=lambda: _save(
                lambda: goals.set_currency(storage, sid, state["store-currency"], actor=role),
                _("Currency saved; amounts now show in it."),
            ),
        )

    behaviours = goals.list_behaviours(storage)
    names = {b["id"]: entry_name(b["name"]) for b in behaviours}
    st.subheader(_("Today's focus"))
    today = localday.today(store["timezone"], utc_now())
    focus = goals.focus_on(storage, sid, today)
    st.caption(
        _("Today's focus: {name}").format(name=plain(entry_name(focus["name"])))
        if focus
        else _("Today's focus: not picked yet")
    )

    def set_focus() -> None:
        if state["focus-behaviour"] is None:
            state[ui.ERRORS][PLACE] = _("Pick a behaviour first.")
            return
        day = _day(state["focus-day"], today)
        _save(
            lambda: goals.set_focus(storage, sid, day, state["focus-behaviour"], actor=role),
            _("Focus set; the huddle checks it against that day's visits."),
        )

    with st.form(f"focus-form-{sid}"):
        st.selectbox(
            _("Behaviour to practise"),
            list(names),
            format_func=names.get,
            index=list(names).index(focus["id"]) if focus and focus["id"] in names else None,
            placeholder=_("Pick a behaviour"),
            key="focus-behaviour",
        )
        st.date_input(_("For the day"), today, key="focus-day")
        st.form_submit_button(_("Set focus"), key="focus-save", type="primary", on_click=set_focus)

    st.subheader(_("Behaviours to pick from"))
    all_behaviours = goals.list_behaviours(storage, active_only=False)
    st.dataframe(
        [
            {
                _("Behaviour"): entry_name(b["name"]),
                _("Checked against"): shown(goals.MEASURES[b["measure"]][0])
                if b["measure"]
                else "—",
                _("In use"): bool(b["active"]),
            }
            for b in all_behaviours
        ],
        hide_index=True,
    )
    measures = [NO_MEASURE, *goals.MEASURES]
    with st.form("behaviour-add-form", clear_on_submit=True):
        st.text_input(_("New behaviour"), max_chars=60, key="behaviour-name")
        st.selectbox(
            _("Checked against the share of visits with"),
            measures,
            format_func=lambda m: _(goals.MEASURES[m][0]) if m else _("nothing cxlog counts"),
            key="behaviour-measure",
        )
        st.form_submit_button(
            _("Add behaviour"),
            key="behaviour-add",
            on_click=lambda: _save(
                lambda: goals.add_behaviour(
                    storage, state["behaviour-name"], state["behaviour-measure"] or None, actor=role
                ),
                _("Behaviour added."),
            ),
        )
    every = {b["id"]: b for b in all_behaviours}
    # The pick sits above the form, and the buttons bind the id it returned:
    # a select box inside a form sends its option's *label* on submit, and
    # after a rename that label no longer exists ("That behaviour does not
    # exist" on the second rename in a row).
    picked = st.selectbox(
        _("Change a behaviour"),
        list(every),
        format_func=lambda k: (
            entry_name(every[k]["name"])
            if every[k]["active"]
            else _("{name} (retired)").format(name=entry_name(every[k]["name"]))
        ),
        key="behaviour-pick",
    )
    if picked not in every:
        return
    with st.form("behaviour-change-form"):
        st.text_input(_("New name"), max_chars=60, key="behaviour-rename")
        st.form_submit_button(
            _("Rename"),
            key="behaviour-rename-save",
            on_click=lambda bid=picked: _save(
                lambda: goals.rename_behaviour(storage, bid, state["behaviour-rename"], actor=role),
                _("Renamed."),
            ),
        )
        st.form_submit_button(
            _("Retire or use again"),
            key="behaviour-retire",
            on_click=lambda bid=picked, active=every[picked]["active"]: _save(
                lambda: goals.set_behaviour_active(storage, bid, not active, actor=role),
                _("Saved."),
            ),
        )


def _day(value: object, fallback: date) -> date:
    return value if isinstance(value, date) else fallback
