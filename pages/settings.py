"""Settings (manager): associates, the two lists, the store, access and devices.

Nothing is ever deleted: deactivating an associate or retiring a list entry
keeps its history; every change is audited with who and when."""

from urllib.parse import urlsplit

import streamlit as st

from cxlog.access import access, credentials, join, sessions
from cxlog.calendar import localday
from cxlog.core import roles
from cxlog.core.model import NO_SALE_REASON, REASON, from_utc_text, timezones
from cxlog.followups import followups
from cxlog.storage import settings
from cxlog.stores import catalog
from cxlog.web import coaching_ui, ui

storage = ui.storage()
role = ui.require_role(storage, roles.MANAGER)
state = st.session_state
LIST_TITLES = {REASON: "Reasons for visit", NO_SALE_REASON: "No-sale reasons"}


def done(text: str) -> None:
    ui.toast_later(text, ":material/check:")


def write(place: str, action, confirmation: str, *clear: str) -> None:
    """Run a settings change; on success confirm it and empty the given inputs.
    The role is checked again first: a tap on a control drawn before the
    session ended (idle, signed out elsewhere) changes nothing."""
    if not ui.still_allowed(storage, roles.MANAGER):
        return
    ui.attempt(place, action)
    if place not in state[ui.ERRORS]:
        done(confirmation)
        for key in clear:
            state[key] = ""


def form(key: str):
    """A form: its fields are sent together by a tap, Tab-then-tap or Enter."""
    return st.form(key, enter_to_submit=True, border=False)


st.title("Settings")
ui.show_toasts()
store = ui.pick_store(storage, key="settings-store")

people_tab, lists_tab, store_tab, access_tab, devices_tab, followups_tab, coaching_tab = st.tabs(
    ["Associates", "Lists", "Store", "Access", "Devices", "Follow-ups", "Coaching"]
)

# --- associates ---------------------------------------------------------------
with people_tab:
    ui.show_error("people")
    with form("add-associate-form"):
        st.text_input("New associate's name", key="new-associate", max_chars=60)
        st.form_submit_button(
            "Add",
            key="add-associate",
            icon=":material/person_add:",
            on_click=lambda: write(
                "people",
                lambda: catalog.add_associate(
                    storage, store["id"], state["new-associate"], actor=role
                ),
                "Associate added.",
                "new-associate",
            ),
        )
    people = catalog.list_associates(storage, store["id"])
    if not people:
        st.info("No associates yet: add the first one above.")
    else:
        st.dataframe(
            [
                {"Name": p["name"], "Active": bool(p["active"]), "PIN set": bool(p["has_pin"])}
                for p in people
            ],
            hide_index=True,
        )
        person_id = st.selectbox(
            "Change an associate",
            [p["id"] for p in people],
            key="pick-associate",
            format_func={p["id"]: p["name"] for p in people}.get,
        )
        person = next(p for p in people if p["id"] == person_id)
        with form("rename-associate-form"):
            st.text_input("New name", key="rename-associate", max_chars=60)
            # Callbacks run before the next script run: bind ids now (default
            # arguments), never read page variables that later code reassigns.
            st.form_submit_button(
                "Rename",
                key="rename-associate-save",
                on_click=lambda pid=person_id: write(
                    "people",
                    lambda: catalog.rename_associate(
                        storage, pid, state["rename-associate"], actor=role
                    ),
                    "Renamed; past visits now show the new name.",
                    "rename-associate",
                ),
            )
        with form("associate-pin-form"):
            st.text_input("PIN (4–8 digits)", key="associate-pin", type="password", max_chars=8)
            st.form_submit_button(
                "Set PIN",
                key="associate-pin-save",
                on_click=lambda pid=person_id: write(
                    "people",
                    lambda: access.set_pin(storage, pid, state["associate-pin"], actor=role),
                    "PIN set.",
                    "associate-pin",
                ),
            )
        st.button(
            "Clear PIN",
            key="associate-pin-clear",
            on_click=lambda pid=person_id: write(
                "people", lambda: access.set_pin(storage, pid, None, actor=role), "PIN cleared."
            ),
        )
        active = bool(person["active"])
        st.button(
            "Deactivate (history kept)" if active else "Reactivate",
            key="associate-active",
            icon=":material/person_off:" if active else ":material/person:",
            on_click=lambda pid=person_id, active=active: write(
                "people",
                lambda: catalog.set_associate_active(storage, pid, not active, actor=role),
                "Deactivated." if active else "Reactivated.",
            ),
        )

# --- reasons and no-sale reasons ----------------------------------------------
with lists_tab:
    for kind, title in LIST_TITLES.items():
        st.subheader(title)
        ui.show_error(kind)
        entries = catalog.list_reasons(storage, kind, active_only=False)
        active_ids = [e["id"] for e in entries if e["active"]]
        st.dataframe(
            [
                {
                    "Order": i + 1 if e["active"] else None,
                    "Name": e["name"],
                    "In use": bool(e["active"]),
                }
                for i, e in enumerate(entries)
            ],
            hide_index=True,
        )
        with form(f"add-{kind}-form"):
            st.text_input("New entry", key=f"new-{kind}", max_chars=60)
            st.form_submit_button(
                "Add",
                key=f"add-{kind}",
                on_click=lambda kind=kind: write(
                    kind,
                    lambda: catalog.add_reason(storage, kind, state[f"new-{kind}"], actor=role),
                    "Added.",
                    f"new-{kind}",
                ),
            )
        entry_id = st.selectbox(
            "Change an entry",
            [e["id"] for e in entries],
            key=f"pick-{kind}",
            format_func={e["id"]: e["name"] for e in entries}.get,
        )
        entry = next(e for e in entries if e["id"] == entry_id)
        with form(f"rename-{kind}-form"):
            st.text_input("New name", key=f"rename-{kind}", max_chars=60)
            st.form_submit_button(
                "Rename",
                key=f"rename-{kind}-save",
                on_click=lambda kind=kind, eid=entry_id: write(
                    kind,
                    lambda: catalog.rename_reason(
                        storage, eid, state[f"rename-{kind}"], actor=role
                    ),
                    "Renamed; past visits now show the new name.",
                    f"rename-{kind}",
                ),
            )

        def move(kind: str, entry_id: int, step: int, order: list[int]) -> None:
            i = order.index(entry_id)
            j = min(max(i + step, 0), len(order) - 1)
            order = order.copy()
            order[i], order[j] = order[j], order[i]
            write(
                kind,
                lambda: catalog.reorder_reasons(storage, kind, order, actor=role),
                "Order saved.",
            )

        with st.container(horizontal=True):
            if entry["active"]:
                st.button(
                    "Move up",
                    key=f"up-{kind}",
                    icon=":material/arrow_upward:",
                    on_click=move,
                    args=(kind, entry_id, -1, active_ids),
                )
                st.button(
                    "Move down",
                    key=f"down-{kind}",
                    icon=":material/arrow_downward:",
                    on_click=move,
                    args=(kind, entry_id, 1, active_ids),
                )
            is_active = bool(entry["active"])
            st.button(
                "Retire (history kept)" if is_active else "Use again",
                key=f"retire-{kind}",
                on_click=lambda kind=kind, eid=entry_id, is_active=is_active: write(
                    kind,
                    lambda: catalog.set_reason_active(storage, eid, not is_active, actor=role),
                    "Retired: hidden from the Log page." if is_active else "In use again.",
                ),
            )

# --- store --------------------------------------------------------------------
with store_tab:
    ui.show_error("store")
    name_key, zone_key = f"store-name-{store['id']}", f"store-zone-{store['id']}"
    state.setdefault(name_key, store["name"])
    state.setdefault(zone_key, store["timezone"])
    with form("store-form"):
        st.text_input("Store name", key=name_key, max_chars=60)
        zones = sorted(timezones())
        st.selectbox("Timezone (hours and days on the dashboard use it)", zones, key=zone_key)
        st.form_submit_button(
            "Save store",
            key="store-save",
            type="primary",
            on_click=lambda: write(
                "store",
                lambda: catalog.update_store(
                    storage, store["id"], name=state[name_key], timezone=state[zone_key], actor=role
                ),
                "Store saved.",
            ),
        )

# --- access -------------------------------------------------------------------
with access_tab:
    ui.show_error("access")
    state["pin-required"] = settings.pin_required(storage)
    st.toggle(
        "Associates need a PIN to say who they are",
        key="pin-required",
        on_change=lambda: write(
            "access",
            lambda: settings.set_setting(
                storage, settings.PIN_REQUIRED, "1" if state["pin-required"] else "0", actor=role
            ),
            "PIN setting saved.",
        ),
    )
    state.setdefault("idle-minutes", settings.idle_minutes(storage))
    with form("idle-form"):
        st.number_input(
            "Sign managers out after (minutes without use)",
            min_value=5,
            max_value=480,
            step=5,
            key="idle-minutes",
        )
        st.form_submit_button(
            "Save",
            key="idle-save",
            on_click=lambda: write(
                "access",
                lambda: settings.set_idle_minutes(storage, int(state["idle-minutes"]), actor=role),
                "Idle time saved.",
            ),
        )
    may_set = [roles.MANAGER] + ([roles.OWNER] if role == roles.OWNER else [])
    for who in may_set:
        with form(f"password-{who}-form"):
            st.text_input(
                f"New {who} password (at least 8 characters)",
                type="password",
                key=f"password-{who}",
                max_chars=200,
            )
            st.form_submit_button(
                f"Set {who} password",
                key=f"password-{who}-save",
                on_click=lambda who=who: write(
                    "access",
                    # Every other session of that role ends; this one stays.
                    lambda: credentials.set_password(
                        storage,
                        who,
                        state[f"password-{who}"],
                        actor=role,
                        keep_session=ui.session_token() if who == role else None,
                    ),
                    f"{who.capitalize()} password saved.",
                    f"password-{who}",
                ),
            )

    # Signed-in devices: a manager sees and ends managers' sessions, the owner all.
    st.subheader("Signed-in devices")
    zone = localday.zone(store["timezone"])
    mine = state.get(ui.ROLE_SESSION_ID)
    listed = [
        s for s in sessions.active(storage) if role == roles.OWNER or s["role"] == roles.MANAGER
    ]

    def when(text: str) -> str:
        return from_utc_text(text).astimezone(zone).strftime("%d %b %H:%M")

    st.dataframe(
        [
            {
                "Role": s["role"].capitalize(),
                "Device": s["device"] + (" (this one)" if s["id"] == mine else ""),
                "Address": s["client"],
                "Signed in": when(s["created_at"]),
                "Last used": when(s["last_seen_at"]),
            }
            for s in listed
        ],
        hide_index=True,
    )
    others = [s for s in listed if s["id"] != mine]
    if others:
        st.selectbox(
            "End a session",
            [s["id"] for s in others],
            key="end-session-pick",
            format_func={
                s["id"]: f"{s['role'].capitalize()} · {s['device']} · {when(s['last_seen_at'])}"
                for s in others
            }.get,
        )
        with st.container(horizontal=True):
            st.button(
                "End this session",
                key="end-session",
                icon=":material/logout:",
                # The pick as it is at the tap, read from the widget's state.
                on_click=lambda: write(
                    "access",
                    lambda: sessions.end_session(storage, state["end-session-pick"], actor=role),
                    "Session ended: that device must sign in again.",
                ),
            )
            st.button(
                "End all other sessions",
                key="end-all-sessions",
                on_click=lambda: write(
                    "access",
                    lambda: sessions.end_all(
                        storage,
                        actor=role,
                        except_id=mine,
                        role=None if role == roles.OWNER else roles.MANAGER,
                    ),
                    "Every other session ended.",
                ),
            )

# --- joining devices ----------------------------------------------------------
with devices_tab:
    if urlsplit(st.context.url or "").scheme != "https":
        st.warning(
            "This page came over plain HTTP: anyone on the same wifi can read what a "
            "signed-in device sends, including its sign-in. Use a wifi only staff can "
            "join, or serve cxlog over HTTPS (README: Access and security).",
            icon=":material/lock_open:",
        )
    st.write("Tablets and phones on the store network open the Log page at:")
    urls = join.log_page_urls(st.get_option("server.port"), st.context.url)
    if not urls:
        st.warning(
            "This machine shows no network address other than itself: connect it to "
            "the store network, then reload this page."
        )
    for url in urls:
        st.code(url, language=None)
    if urls:
        st.image(join.qr_svg(urls[0]), caption="Scan with the tablet's camera", width=232)
    st.caption(
        "On the tablet: open the address, tap your name, then add the page to the home "
        "screen (Share → Add to Home Screen on iPad; ⋮ → Add to Home screen on Android)."
    )

# --- coaching: goals, currency, daily focus (issue #14) ---------------------------
with coaching_tab:
    coaching_ui.settings_tab(storage, store, role)

# --- follow-ups (issue #15) -------------------------------------------------------
with followups_tab:
    ui.show_error("followup-window")
    with st.form(f"followup-window-{store['id']}"):
        st.number_input(
            "Follow-up conversion window (days after the promise)",
            min_value=1,
            max_value=followups.MAX_WINDOW_DAYS,
            value=followups.window_days(storage, store["id"]),
            step=1,
            key=f"followup-window-{store['id']}",
        )
        st.caption(
            'A follow-up counts as converted on the dashboard when its result is "came back '
            'and bought" within this many days of the promise.'
        )
        st.form_submit_button(
            "Save window",
            on_click=lambda: write(
                "followup-window",
                lambda: followups.set_window_days(
                    storage,
                    store["id"],
                    int(state[f"followup-window-{store['id']}"]),
                    actor=role,
                ),
                "Follow-up window saved.",
            ),
        )
