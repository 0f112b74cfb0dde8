"""Visits (manager): review a day's visits, correct a visit's fields or void it.

Corrections and voids are audited with who and when; voided visits are kept
and never counted."""

from datetime import date

import streamlit as st

from cxlog.calendar import localday
from cxlog.coaching import goals
from cxlog.core import model, roles
from cxlog.core.model import (
    MISSED,
    NEUTRAL,
    NO_PURCHASE,
    NO_SALE_REASON,
    PURCHASED,
    REASON,
    WARM,
    entry_name,
    from_utc_text,
)
from cxlog.core.text import plain
from cxlog.language import formats
from cxlog.language.words import N_, _, n_
from cxlog.storage import history
from cxlog.stores import catalog
from cxlog.visits import visits
from cxlog.web import ui

# The first engagement's words (the database keeps the English keys).
ENGAGEMENTS = {WARM: N_("Warm"), NEUTRAL: N_("Neutral"), MISSED: N_("Missed")}

storage = ui.storage()
me = ui.require_account(storage, roles.MANAGER)
state = st.session_state
st.title(_("Visits"))
ui.show_toasts()
store = ui.pick_store(storage, me, key="visits-store")
zone = localday.zone(store["timezone"])
people = catalog.list_associates(storage, store["id"])
names = {p["id"]: p["name"] for p in people}

with st.container(horizontal=True, vertical_alignment="bottom"):
    day = st.date_input(
        _("Day"),
        value=localday.today(store["timezone"]),
        key="visits-day",
        max_value=localday.today(store["timezone"]),
    )
    who = st.selectbox(
        _("Associate"),
        [None, *names],
        key="visits-associate",
        format_func=lambda i: _("Everyone") if i is None else names[i],
    )
if not isinstance(day, date):
    st.stop()
start, end = localday.local_day_utc(day, zone)
rows = visits.visits_between(storage, store["id"], start, end, associate_id=who)
if not rows:
    st.info(_("No visits logged on that day."))
    st.stop()

st.caption(
    n_(
        "{n} visit, newest first. Voided visits are kept here but never counted.",
        "{n} visits, newest first. Voided visits are kept here but never counted.",
        len(rows),
    ).format(n=formats.number(len(rows)))
)
picked = st.selectbox(
    _("Pick a visit to correct or void"),
    [v["id"] for v in rows],
    key="visits-pick",
    format_func={v["id"]: visits.visit_line(v, store["timezone"]) for v in rows}.get,
)
visit = next(v for v in rows if v["id"] == picked)
ui.show_error("visit")

if visit["voided_at"]:
    st.warning(_("Voided: {reason}").format(reason=plain(visit["void_reason"])))
    st.stop()

reasons = catalog.list_reasons(storage, REASON, active_only=False, store_id=store["id"])
no_sale = catalog.list_reasons(storage, NO_SALE_REASON, active_only=False, store_id=store["id"])
vid = visit["id"]

# The outcome decides which fields follow, so it sits above the form (a form's
# fields only reach the server on submit); the rest is one form, sent whole.
st.segmented_control(
    _("Outcome"),
    list(visits.OUTCOME_LABELS),
    default=visit["outcome"],
    key=f"fix-outcome-{vid}",
    format_func=lambda o: _(visits.OUTCOME_LABELS[o]),
)
with st.form(f"fix-form-{vid}", enter_to_submit=True):
    st.segmented_control(
        _("First engagement"),
        list(ENGAGEMENTS),
        default=visit["first_engagement"],
        key=f"fix-fe-{vid}",
        format_func=lambda e: _(ENGAGEMENTS[e]),
    )
    reason_options = [None, *catalog.pickable(reasons, visit["reason_id"])]
    st.selectbox(
        _("Reason for visit"),
        reason_options,
        index=reason_options.index(visit["reason_id"]),
        key=f"fix-reason-{vid}",
        format_func=lambda i: (
            _("Not tapped") if i is None else {r["id"]: entry_name(r["name"]) for r in reasons}[i]
        ),
    )
    with st.container(horizontal=True):
        st.checkbox(_("Used name"), value=bool(visit["used_name"]), key=f"fix-name-{vid}")
        st.checkbox(_("Recommended"), value=bool(visit["recommended"]), key=f"fix-rec-{vid}")
    outcome = state.get(f"fix-outcome-{vid}", visit["outcome"])
    if outcome == PURCHASED:
        st.number_input(
            _("Units"), min_value=1, max_value=99, value=visit["units"] or 1, key=f"fix-units-{vid}"
        )
        amount = model.amount_value(visit["amount_cents"])
        code = goals.store_goals(storage, store["id"]).currency  # issue #14
        st.number_input(
            _("Sale amount in {currency} (optional)").format(currency=code)
            if code
            else _("Sale amount (optional)"),
            min_value=0.0,
            max_value=1_000_000.0,
            value=amount,
            format="%.2f",
            key=f"fix-amount-{vid}",
        )
    elif outcome == NO_PURCHASE:
        options = [None, *catalog.pickable(no_sale, visit["no_sale_reason_id"])]
        st.selectbox(
            _("No-sale reason"),
            options,
            index=options.index(visit["no_sale_reason_id"])
            if visit["no_sale_reason_id"] in options
            else 0,
            key=f"fix-nosale-{vid}",
            format_func=lambda i: (
                _("None") if i is None else {r["id"]: entry_name(r["name"]) for r in no_sale}[i]
            ),
        )
    staff = catalog.pickable(people, visit["associate_id"])
    st.selectbox(
        _("Associate"),
        staff,
        index=staff.index(visit["associate_id"]),
        key=f"fix-associate-{vid}",
        format_func=names.get,
    )

    def save() -> None:
        if not ui.still_allowed(storage, roles.MANAGER, store["id"]):
            return
        outcome = state[f"fix-outcome-{vid}"]
        fields = {
            "first_engagement": state[f"fix-fe-{vid}"],
            "reason_id": state[f"fix-reason-{vid}"],
            "used_name": state[f"fix-name-{vid}"],
            "recommended": state[f"fix-rec-{vid}"],
            "associate_id": state[f"fix-associate-{vid}"],
            **visits.outcome_fields(
                outcome,
                state.get(f"fix-units-{vid}"),
                state.get(f"fix-amount-{vid}"),
                state.get(f"fix-nosale-{vid}"),
            ),
        }
        ui.attempt("visit", lambda: visits.correct_visit(storage, vid, actor=me.actor, **fields))
        if "visit" not in state[ui.ERRORS]:
            ui.toast_later(_("Correction saved."), ":material/check:")

    st.form_submit_button(
        _("Save correction"), key=f"fix-save-{vid}", type="primary", on_click=save
    )

with st.form(f"void-form-{vid}", enter_to_submit=True, border=False):
    st.text_input(_("Why void it? (e.g. logged twice)"), key=f"void-why-{vid}", max_chars=500)

    def void() -> None:
        if not ui.still_allowed(storage, roles.MANAGER, store["id"]):
            return
        ui.attempt(
            "visit",
            lambda: visits.void_visit(storage, vid, state[f"void-why-{vid}"], actor=me.actor),
        )
        if "visit" not in state[ui.ERRORS]:
            ui.toast_later(_("Visit voided: kept, never counted."), ":material/block:")

    st.form_submit_button(
        _("Void visit"), key=f"void-{vid}", on_click=void, icon=":material/block:"
    )


def when(text: str) -> str:
    """An audit row's time on the store's clock (as stored, should it not parse)."""
    try:
        return localday.moment_text(from_utc_text(str(text)), store["timezone"])
    except ValueError:
        return str(text)


with st.expander(_("Changes to this visit")):
    # Who and what as the audit trail keeps them; when on the store's clock.
    for change in history.visit_history(storage, vid):
        st.write(f"{when(change['at'])} · {change['actor']} · {change['action']}")
