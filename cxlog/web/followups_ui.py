"""The Follow-ups page's sections (pages/followups.py draws the page): promise
one after a visit, work the list, link a return visit (issue #15,
docs/product.md "Associate — Follow-ups").

A follow-up is tied to a visit code, never to a person: nothing here asks for
a name, a phone number, an e-mail address or a note. Access is the Log page's
shift (the device's HttpOnly shift cookie). Every tap is one cxlog call.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from cxlog.calendar import localday
from cxlog.core import model
from cxlog.core.errors import ValidationError
from cxlog.core.model import from_utc_text, utc_now
from cxlog.core.text import plain
from cxlog.followups import followups
from cxlog.followups.followups import CHANNELS, DUE_CHOICES, RESULTS, SECTIONS
from cxlog.language import formats
from cxlog.language.words import N_, _, n_, shown
from cxlog.storage.db import Storage
from cxlog.visits import visits
from cxlog.web import ui

ENGAGEMENT = model.ENGAGEMENT_LABELS
# The promise just made, in words, by its channel.
PROMISED_BY = {
    followups.CALL: N_("Promised: call, due {day}. Write **{code}** on the receipt."),
    followups.TEXT: N_("Promised: text, due {day}. Write **{code}** on the receipt."),
    followups.EMAIL: N_("Promised: e-mail, due {day}. Write **{code}** on the receipt."),
    followups.IN_STORE: N_("Promised: in store, due {day}. Write **{code}** on the receipt."),
}
# A result just recorded, in words, by its key.
SAVED = {
    followups.REACHED: N_("Saved: {code} reached."),
    followups.NO_ANSWER: N_("Saved: {code} no answer."),
    followups.BOUGHT: N_("Saved: {code} came back and bought."),
    followups.CAME_BACK: N_("Saved: {code} came back, no purchase."),
    followups.NOT_NEEDED: N_("Saved: {code} not needed."),
}
QUICK_UNITS = (1, 2, 3, 4)
# This page's session-state keys.
# The channel last picked, remembered for the next promise. Kept apart from
# the widget's own key: Streamlit drops a widget's state on a run that does
# not draw it (another page, an empty promise list).
CHANNEL = "followup_channel"
CHANNEL_PICKER = "followup-channel"
PROMISED = "followup_promised"  # (code, due day, channel) of the last promise, shown big
BOUGHT_OPEN = "followup_bought_open"  # follow-up ids showing units and amount
SNOOZE_OPEN = "followup_snooze_open"  # follow-up ids showing snooze choices
DATE_OPEN = "followup_date_open"  # visit ids showing a date picker

# On a phone Streamlit folds the navigation into a sidebar whose own buttons
# and links are ~32 px: raise them to the 48 px touch target on this page.
# Fixed CSS only (nothing typed goes through st.html).
NAV_CSS = """
<style>
[data-testid="stSidebarCollapseButton"] button, [data-testid="stExpandSidebarButton"] {
  min-height: 48px; min-width: 48px;
}
a[data-testid="stSidebarNavLink"] { min-height: 48px; }
</style>
"""

state = st.session_state


def day_text(day: str) -> str:
    """A stored day (YYYY-MM-DD) as people read it."""
    return localday.day_text(date.fromisoformat(day))


class Sections:
    """The page's sections for the associate on this device's shift (``me``):
    each tap is one cxlog call, re-checked against the shift first."""

    def __init__(self, storage: Storage, me: dict) -> None:
        self.storage = storage
        self.me = me
        self.zone = localday.zone(me["timezone"])

    def clock(self, stamp: str) -> str:
        """A stored UTC time on the store's clock: "14:05"."""
        return localday.clock_text(from_utc_text(stamp), self.zone)

    # --- promise ---------------------------------------------------------------------------

    def promise(self, visit_id: str, due: object) -> None:
        if not ui.still_on_shift(self.storage, self.me["id"]):
            return
        chosen = state[CHANNEL]
        made = ui.attempt(
            "promise",
            lambda: followups.promise(
                self.storage, visit_id, due, chosen, associate_id=self.me["id"]
            )[0],
        )
        if made:
            state[PROMISED] = (made["code"], made["due_on"], made["channel"])
            state[DATE_OPEN].discard(visit_id)

    def promise_on_date(self, visit_id: str) -> None:
        self.promise(visit_id, state.get(f"due-date-{visit_id}"))

    def promise_section(self) -> None:
        st.subheader(_("Promise a follow-up"))
        ui.show_error("promise")
        if state[PROMISED]:
            code, due_on, chan = state[PROMISED]
            st.success(
                _(PROMISED_BY[chan]).format(day=day_text(due_on), code=code),
                icon=":material/check_circle:",
            )
        rows = followups.recently_closed(self.storage, self.me["store_id"], self.me["id"])
        if not rows:
            st.caption(_("Visits you close show here for a few hours, ready for a follow-up."))
            return
        state[CHANNEL_PICKER] = state[CHANNEL]
        st.segmented_control(
            _("Channel (kept for your next promise)"),
            list(CHANNELS),
            format_func=lambda k: _(CHANNELS[k]),
            key=CHANNEL_PICKER,
            required=True,
            on_change=lambda: state.update({CHANNEL: state[CHANNEL_PICKER] or followups.CALL}),
        )
        chan = _(CHANNELS[state[CHANNEL]])
        for v in rows:
            vid = v["id"]
            with st.container(border=True, key=f"promise-{vid}"):
                st.markdown(
                    f"{self.clock(v['closed_at'])} · {shown(ENGAGEMENT[v['first_engagement']])} · "
                    f"{plain(followups.visit_summary(v))}"
                )
                with st.container(horizontal=True, key=f"due-row-{vid}"):
                    for choice, (label, _days) in DUE_CHOICES.items():
                        st.button(
                            f"{_(label)} · {chan}",
                            key=f"due-{choice}-{vid}",
                            on_click=self.promise,
                            args=(vid, choice),
                        )
                    st.button(
                        _("Pick a day"),
                        key=f"due-pick-{vid}",
                        icon=":material/calendar_month:",
                        on_click=lambda vid=vid: state[DATE_OPEN].add(vid),
                    )
                if vid in state[DATE_OPEN]:
                    st.date_input(
                        _("Due day"),
                        key=f"due-date-{vid}",
                        min_value=localday.today(self.me["timezone"], utc_now()),
                        format="YYYY-MM-DD",
                    )
                    st.button(
                        _("Promise · {channel}").format(channel=chan),
                        key=f"due-save-{vid}",
                        type="primary",
                        on_click=self.promise_on_date,
                        args=(vid,),
                    )

    # --- the list ------------------------------------------------------------------------------

    def result(
        self, followup_id: int, outcome: str, amount: object = None, **extra: object
    ) -> None:
        if not ui.still_on_shift(self.storage, self.me["id"]):
            return
        done = ui.attempt(
            f"fu-{followup_id}",
            lambda: followups.record_result(
                self.storage,
                followup_id,
                outcome,
                associate_id=self.me["id"],
                amount_cents=model.parse_amount(amount),  # the one place money becomes cents
                **extra,
            ),
        )
        if done:
            state[BOUGHT_OPEN].discard(followup_id)
            ui.toast_later(_(SAVED[outcome]).format(code=done["code"]), ":material/check:")

    def bought(self, followup_id: int, units: int) -> None:
        self.result(
            followup_id, followups.BOUGHT, state.get(f"fu-amount-{followup_id}"), units=units
        )

    def snooze(self, followup_id: int, until: str) -> None:
        if not ui.still_on_shift(self.storage, self.me["id"]):
            return
        moved = ui.attempt(
            f"fu-{followup_id}",
            lambda: followups.snooze(self.storage, followup_id, until, associate_id=self.me["id"]),
        )
        if moved:
            state[SNOOZE_OPEN].discard(followup_id)
            ui.toast_later(
                _("{code} now due {day}.").format(
                    code=moved["code"], day=day_text(moved["due_on"])
                ),
                ":material/snooze:",
            )

    def toggle(self, key: str, followup_id: int) -> None:
        state[key] ^= {followup_id}

    def card(self, item: dict) -> None:
        fid = item["id"]
        with st.container(border=True, key=f"fu-{fid}"):
            st.markdown(
                _("**{code}** · {channel} · due {day} · promised by {name}").format(
                    code=item["code"],
                    channel=shown(CHANNELS[item["channel"]]),
                    day=day_text(item["due_on"]),
                    name=plain(item["promised_by_name"]),
                )
            )
            visit = _("{engagement} visit {day} · {summary}").format(
                engagement=shown(ENGAGEMENT[item["first_engagement"]]),
                day=day_text(item["promised_on"]),
                summary=plain(followups.visit_summary(item)),
            )
            if item["attempts"]:
                visit = n_(
                    "{visit} · {n} try without answer",
                    "{visit} · {n} tries without answer",
                    item["attempts"],
                ).format(visit=visit, n=formats.number(item["attempts"]))
            st.caption(visit)
            ui.show_error(f"fu-{fid}")
            if item["result"]:
                by = plain(item["result_by_name"] or "")
                result = shown(RESULTS[item["result"]])
                if item["units"]:
                    result = n_("{result}, {n} unit", "{result}, {n} units", item["units"]).format(
                        result=result, n=formats.number(item["units"])
                    )
                st.markdown(f"✓ {result} · {day_text(item['result_on'])} · {by}")
                return
            with st.container(horizontal=True, key=f"fu-results-{fid}"):
                # (label, key, on_click, args, extra): one tap records a result;
                # "bought" and "snooze" open their choices first.
                buttons = (
                    (_("Reached"), "reached", self.result, (fid, followups.REACHED), {}),
                    (
                        _("No answer · retry tomorrow"),
                        "noanswer",
                        self.result,
                        (fid, followups.NO_ANSWER),
                        {},
                    ),
                    (
                        _("Came back and bought"),
                        "bought",
                        self.toggle,
                        (BOUGHT_OPEN, fid),
                        {"type": "primary"},
                    ),
                    (
                        _("Came back, no purchase"),
                        "cameback",
                        self.result,
                        (fid, followups.CAME_BACK),
                        {},
                    ),
                    (_("Not needed"), "notneeded", self.result, (fid, followups.NOT_NEEDED), {}),
                    (
                        _("Snooze"),
                        "snooze",
                        self.toggle,
                        (SNOOZE_OPEN, fid),
                        {"icon": ":material/snooze:"},
                    ),
                )
                for label, key, on_click, args, extra in buttons:
                    st.button(label, key=f"fu-{key}-{fid}", on_click=on_click, args=args, **extra)
            if fid in state[BOUGHT_OPEN]:
                st.number_input(
                    _("Sale amount (optional)"),
                    min_value=0.0,
                    max_value=1_000_000.0,
                    value=None,
                    step=1.0,
                    format="%.2f",
                    key=f"fu-amount-{fid}",
                )
                st.caption(_("Units bought:"))
                with st.container(horizontal=True, key=f"fu-units-{fid}"):
                    for units in QUICK_UNITS:
                        st.button(
                            str(units),
                            key=f"fu-units-{units}-{fid}",
                            on_click=self.bought,
                            args=(fid, units),
                        )
                    st.number_input(
                        _("More units"),
                        min_value=5,
                        max_value=99,
                        value=5,
                        key=f"fu-more-{fid}",
                        label_visibility="collapsed",
                        width=120,
                    )
                    st.button(
                        _("Save"),
                        key=f"fu-units-more-{fid}",
                        on_click=lambda: self.bought(fid, int(state[f"fu-more-{fid}"])),
                    )
            if fid in state[SNOOZE_OPEN]:
                with st.container(horizontal=True, key=f"fu-snooze-row-{fid}"):
                    for choice, (label, _days) in DUE_CHOICES.items():
                        st.button(
                            _(label),
                            key=f"fu-snooze-{choice}-{fid}",
                            on_click=self.snooze,
                            args=(fid, choice),
                        )

    def list_section(self) -> dict[str, list[dict]]:
        ui.show_toasts()
        lists = followups.followup_list(self.storage, self.me["store_id"])
        for section, title in SECTIONS.items():
            rows = lists[section]
            more = "+" if len(rows) >= followups.LIST_LIMIT else ""  # the list shows the first 100
            st.subheader(f"{_(title)} ({formats.number(len(rows))}{more})")
            if not rows:
                st.caption(
                    _("Nothing here.")
                    if section != followups.DONE
                    else _("Follow-ups done in the last 7 days show here.")
                )
            for item in rows:
                self.card(item)
        return lists

    # --- a return visit ------------------------------------------------------------------------

    def link_return(self) -> None:
        if not ui.still_on_shift(self.storage, self.me["id"]):
            return
        code = (state.get("return-code") or "").strip() or state.get("return-pick")
        visit_id = state.get("return-visit")

        def link() -> dict:
            if not visit_id:
                raise ValidationError(_("Pick the visit of the customer who came back."))
            return followups.mark_return(self.storage, visit_id, code, associate_id=self.me["id"])

        linked = ui.attempt("return", link)
        if linked:
            ui.toast_later(
                _("Linked as a return of {code}.").format(code=linked["code"]), ":material/link:"
            )
            state["return-code"] = ""

    def return_section(self, lists_codes: list[str]) -> None:
        st.subheader(_("A customer came back"))
        open_now = visits.open_visits(self.storage, self.me["store_id"])
        if not open_now:
            st.caption(_("Start their visit on the Log page, then link it here with their code."))
            return
        ui.show_error("return")
        labels = {
            v["id"]: " · ".join(
                (
                    self.clock(v["started_at"]),
                    shown(ENGAGEMENT[v["first_engagement"]]),
                    plain(v["associate_name"]),
                )
            )
            for v in open_now
        }
        st.selectbox(
            _("Their visit today"), list(labels), format_func=labels.get, key="return-visit"
        )
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.text_input(_("Code from the receipt"), max_chars=7, key="return-code")
            st.selectbox(_("or from the list"), [None, *lists_codes], key="return-pick")
        st.button(
            _("Link the return"),
            key="return-save",
            on_click=self.link_return,
            icon=":material/link:",
        )
