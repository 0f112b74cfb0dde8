"""Log: one tap per moment (PRODUCT.md, "Associate — Log").

Every tap is a widget callback that writes at once; the confirmation is drawn
only after the write returned (STACK-NOTES: a tap lost on flaky wifi shows no
confirmation, so the associate taps again, and the retry is idempotent).
Each open-visit card is its own fragment, so a tap redraws only that card.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import streamlit as st

from cxlog import access, catalog, ui, visits
from cxlog.errors import NotFoundError, StorageError
from cxlog.model import (
    FIRST_ENGAGEMENTS,
    NO_PURCHASE,
    NO_SALE_REASON,
    PURCHASED,
    REASON,
    from_utc_text,
    utc_now,
)
from cxlog.text import plain
from cxlog.visits import UNDO_WINDOW

LABELS = {"warm": "Warm", "neutral": "Neutral", "missed": "Missed"}
ICONS = {
    "warm": ":material/sentiment_very_satisfied:",
    "neutral": ":material/sentiment_neutral:",
    "missed": ":material/sentiment_dissatisfied:",
}
QUICK_UNITS = (1, 2, 3, 4)
# Other devices' new visits appear within this many seconds without a tap.
REFRESH_SECONDS = 15

storage = ui.storage()
ui.init_state()
ui.touch_styles()
state = st.session_state


@contextmanager
def reads_or_stop() -> Iterator[None]:
    """A read that fails (the file moved, its folder gone) stops the page with a
    sentence instead of a stack trace (issue #7); taps report their own errors
    through ui.attempt. The next run (a refresh, a tap) tries again."""
    try:
        yield
    except StorageError as exc:
        st.error(
            f"{exc} Visits cannot be shown or logged until this is fixed.",
            icon=":material/database:",
        )
        st.stop()


# --- who am I -----------------------------------------------------------------


def pick_associate(associate_id: int) -> None:
    def pick() -> None:
        if access.pin_required(storage):
            state[ui.PICKED_ASSOCIATE] = associate_id
        else:
            ui.sign_in(storage, associate_id)

    ui.attempt("who", pick)


def enter_pin() -> None:
    associate_id = state[ui.PICKED_ASSOCIATE]
    pin = state.get("pin", "")
    state["pin"] = ""

    def check() -> None:
        # With the 5-tries lockout: a 4-digit PIN is otherwise guessed in minutes.
        access.check_associate_pin(storage, associate_id, pin)
        ui.sign_in(storage, associate_id)
        state[ui.PICKED_ASSOCIATE] = None

    ui.attempt("who", check)


def who_am_i() -> None:
    st.title("Who is logging?")
    stores = catalog.list_stores(storage)
    if not stores:
        st.info(
            "This store is not set up yet. A manager adds the store and its associates "
            "in Settings.",
            icon=":material/storefront:",
        )
        st.stop()
    if len(stores) > 1:
        st.pills(
            "Store",
            [s["id"] for s in stores],
            key=ui.PICKED_STORE,
            format_func={s["id"]: plain(s["name"]) for s in stores}.get,
        )
    store_id = stores[0]["id"] if len(stores) == 1 else state[ui.PICKED_STORE]
    if store_id is None:
        st.stop()
    people = catalog.list_associates(storage, store_id, active_only=True)
    if not people:
        st.info("No associates yet. A manager adds them in Settings.")
        st.stop()
    ui.show_error("who")
    if state[ui.PICKED_ASSOCIATE] is not None:
        name = next((p["name"] for p in people if p["id"] == state[ui.PICKED_ASSOCIATE]), "")
        st.subheader(f"PIN for {plain(name)}")
        st.text_input("PIN", type="password", max_chars=8, key="pin", on_change=enter_pin)
        with st.container(horizontal=True):
            st.button("Sign in", key="pin-ok", on_click=enter_pin, type="primary")
            st.button(
                "Back", key="pin-back", on_click=lambda: state.update({ui.PICKED_ASSOCIATE: None})
            )
        st.stop()
    st.caption("Tap your name once per shift on this device.")
    with st.container(horizontal=True, key="names"):
        for person in people:
            st.button(
                plain(person["name"]),
                key=f"name-{person['id']}",
                on_click=pick_associate,
                args=(person["id"],),
            )
    st.stop()


with reads_or_stop():
    me = ui.signed_in(storage)
    if me is None:
        who_am_i()
actor = f"associate:{me['id']}"


# --- starting a visit ---------------------------------------------------------


def start_visit(engagement: str, visit_id: str) -> None:
    result = ui.attempt(
        "start",
        lambda: visits.create_visit(storage, visit_id, me["store_id"], me["id"], engagement),
    )
    if result is not None:
        state[ui.LAST_START] = (visit_id, engagement)
        # The next visit gets a new id and the buttons new keys, so a second
        # tap of a double tap (sent for the old buttons) finds nothing to do.
        state[ui.START_NONCE] = ui.new_id()


def undo_start(visit_id: str) -> None:
    if ui.attempt("start", lambda: visits.undo_last(storage, actor, visit_id=visit_id)):
        ui.toast_later("Visit removed.", icon=":material/undo:")
    state[ui.LAST_START] = None


def start_panel() -> None:
    nonce = state[ui.START_NONCE]
    st.markdown("**New customer** — how did the visit start?")
    with st.container(horizontal=True, key="start-row"):
        for engagement in FIRST_ENGAGEMENTS:
            st.button(
                LABELS[engagement],
                key=f"start-{engagement}-{nonce}",
                icon=ICONS[engagement],
                on_click=start_visit,
                args=(engagement, nonce),
                type="primary" if engagement == "warm" else "secondary",
                width="stretch",
            )
    ui.show_error("start")
    if state[ui.LAST_START]:
        visit_id, engagement = state[ui.LAST_START]
        with st.container(horizontal=True, vertical_alignment="center", key="start-confirm"):
            st.success(f"{LABELS[engagement]} visit started", icon=":material/check:")
            st.button(
                "Undo",
                key=f"undo-start-{visit_id}",
                on_click=undo_start,
                args=(visit_id,),
                icon=":material/undo:",
            )


# --- an open visit card -------------------------------------------------------


def elapsed(started_at: str) -> str:
    minutes = int((utc_now() - from_utc_text(started_at)).total_seconds() // 60)
    return "just now" if minutes < 1 else f"{minutes} min ago"


def local_time(stamp: str) -> str:
    return from_utc_text(stamp).astimezone(ZoneInfo(me["timezone"])).strftime("%H:%M")


def set_reason(visit_id: str) -> None:
    key = f"reason-{visit_id}"
    if state[key] is None:
        # Tapping the chosen pill again (a double tap) would clear it; keep it.
        kept = ui.attempt(visit_id, lambda: visits.get_visit(storage, visit_id)["reason_id"])
        state[key] = kept
        return
    ui.attempt(visit_id, lambda: visits.set_reason(storage, visit_id, state[key], actor=actor))


def set_markers(visit_id: str) -> None:
    chosen = set(state[f"markers-{visit_id}"] or ())

    def write() -> None:
        for marker in ("used_name", "recommended"):
            visits.set_marker(storage, visit_id, marker, marker in chosen, actor=actor)

    ui.attempt(visit_id, write)


def fresh(visit: dict | None) -> dict | None:
    """Hand the row a write returned to the card's next draw (saves a read)."""
    if visit is not None:
        state[ui.FRESH][visit["id"]] = visit
    return visit


def closed(visit_id: str) -> None:
    # Only the last close keeps its card (with Undo) after the list redraws:
    # the list stays as short as the open visits.
    state[ui.LAST_CLOSED] = (visit_id, time.time())
    state[ui.STEPPER_OPEN].discard(visit_id)


def purchase(visit_id: str, units: int) -> None:
    if fresh(
        ui.attempt(visit_id, lambda: visits.record_purchase(storage, visit_id, units, actor=actor))
    ):
        closed(visit_id)
        ui.toast_later(
            f"Saved: purchase, {units} unit{'s' if units > 1 else ''}.",
            icon=":material/shopping_bag:",
        )


def purchase_from_stepper(visit_id: str) -> None:
    purchase(visit_id, int(state[f"stepper-{visit_id}"]))


def no_purchase(visit_id: str) -> None:
    if fresh(
        ui.attempt(visit_id, lambda: visits.record_no_purchase(storage, visit_id, actor=actor))
    ):
        closed(visit_id)
        ui.toast_later("Saved: no purchase.", icon=":material/do_not_disturb_on:")


def set_no_sale_reason(visit_id: str) -> None:
    reason_id = state[f"nosale-{visit_id}"]
    ui.attempt(
        visit_id,
        lambda: visits.record_no_purchase(
            storage, visit_id, no_sale_reason_id=reason_id, actor=actor
        ),
    )


def set_amount(visit_id: str) -> None:
    value = state[f"amount-{visit_id}"]
    cents = None if value is None else round(value * 100)

    def write() -> dict:
        units = visits.get_visit(storage, visit_id)["units"]
        return visits.record_purchase(storage, visit_id, units, amount_cents=cents, actor=actor)

    ui.attempt(visit_id, write)


def undo_visit(visit_id: str) -> None:
    if ui.attempt(visit_id, lambda: visits.undo_last(storage, actor, visit_id=visit_id)):
        state[ui.LAST_CLOSED] = None


def open_card(visit: dict, reasons: list[dict]) -> None:
    vid = visit["id"]
    st.markdown(
        f"**{LABELS[visit['first_engagement']]}** · {elapsed(visit['started_at'])}"
        f" · {plain(visit['associate_name'])}"
    )
    ui.show_error(vid)
    state[f"reason-{vid}"] = visit["reason_id"]
    st.pills(
        "Reason for visit",
        [r["id"] for r in reasons],
        key=f"reason-{vid}",
        format_func={r["id"]: plain(r["name"]) for r in reasons}.get,
        on_change=set_reason,
        args=(vid,),
        label_visibility="collapsed",
    )
    state[f"markers-{vid}"] = [m for m in ("used_name", "recommended") if visit[m]]
    st.pills(
        "Connection",
        ["used_name", "recommended"],
        selection_mode="multi",
        key=f"markers-{vid}",
        on_change=set_markers,
        args=(vid,),
        format_func={"used_name": "Used name", "recommended": "Recommended"}.get,
        label_visibility="collapsed",
    )
    with st.container(horizontal=True, key=f"outcome-{vid}"):
        for units in QUICK_UNITS:
            st.button(str(units), key=f"units-{units}-{vid}", on_click=purchase, args=(vid, units))
        st.button("5+", key=f"more-{vid}", on_click=lambda: state[ui.STEPPER_OPEN].add(vid))
        st.button(
            "No purchase",
            key=f"none-{vid}",
            on_click=no_purchase,
            args=(vid,),
            icon=":material/block:",
        )
    if vid in state[ui.STEPPER_OPEN]:
        st.number_input(
            "Units sold (5 to 99)", min_value=5, max_value=99, value=5, step=1, key=f"stepper-{vid}"
        )
        st.button(
            "Save units",
            key=f"stepper-save-{vid}",
            type="primary",
            on_click=purchase_from_stepper,
            args=(vid,),
            icon=":material/check:",
        )


def closed_card(visit: dict, no_sale_reasons: list[dict]) -> None:
    vid = visit["id"]
    if visit["voided_at"]:
        st.caption(f"{LABELS[visit['first_engagement']]} visit removed.")
        return
    if visit["outcome"] == PURCHASED:
        text = f"Saved: purchase, {visit['units']} unit{'s' if visit['units'] > 1 else ''}"
    else:
        text = "Saved: no purchase"
    with st.container(horizontal=True, vertical_alignment="center"):
        st.success(text, icon=":material/check_circle:")
        st.button(
            "Undo", key=f"undo-{vid}", on_click=undo_visit, args=(vid,), icon=":material/undo:"
        )
    ui.show_error(vid)
    if visit["outcome"] == NO_PURCHASE:
        state[f"nosale-{vid}"] = visit["no_sale_reason_id"]
        st.pills(
            "Why no purchase? (optional)",
            [r["id"] for r in no_sale_reasons],
            key=f"nosale-{vid}",
            format_func={r["id"]: plain(r["name"]) for r in no_sale_reasons}.get,
            on_change=set_no_sale_reason,
            args=(vid,),
        )
    else:
        amount = None if visit["amount_cents"] is None else visit["amount_cents"] / 100
        state[f"amount-{vid}"] = amount
        if vid not in state[ui.AMOUNT_OPEN]:
            # Typing is optional, so the field waits behind a tap: the card
            # that confirms the sale stays light and quick to draw.
            st.button(
                "Add sale amount",
                key=f"add-amount-{vid}",
                icon=":material/add:",
                on_click=lambda: state[ui.AMOUNT_OPEN].add(vid),
            )
            return
        st.number_input(
            "Sale amount (optional)",
            min_value=0.0,
            max_value=1_000_000.0,
            step=1.0,
            format="%.2f",
            key=f"amount-{vid}",
            on_change=set_amount,
            args=(vid,),
        )


@reads_or_stop()
def card(visit_id: str) -> None:
    ui.show_toasts()
    visit = state[ui.FRESH].pop(visit_id, None)
    if visit is None:
        try:
            visit = visits.get_visit(storage, visit_id)
        except NotFoundError:
            return
    with st.container(border=True, key=f"card-{visit_id}"):
        if visit["outcome"] is None and visit["voided_at"] is None:
            open_card(visit, catalog.list_reasons(storage, REASON))
        elif visit["outcome"] == NO_PURCHASE:
            closed_card(visit, catalog.list_reasons(storage, NO_SALE_REASON))
        else:
            closed_card(visit, [])


@reads_or_stop()
def open_list() -> None:
    rows = visits.open_visits(storage, me["store_id"])
    cutoff = time.time() - UNDO_WINDOW.total_seconds()
    last = state[ui.LAST_CLOSED]
    recent = [last[0]] if last and last[1] >= cutoff else []
    st.subheader(f"Open visits ({len(rows)})")
    if not rows:
        st.caption("None right now. Tap Warm, Neutral or Missed when a customer arrives.")
    shown = [(r["started_at"], r["id"]) for r in rows]
    shown += [
        (visits.get_visit(storage, vid)["started_at"], vid)
        for vid in recent
        if vid not in {r["id"] for r in rows}
    ]
    for _, vid in sorted(shown, reverse=True):
        st.fragment(card, key=f"c-{vid}")(vid)


# --- today --------------------------------------------------------------------


def reopen(visit_id: str) -> None:
    if ui.attempt("today", lambda: visits.reopen_visit(storage, visit_id, actor=actor)):
        ui.toast_later("Visit reopened: fix it in Open visits.", icon=":material/edit:")
    st.rerun()  # the card must appear in the board above: redraw the whole page


# Refreshes like the board, so closes made in card fragments show up here too.
@st.fragment(key="today", run_every=REFRESH_SECONDS)
@reads_or_stop()
def today_list() -> None:
    ui.show_toasts()
    zone = ZoneInfo(me["timezone"])
    midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = [
        v
        for v in visits.visits_between(
            storage, me["store_id"], midnight, utc_now(), include_voided=False
        )
        if v["outcome"]
    ]
    with st.expander(f"Today: {len(rows)} closed visit{'s' if len(rows) != 1 else ''}"):
        ui.show_error("today")
        for v in rows:
            outcome = (
                f"{v['units']} unit{'s' if v['units'] > 1 else ''}"
                if v["outcome"] == PURCHASED
                else "no purchase"
            )
            reason = plain(v["reason_name"]) if v["reason_name"] else "no reason"
            with st.container(horizontal=True, vertical_alignment="center"):
                st.write(
                    f"{local_time(v['started_at'])} · {LABELS[v['first_engagement']]}"
                    f" · {reason} · {outcome} · {plain(v['associate_name'])}"
                )
                st.button(
                    "Reopen",
                    key=f"reopen-{v['id']}",
                    on_click=reopen,
                    args=(v["id"],),
                    icon=":material/edit:",
                )


# --- the page -----------------------------------------------------------------

with st.container(horizontal=True, vertical_alignment="center", key="who-bar"):
    st.markdown(f"### {plain(me['name'])} · {plain(me['store_name'])}")
    st.button(
        "Not you?", key="sign-out", on_click=lambda: ui.attempt("who", lambda: ui.sign_out(storage))
    )
ui.show_error("who")


@st.fragment(key="board", run_every=REFRESH_SECONDS)
def board() -> None:
    """Start buttons and open visits rerun together: a start adds a card. One
    fragment, not two rerun by key: keyed reruns of two fragments at once left
    a stale copy of the Warm button on screen after ~60 starts (Streamlit 1.67)."""
    ui.show_toasts()
    start_panel()
    open_list()


board()
today_list()
