"""The rules behind Settings' controls (#26 moved them out of the page): whose
sessions an account manages, moving a list entry, a session's time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cxlog.access import accounts, sessions
from cxlog.calendar import localday
from cxlog.core.errors import NotFoundError, ValidationError
from cxlog.core.model import REASON
from cxlog.core.roles import MANAGER, OWNER
from cxlog.stores import catalog


def test_a_manager_sees_and_ends_their_own_sessions_the_owner_everyone_s(storage):
    """Issue #28: sessions are per account; a manager's "sign out everywhere"
    ends their own other sessions, never another manager's or the owner's."""
    store = catalog.create_store(storage, "Corner Shop", "Europe/London")
    olive = accounts.get(storage, accounts.add(storage, "Olive", OWNER, "owner-pass-1", actor="t"))
    mia = accounts.get(
        storage, accounts.add(storage, "Mia", MANAGER, "mia-pass-1", [store], actor="t")
    )
    max_ = accounts.get(
        storage, accounts.add(storage, "Max", MANAGER, "max-pass-1", [store], actor="t")
    )
    for account in (mia, mia, max_, olive):
        sessions.start(storage, account, device="d", client="local")
    assert {s["login"] for s in sessions.active(storage, seen_by=mia)} == {"Mia"}
    assert len(sessions.active(storage, seen_by=mia)) == 2
    assert len(sessions.active(storage, seen_by=olive)) == 4
    mine = sessions.active(storage, seen_by=mia)[0]["id"]
    assert sessions.end_all(storage, actor=mia.actor, except_id=mine, seen_by=mia) == 1
    # Mia's other session ended; Max's, the owner's and this one stood.
    assert sorted(s["login"] for s in sessions.active(storage)) == ["Max", "Mia", "Olive"]
    maxs = next(s["id"] for s in sessions.active(storage) if s["login"] == "Max")
    with pytest.raises(NotFoundError):
        sessions.end_session(storage, maxs, actor=mia.actor, seen_by=mia)
    assert sessions.end_all(storage, actor=olive.actor, seen_by=olive) == 3


def test_moving_an_entry_swaps_it_with_its_neighbour_and_stops_at_the_ends(storage):
    def names():
        return [r["name"] for r in catalog.list_reasons(storage, REASON)]

    first, second, *_ = catalog.list_reasons(storage, REASON)
    before = names()
    catalog.move_reason(storage, REASON, second["id"], -1, actor="test")
    assert names() == [before[1], before[0], *before[2:]]
    catalog.move_reason(storage, REASON, second["id"], -1, actor="test")  # already first
    assert names() == [before[1], before[0], *before[2:]]
    catalog.set_reason_active(storage, first["id"], False, actor="test")
    with pytest.raises(ValidationError, match="in use"):
        catalog.move_reason(storage, REASON, first["id"], 1, actor="test")


def test_a_moment_is_written_on_the_store_s_clock():
    moment = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
    assert localday.moment_text(moment, "Europe/London") == "7 Dec 23:30"
    assert localday.moment_text(moment, "Asia/Tokyo") == "8 Dec 08:30"


def test_a_time_is_written_on_the_store_s_clock():
    moment = datetime(2026, 7, 1, 13, 5, tzinfo=UTC)
    assert localday.clock_text(moment, "Europe/London") == "14:05"
    assert localday.clock_text(moment, localday.zone("America/New_York")) == "09:05"
