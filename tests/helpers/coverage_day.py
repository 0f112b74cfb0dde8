"""A store's day worked out by hand for the coverage tests: its counter file,
its logged visits hour by hour, and the ``day`` fixture that stores them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cxlog.coverage import traffic
from cxlog.numbers import derived
from tests.conftest import new_id

DAY = date(2026, 11, 3)  # a Tuesday; London is on GMT, so local = UTC
COUNTER = (
    "start,in,out\n"
    "2026-11-03 10:00,10,8\n"
    "2026-11-03 11:00,20,20\n"
    # 12:00 missing: the counter sent nothing
    "2026-11-03 13:00,0,0\n"  # silent while two visits were logged
    "2026-11-03 14:00,5,3\n"
)


def visit(store, who, hour, minute, outcome=None, units=None, voided=False) -> dict:
    at = datetime(2026, 11, 3, hour, minute, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "id": new_id(),
        "store_id": store,
        "associate_id": who,
        "started_at": at,
        "first_engagement": "warm",
        "outcome": outcome,
        "units": units,
        "closed_at": at if outcome else None,
        "voided_at": at if voided else None,
        "updated_at": at,
    }


@pytest.fixture
def day(storage, shop):
    """By hand, logged visits per hour (purchases with their units):
    10:00 6 (3 bought 2+1+3, 2 no, 1 open) + 1 voided; 11:00 10 (4 bought 1
    each, 6 no); 12:00 3 (bought 1 each, no counter figure); 13:00 2 (no);
    14:00 6 (1 bought 5, 5 no)."""
    s, a = shop["store"], shop["ana"]
    rows = [
        visit(s, a, 10, 5, "purchased", 2),
        visit(s, a, 10, 15, "purchased", 1),
        visit(s, a, 10, 25, "purchased", 3),
        visit(s, a, 10, 35, "no_purchase"),
        visit(s, a, 10, 45, "no_purchase"),
        visit(s, a, 10, 59),
        visit(s, a, 10, 30, "no_purchase", voided=True),
        *(visit(s, a, 11, m, "purchased", 1) for m in (1, 2, 3, 4)),
        *(visit(s, a, 11, m, "no_purchase") for m in (10, 20, 30, 40, 50, 59)),
        *(visit(s, a, 12, m, "purchased", 1) for m in (1, 2, 3)),
        *(visit(s, a, 13, m, "no_purchase") for m in (1, 2)),
        visit(s, a, 14, 0, "purchased", 5),
        *(visit(s, a, 14, m, "no_purchase") for m in (10, 20, 30, 40, 50)),
        # The next day: no counter figures at all.
        {**visit(s, a, 10, 0), "started_at": "2026-11-04T10:00:00.000Z"},
    ]
    with storage.write() as db:
        db.insert_rows("visits", rows)
        # Written behind cxlog's back: recount the dashboard's rollups (#12).
        derived.rebuild(db)
    traffic.import_file(storage, "traffic", s, COUNTER, actor="t")
    pos = (
        "date,hour,transactions,units,net_sales\n"
        "2026-11-03,,9,20,450.00\n"  # a whole day
        "2026-11-04,10,4,5,80.00\n"  # an hour the counter has no figure for
    )
    traffic.import_file(storage, "pos", s, pos, actor="t")
    return storage
