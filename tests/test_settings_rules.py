"""The rules behind Settings' controls (#26 moved them out of the page): whose
sessions and passwords a role manages, moving a list entry, a session's time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cxlog.access import credentials, sessions
from cxlog.calendar import localday
from cxlog.core.errors import ValidationError
from cxlog.core.model import REASON
from cxlog.core.roles import MANAGER, OWNER
from cxlog.stores import catalog


def test_a_manager_sees_and_ends_managers_sessions_the_owner_everyone_s(storage):
    credentials.set_password(storage, OWNER, "owner-pass-1", actor="test")
    credentials.set_password(storage, MANAGER, "manager-pass-1", actor="test")
    for role in (MANAGER, MANAGER, OWNER):
        sessions.start(storage, role, device="d", client="local")
    assert {s["role"] for s in sessions.active(storage, seen_by=MANAGER)} == {MANAGER}
    assert len(sessions.active(storage, seen_by=OWNER)) == 3
    mine = sessions.active(storage, seen_by=MANAGER)[0]["id"]
    assert sessions.end_all(storage, actor=MANAGER, except_id=mine, seen_by=MANAGER) == 1
    # The other manager's session ended; the owner's and this one stood.
    assert sorted(s["role"] for s in sessions.active(storage)) == [MANAGER, OWNER]
    assert sessions.end_all(storage, actor=OWNER, seen_by=OWNER) == 2


def test_a_manager_sets_the_managers_password_the_owner_both():
    assert credentials.passwords_set_by(MANAGER) == [MANAGER]
    assert credentials.passwords_set_by(OWNER) == [MANAGER, OWNER]


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
