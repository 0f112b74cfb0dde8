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
from cxlog.storage.db import Storage
from cxlog.visits import visits
from cxlog.web import ui

ENGAGEMENT = {"warm": "Warm", "neutral": "Neutral", "missed": "Missed"}
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
        st.subheader("Promise a follow-up")
        ui.show_error("promise")
        if state[PROMISED]:
            code, due_on, chan = state[PROMISED]
            st.success(
                f"Promised: {CHANNELS[chan].lower()}, due {day_text(due_on)}. "
                f"Write **{code}** on the receipt.",
                icon=":material/check_circle:",
            )
        rows = followups.recently_closed(self.storage, self.me["store_id"], self.me["id"])
        if not rows:
            st.caption("Visits you close show here for a few hours, ready for a follow-up.")
            return
        state[CHANNEL_PICKER] = state[CHANNEL]
        st.segmented_control(
            "Channel (kept for your next promise)",
            list(CHANNELS),
            format_func=CHANNELS.get,
            key=CHANNEL_PICKER,
            required=True,
            on_change=lambda: state.update({CHANNEL: state[CHANNEL_PICKER] or followups.CALL}),
        )
        chan = CHANNELS[state[CHANNEL]]
        for v in rows:
            vid = v["id"]
            with st.container(border=True, key=f"promise-{vid}"):
                st.markdown(
                    f"{self.clock(v['closed_at'])} · {ENGAGEMENT[v['first_engagement']]} · "
                    f"{plain(followups.visit_summary(v))}"
                )
                with st.container(horizontal=True, key=f"due-row-{vid}"):
                    for choice, (label, _) in DUE_CHOICES.items():
                        st.button(
                            f"{label} · {chan}",
                            key=f"due-{choice}-{vid}",
                            on_click=self.promise,
                            args=(vid, choice),
                        )
                    st.button(
                        "Pick a day",
                        key=f"due-pick-{vid}",
                        icon=":material/calendar_month:",
                        on_click=lambda vid=vid: state[DATE_OPEN].add(vid),
                    )
                if vid in state[DATE_OPEN]:
                    st.date_input(
                        "Due day",
                        key=f"due-date-{vid}",
                        min_value=localday.today(self.me["timezone"], utc_now()),
                        format="YYYY-MM-DD",
                    )
                    st.button(
                        f"Promise · {chan}",
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
            ui.toast_later(f"Saved: {done['code']} {RESULTS[outcome].lower()}.", ":material/check:")

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
                f"{moved['code']} now due {day_text(moved['due_on'])}.", ":material/snooze:"
            )

    def toggle(self, key: str, followup_id: int) -> None:
        state[key] ^= {followup_id}

    def card(self, item: dict) -> None:
        fid = item["id"]
        with st.container(border=True, key=f"fu-{fid}"):
            st.markdown(
                f"**{item['code']}** · {CHANNELS[item['channel']]} · due {day_text(item['due_on'])}"
                f" · promised by {plain(item['promised_by_name'])}"
            )
            tries = (
                f" · {item['attempts']} tr{'ies' if item['attempts'] != 1 else 'y'} without answer"
            )
            st.caption(
                f"{ENGAGEMENT[item['first_engagement']]} visit {day_text(item['promised_on'])} · "
                f"{plain(followups.visit_summary(item))}" + (tries if item["attempts"] else "")
            )
            ui.show_error(f"fu-{fid}")
            if item["result"]:
                by = plain(item["result_by_name"] or "")
                extra = (
                    f", {item['units']} unit{'s' if item['units'] != 1 else ''}"
                    if item["units"]
                    else ""
                )
                st.markdown(
                    f"✓ {RESULTS[item['result']]}{extra} · {day_text(item['result_on'])} · {by}"
                )
                return
            with st.container(horizontal=True, key=f"fu-results-{fid}"):
                # (label, key, on_click, args, extra): one tap records a result;
                # "bought" and "snooze" open their choices first.
                buttons = (
                    ("Reached", "reached", self.result, (fid, followups.REACHED), {}),
                    (
                        "No answer · retry tomorrow",
                        "noanswer",
                        self.result,
                        (fid, followups.NO_ANSWER),
                        {},
                    ),
                    (
                        "Came back and bought",
                        "bought",
                        self.toggle,
                        (BOUGHT_OPEN, fid),
                        {"type": "primary"},
                    ),
                    (
                        "Came back, no purchase",
                        "cameback",
                        self.result,
                        (fid, followups.CAME_BACK),
                        {},
                    ),
                    ("Not needed", "notneeded", self.result, (fid, followups.NOT_NEEDED), {}),
                    (
                        "Snooze",
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
                    "Sale amount (optional)",
                    min_value=0.0,
                    max_value=1_000_000.0,
                    value=None,
                    step=1.0,
                    format="%.2f",
                    key=f"fu-amount-{fid}",
                )
                st.caption("Units bought:")
                with st.container(horizontal=True, key=f"fu-units-{fid}"):
                    for units in QUICK_UNITS:
                        st.button(
                            str(units),
                            key=f"fu-units-{units}-{fid}",
                            on_click=self.bought,
                            args=(fid, units),
                        )
                    st.number_input(
                        "More units",
                        min_value=5,
                        max_value=99,
                        value=5,
                        key=f"fu-more-{fid}",
                        label_visibility="collapsed",
                        width=120,
                    )
                    st.button(
                        "Save",
                        key=f"fu-units-more-{fid}",
                        on_click=lambda: self.bought(fid, int(state[f"fu-more-{fid}"])),
                    )
            if fid in state[SNOOZE_OPEN]:
                with st.container(horizontal=True, key=f"fu-snooze-row-{fid}"):
                    for choice, (label, _) in DUE_CHOICES.items():
                        st.button(
                            label,
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
            st.subheader(f"{title} ({len(rows)}{more})")
            if not rows:
                st.caption(
                    "Nothing here."
                    if section != followups.DONE
                    else "Follow-ups done in the last 7 days show here."
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
                raise ValidationError("Pick the visit of the customer who came back.")
            return followups.mark_return(self.storage, visit_id, code, associate_id=self.me["id"])

        linked = ui.attempt("return", link)
        if linked:
            ui.toast_later(f"Linked as a return of {linked['code']}.", ":material/link:")
            state["return-code"] = ""

    def return_section(self, lists_codes: list[str]) -> None:
        st.subheader("A customer came back")
        open_now = visits.open_visits(self.storage, self.me["store_id"])
        if not open_now:
            st.caption("Start their visit on the Log page, then link it here with their code.")
            return
        ui.show_error("return")
        labels = {
            v["id"]: f"{self.clock(v['started_at'])} · {ENGAGEMENT[v['first_engagement']]} · "
            f"{plain(v['associate_name'])}"
            for v in open_now
        }
        st.selectbox("Their visit today", list(labels), format_func=labels.get, key="return-visit")
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.text_input("Code from the receipt", max_chars=7, key="return-code")
            st.selectbox("or from the list", [None, *lists_codes], key="return-pick")
        st.button(
            "Link the return", key="return-save", on_click=self.link_return, icon=":material/link:"
        )
