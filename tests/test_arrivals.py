"""Time to greet's taps (issue #30): an arrival waits on every device of the
store until a start greets it (the visit keeps its arrival and seconds to
greet), "left before greeting" closes it as a missed visit with no
purchase, the store's limit closes it the same way; undo and replays work
as for every tap, and with the setting off nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cxlog.access import shifts
from cxlog.greeting import rules
from cxlog.storage.settings import GreetRules
from cxlog.stores import catalog
from cxlog.visits import arrivals, taps
from tests.conftest import new_id
from tests.helpers.peek import peek

RECEIVED = datetime(2026, 11, 30, 15, 0, 0, tzinfo=UTC)
MS = int(RECEIVED.timestamp() * 1000)


def shift_of(storage, associate_id: int) -> dict:
    began = RECEIVED - timedelta(hours=2)
    cookie = shifts.start(storage, associate_id, shifts.new_device_id(), now=began)
    return shifts.check(storage, cookie, now=RECEIVED)


def tap(kind: str, visit: str, by: int, at_ms: int, **fields) -> dict:
    return {"id": new_id(), "visit": visit, "kind": kind, "at": at_ms, "by": by, **fields}


def send(storage, shift, tap_list, *, received=RECEIVED) -> dict:
    sent = int(received.timestamp() * 1000)
    return taps.apply_batch(storage, shift, {"sent_at": sent, "taps": tap_list}, received=received)


def turn_on(storage, shop, **kw) -> None:
    rules.save(storage, shop["store"], GreetRules(on=True, **kw), actor="test")


def visit_rows(storage) -> list[dict]:
    return list(peek(storage).query("SELECT * FROM visits ORDER BY started_at"))


def test_a_greeting_on_another_tablet_keeps_the_arrival_and_its_seconds(storage, shop):
    turn_on(storage, shop)
    ana, ben = shift_of(storage, shop["ana"]), shift_of(storage, shop["ben"])
    arrival = new_id()
    answer = send(storage, ana, [tap("arrival", arrival, shop["ana"], MS - 50_000)])
    assert answer["taps"][0]["ok"], answer
    board = taps.board(storage, shop["store"], "Europe/London", now=RECEIVED)
    assert [w["id"] for w in board["waiting"]] == [arrival]
    assert board["greet"] == {"standard": 30, "limit": 30}
    vid = new_id()
    answer = send(
        storage, ben, [tap("start", vid, shop["ben"], MS - 8_500, engagement="warm", arrival=None)]
    )
    assert answer["taps"][0]["ok"], answer
    assert answer["visits"][vid]["waited"] == 41
    [row] = visit_rows(storage)
    assert row["arrived_at"] == "2026-11-30T14:59:10.000Z"
    assert (row["greet_seconds"], row["left_before_greeting"]) == (41, 0)
    assert taps.board(storage, shop["store"], "Europe/London", now=RECEIVED)["waiting"] == []


def test_the_tapped_arrival_is_greeted_else_the_longest_waiting(storage, shop):
    turn_on(storage, shop)
    ana = shift_of(storage, shop["ana"])
    first, second = new_id(), new_id()
    send(
        storage,
        ana,
        [
            tap("arrival", first, shop["ana"], MS - 60_000),
            tap("arrival", second, shop["ana"], MS - 40_000),
        ],
    )
    picked, next_one = new_id(), new_id()
    send(
        storage,
        ana,
        [
            tap("start", picked, shop["ana"], MS - 30_000, engagement="neutral", arrival=second),
            tap("start", next_one, shop["ana"], MS - 20_000, engagement="warm", arrival=second),
        ],
    )
    rows = {r["id"]: r for r in visit_rows(storage)}
    assert rows[picked]["greet_seconds"] == 10  # the one tapped
    assert rows[next_one]["greet_seconds"] == 40  # taken: the longest-waiting instead
    # Nobody waits: a start is a plain visit.
    plain = new_id()
    send(
        storage,
        ana,
        [tap("start", plain, shop["ana"], MS - 1_000, engagement="warm", arrival=None)],
    )
    assert peek(storage).execute(
        "SELECT arrived_at, greet_seconds FROM visits WHERE id = ?", [plain]
    ).fetchone() == (None, None)


def test_left_before_greeting_is_a_missed_visit_with_no_purchase(storage, shop):
    turn_on(storage, shop)
    ana, ben = shift_of(storage, shop["ana"]), shift_of(storage, shop["ben"])
    arrival, gone = new_id(), new_id()
    send(storage, ana, [tap("arrival", arrival, shop["ana"], MS - 90_000)])
    answer = send(storage, ben, [tap("left", gone, shop["ben"], MS - 5_000, arrival=arrival)])
    assert answer["taps"][0]["ok"], answer
    [row] = visit_rows(storage)
    assert (row["first_engagement"], row["outcome"], row["left_before_greeting"]) == (
        "missed",
        "no_purchase",
        1,
    )
    assert row["greet_seconds"] is None and row["arrived_at"] == "2026-11-30T14:58:30.000Z"
    assert row["started_at"] == row["closed_at"] == "2026-11-30T14:59:55.000Z"
    # The same customer greeted afterwards elsewhere: a sentence, no visit.
    late = send(storage, ana, [tap("left", new_id(), shop["ana"], MS - 1_000, arrival=arrival)])
    assert not late["taps"][0]["ok"] and "Ben" in late["taps"][0]["message"]
    assert len(visit_rows(storage)) == 1


def test_undo_takes_back_an_arrival_and_a_greeting_returns_it_to_waiting(storage, shop):
    turn_on(storage, shop)
    ana = shift_of(storage, shop["ana"])
    mistake, real = new_id(), new_id()
    send(
        storage,
        ana,
        [
            tap("arrival", mistake, shop["ana"], MS - 9_000),
            tap("arrival_undo", mistake, shop["ana"], MS - 8_000),
            tap("arrival", real, shop["ana"], MS - 7_000),
        ],
    )
    board = taps.board(storage, shop["store"], "Europe/London", now=RECEIVED)
    assert [w["id"] for w in board["waiting"]] == [real]
    vid = new_id()
    send(
        storage, ana, [tap("start", vid, shop["ana"], MS - 4_000, engagement="warm", arrival=real)]
    )
    assert taps.board(storage, shop["store"], "Europe/London", now=RECEIVED)["waiting"] == []
    answer = send(storage, ana, [tap("undo", vid, shop["ana"], MS - 2_000)])
    assert answer["taps"][0]["ok"], answer
    waiting = taps.board(storage, shop["store"], "Europe/London", now=RECEIVED)["waiting"]
    assert [w["id"] for w in waiting] == [real]
    # Greeted again: one counted visit, with the new seconds.
    again = new_id()
    send(
        storage,
        ana,
        [tap("start", again, shop["ana"], MS - 1_000, engagement="warm", arrival=real)],
    )
    counted = (
        peek(storage)
        .execute("SELECT id, greet_seconds FROM visits WHERE voided_at IS NULL")
        .fetchall()
    )
    assert [tuple(r) for r in counted] == [(again, 6)]


def test_an_arrival_nobody_acted_on_is_closed_after_the_limit_and_audited(storage, shop):
    turn_on(storage, shop, limit=30)
    ana = shift_of(storage, shop["ana"])
    arrival = new_id()
    send(storage, ana, [tap("arrival", arrival, shop["ana"], MS - 10_000)])
    assert arrivals.close_overdue(storage, shop["store"], now=RECEIVED + timedelta(minutes=29)) == 0
    # A tablet's board read at 29 minutes keeps it waiting; at 31 it closes it.
    board = taps.board(
        storage, shop["store"], "Europe/London", now=RECEIVED + timedelta(minutes=29)
    )
    assert [w["id"] for w in board["waiting"]] == [arrival]
    later = RECEIVED + timedelta(minutes=31)
    assert taps.board(storage, shop["store"], "Europe/London", now=later)["waiting"] == []
    assert arrivals.close_overdue(storage, shop["store"], now=later) == 0  # closed already
    [row] = visit_rows(storage)
    assert row["left_before_greeting"] == 1 and row["outcome"] == "no_purchase"
    assert row["started_at"] == "2026-11-30T15:29:50.000Z"  # arrival + 30 minutes
    audit = (
        peek(storage)
        .execute("SELECT actor, after FROM audit WHERE entity = 'visit' AND action = 'create'")
        .fetchone()
    )
    assert audit[0] == "system" and '"closed_after_minutes": 30' in audit[1]


def test_with_the_setting_off_an_arrival_is_refused_and_a_start_greets_nobody(storage, shop):
    ana = shift_of(storage, shop["ana"])
    answer = send(storage, ana, [tap("arrival", new_id(), shop["ana"], MS - 5_000)])
    assert not answer["taps"][0]["ok"] and "off" in answer["taps"][0]["message"]
    board = taps.board(storage, shop["store"], "Europe/London", now=RECEIVED)
    assert "waiting" not in board and "greet" not in board


def test_a_double_tap_on_customer_in_is_one_arrival(storage, shop):
    turn_on(storage, shop)
    ana = shift_of(storage, shop["ana"])
    answer = send(
        storage,
        ana,
        [
            tap("arrival", new_id(), shop["ana"], MS - 5_000),
            tap("arrival", new_id(), shop["ana"], MS - 4_700),
            tap("arrival", new_id(), shop["ana"], MS - 3_000),
        ],
    )
    assert [a["ok"] for a in answer["taps"]] == [True, False, True]
    assert len(taps.board(storage, shop["store"], "Europe/London", now=RECEIVED)["waiting"]) == 2


@pytest.mark.parametrize("bad", [{"arrival": 5}, {"arrival": "x"}])
def test_a_start_naming_a_bad_arrival_is_refused_whole(storage, shop, bad):
    ana = shift_of(storage, shop["ana"])
    with pytest.raises(taps.BatchError):
        send(storage, ana, [tap("start", new_id(), shop["ana"], MS, engagement="warm", **bad)])


def test_the_arrival_s_local_time_is_kept_and_follows_a_new_timezone(storage, shop):
    turn_on(storage, shop)
    ana = shift_of(storage, shop["ana"])
    arrival, vid, gone, left_visit = new_id(), new_id(), new_id(), new_id()
    send(
        storage,
        ana,
        [
            tap("arrival", arrival, shop["ana"], MS - 50_000),
            tap("start", vid, shop["ana"], MS - 40_000, engagement="warm", arrival=arrival),
            tap("arrival", gone, shop["ana"], MS - 30_000),
            tap("left", left_visit, shop["ana"], MS - 10_000, arrival=gone),
        ],
    )

    def local() -> dict:
        return dict(peek(storage).execute("SELECT id, arrived_local FROM visits").fetchall())

    # London in November is UTC.
    assert local() == {vid: "2026-11-30T14:59:10+00:00", left_visit: "2026-11-30T14:59:30+00:00"}
    catalog.update_store(storage, shop["store"], actor="test", timezone="Europe/Paris")
    assert local() == {vid: "2026-11-30T15:59:10+01:00", left_visit: "2026-11-30T15:59:30+01:00"}
    # A hand edit of the UTC time drops the stale text (the export works it out).
    with storage.write() as db:
        db.execute(
            "UPDATE visits SET arrived_at = ? WHERE id = ?", ["2026-11-30T14:58:00.000Z", vid]
        )
    assert local()[vid] is None


def test_the_pages_close_only_stores_with_someone_waiting(storage, shop):
    turn_on(storage, shop, limit=30)
    other = catalog.create_store(storage, "Harbour", "Europe/London")
    ana = shift_of(storage, shop["ana"])
    send(storage, ana, [tap("arrival", new_id(), shop["ana"], MS - 10_000)])
    assert arrivals.close_overdue_in(storage, [other], now=RECEIVED + timedelta(hours=1)) == 0
    assert arrivals.close_overdue_in(storage, [], now=RECEIVED + timedelta(hours=1)) == 0
    assert arrivals.close_overdue_in(storage, [other, shop["store"]], now=RECEIVED) == 0
    later = RECEIVED + timedelta(hours=1)
    assert arrivals.close_overdue_in(storage, [other, shop["store"]], now=later) == 1
    assert arrivals.close_overdue_in(storage, [shop["store"]], now=later) == 0


def test_a_device_clock_ten_minutes_slow_is_corrected_for_the_arrival(storage, shop):
    """The arrival's device runs 10 minutes slow (the clock rule corrects
    its taps by the offset its batch shows); the greeting device is right:
    the seconds to greet are the real ones."""
    turn_on(storage, shop)
    ana, ben = shift_of(storage, shop["ana"]), shift_of(storage, shop["ben"])
    slow = 10 * 60_000
    arrival = new_id()
    batch = {
        "sent_at": MS - slow,
        "taps": [tap("arrival", arrival, shop["ana"], MS - 30_000 - slow)],
    }
    answer = taps.apply_batch(storage, ana, batch, received=RECEIVED)
    assert answer["clock_offset_ms"] == slow and answer["taps"][0]["ok"]
    vid = new_id()
    later = RECEIVED + timedelta(seconds=20)
    start = tap("start", vid, shop["ben"], MS + 15_000, engagement="warm", arrival=arrival)
    send(storage, ben, [start], received=later)
    [row] = visit_rows(storage)
    # Arrived 14:59:30 (corrected), greeted 15:00:15: 45 s.
    assert (row["arrived_at"], row["greet_seconds"]) == ("2026-11-30T14:59:30.000Z", 45)
