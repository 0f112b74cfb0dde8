"""Settings' tabs for people and lists (pages/settings.py draws the page):
associates with their PINs, reasons for visit and no-sale reasons.

Nothing is ever deleted: deactivating an associate or retiring a list entry
keeps its history; every change is audited with who and when."""

from __future__ import annotations

import streamlit as st

from cxlog.access import access
from cxlog.core.model import NO_SALE_REASON, REASON, entry_name
from cxlog.core.text import plain
from cxlog.language.words import N_, _
from cxlog.storage.db import Storage
from cxlog.stores import catalog
from cxlog.web import ui

LIST_TITLES = {REASON: N_("Reasons for visit"), NO_SALE_REASON: N_("No-sale reasons")}
# A store's own list: one sentence each, the store's name in it.
STORE_LIST_TITLES = {
    REASON: N_("Reasons for visit: {store} only"),
    NO_SALE_REASON: N_("No-sale reasons: {store} only"),
}


def form(key: str):
    """A form: its fields are sent together by a tap, Tab-then-tap or Enter."""
    return st.form(key, enter_to_submit=True, border=False)


def associates(storage: Storage, store: dict, role: str) -> None:
    state = st.session_state
    ui.show_error("people")
    with form("add-associate-form"):
        st.text_input(_("New associate's name"), key="new-associate", max_chars=60)
        st.form_submit_button(
            _("Add"),
            key="add-associate",
            icon=":material/person_add:",
            on_click=lambda: ui.change(
                storage,
                "people",
                lambda: catalog.add_associate(
                    storage, store["id"], state["new-associate"], actor=role
                ),
                _("Associate added."),
                "new-associate",
            ),
        )
    people = catalog.list_associates(storage, store["id"])
    if not people:
        st.info(_("No associates yet: add the first one above."))
    else:
        name_col, active_col, pin_col = _("Name"), _("Active"), _("PIN set")
        st.dataframe(
            [
                {name_col: p["name"], active_col: bool(p["active"]), pin_col: bool(p["has_pin"])}
                for p in people
            ],
            hide_index=True,
        )
        person_id = st.selectbox(
            _("Change an associate"),
            [p["id"] for p in people],
            key="pick-associate",
            format_func={p["id"]: p["name"] for p in people}.get,
        )
        person = next(p for p in people if p["id"] == person_id)
        with form("rename-associate-form"):
            st.text_input(_("New name"), key="rename-associate", max_chars=60)
            # Callbacks run before the next script run: bind ids now (default
            # arguments), never read page variables that later code reassigns.
            st.form_submit_button(
                _("Rename"),
                key="rename-associate-save",
                on_click=lambda pid=person_id: ui.change(
                    storage,
                    "people",
                    lambda: catalog.rename_associate(
                        storage, pid, state["rename-associate"], actor=role
                    ),
                    _("Renamed; past visits now show the new name."),
                    "rename-associate",
                ),
            )
        with form("associate-pin-form"):
            st.text_input(_("PIN (4–8 digits)"), key="associate-pin", type="password", max_chars=8)
            st.form_submit_button(
                _("Set PIN"),
                key="associate-pin-save",
                on_click=lambda pid=person_id: ui.change(
                    storage,
                    "people",
                    lambda: access.set_pin(storage, pid, state["associate-pin"], actor=role),
                    _("PIN set."),
                    "associate-pin",
                ),
            )
        st.button(
            _("Clear PIN"),
            key="associate-pin-clear",
            on_click=lambda pid=person_id: ui.change(
                storage,
                "people",
                lambda: access.set_pin(storage, pid, None, actor=role),
                _("PIN cleared."),
            ),
        )
        active = bool(person["active"])
        st.button(
            _("Deactivate (history kept)") if active else _("Reactivate"),
            key="associate-active",
            icon=":material/person_off:" if active else ":material/person:",
            on_click=lambda pid=person_id, active=active: ui.change(
                storage,
                "people",
                lambda: catalog.set_associate_active(storage, pid, not active, actor=role),
                _("Deactivated.") if active else _("Reactivated."),
            ),
        )


def lists(storage: Storage, role: str) -> None:
    """The chain's two lists: what every store offers (unless it hides an entry)."""
    for kind, title in LIST_TITLES.items():
        st.subheader(_(title))
        ui.show_error(kind)
        entries = catalog.list_reasons(storage, kind, active_only=False)
        editor(storage, kind, entries, role)


def store_lists(storage: Storage, store: dict, role: str) -> None:
    """A store's own lists (issue #28): the chain's entries it does not
    offer, and entries only it offers, after the chain's on its tablets."""
    if len(catalog.list_stores(storage)) < 2:
        return  # one store: its lists are the chain's
    state, sid = st.session_state, store["id"]
    for kind, title in STORE_LIST_TITLES.items():
        st.subheader(_(title).format(store=plain(store["name"])))
        place = f"{kind}-{sid}"
        ui.show_error(place)
        offered = catalog.list_reasons(storage, kind, active_only=False, store_id=sid)
        chain = [e for e in offered if e["store_id"] is None and (e["active"] or e["hidden"])]
        hide_key = f"hidden-{kind}-{sid}"
        state[hide_key] = [e["id"] for e in chain if e["hidden"]]

        def save_hidden(kind=kind, chain=chain, hide_key=hide_key) -> None:
            wanted = set(state[hide_key])

            def apply() -> None:
                for e in chain:
                    if bool(e["hidden"]) != (e["id"] in wanted):
                        catalog.set_reason_hidden(
                            storage, sid, e["id"], e["id"] in wanted, actor=role
                        )

            ui.change(storage, f"{kind}-{sid}", apply, _("Saved for this store."), store_id=sid)

        st.multiselect(
            _("Not offered at this store"),
            [e["id"] for e in chain],
            key=hide_key,
            format_func={e["id"]: entry_name(e["name"]) for e in chain}.get,
            on_change=save_hidden,
            placeholder=_("Every store's entries are offered"),
        )
        own = [e for e in offered if e["store_id"] == sid]
        editor(storage, kind, own, role, store_id=sid)


def editor(
    storage: Storage, kind: str, entries: list[dict], role: str, store_id: int | None = None
) -> None:
    """One list's table, add, rename, move and retire: the chain's list, or
    (``store_id``) a store's own entries."""
    state = st.session_state
    key = "" if store_id is None else f"-{store_id}"
    place = f"{kind}{key}"
    if entries:
        table(entries)
    else:
        st.caption(_("No entries yet.") if store_id is None else _("No entries of its own yet."))
    with form(f"add-{kind}-form{key}"):
        st.text_input(
            _("New entry") if store_id is None else _("New entry for this store only"),
            key=f"new-{kind}{key}",
            max_chars=60,
        )
        st.form_submit_button(
            _("Add"),
            key=f"add-{kind}{key}",
            on_click=lambda: ui.change(
                storage,
                place,
                lambda: catalog.add_reason(
                    storage, kind, state[f"new-{kind}{key}"], actor=role, store_id=store_id
                ),
                _("Added."),
                f"new-{kind}{key}",
                store_id=store_id,
            ),
        )
    if not entries:
        return
    entry_id = st.selectbox(
        _("Change an entry"),
        [e["id"] for e in entries],
        key=f"pick-{kind}{key}",
        format_func={e["id"]: entry_name(e["name"]) for e in entries}.get,
    )
    entry = next(e for e in entries if e["id"] == entry_id)
    with form(f"rename-{kind}-form{key}"):
        st.text_input(_("New name"), key=f"rename-{kind}{key}", max_chars=60)
        st.form_submit_button(
            _("Rename"),
            key=f"rename-{kind}-save{key}",
            on_click=lambda eid=entry_id: ui.change(
                storage,
                place,
                lambda: catalog.rename_reason(
                    storage, eid, state[f"rename-{kind}{key}"], actor=role
                ),
                _("Renamed; past visits now show the new name."),
                f"rename-{kind}{key}",
                store_id=store_id,
            ),
        )

    def step(by: int) -> None:
        ui.change(
            storage,
            place,
            lambda: catalog.move_reason(storage, kind, entry_id, by, actor=role),
            _("Order saved."),
            store_id=store_id,
        )

    with st.container(horizontal=True):
        if entry["active"]:
            st.button(
                _("Move up"),
                key=f"up-{kind}{key}",
                icon=":material/arrow_upward:",
                on_click=step,
                args=(-1,),
            )
            st.button(
                _("Move down"),
                key=f"down-{kind}{key}",
                icon=":material/arrow_downward:",
                on_click=step,
                args=(1,),
            )
        is_active = bool(entry["active"])
        st.button(
            _("Retire (history kept)") if is_active else _("Use again"),
            key=f"retire-{kind}{key}",
            on_click=lambda eid=entry_id, is_active=is_active: ui.change(
                storage,
                place,
                lambda: catalog.set_reason_active(storage, eid, not is_active, actor=role),
                _("Retired: hidden from the Log page.") if is_active else _("In use again."),
                store_id=store_id,
            ),
        )


def table(entries: list[dict]) -> None:
    """A list's entries in order, retired ones unnumbered."""
    order_col, name_col, in_use_col = _("Order"), _("Name"), _("In use")
    st.dataframe(
        [
            {
                order_col: i + 1 if e["active"] else None,
                name_col: entry_name(e["name"]),
                in_use_col: bool(e["active"]),
            }
            for i, e in enumerate(entries)
        ],
        hide_index=True,
    )
