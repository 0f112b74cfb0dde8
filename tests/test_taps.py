"""Applying a device's batch of taps (issue #10): once per tap id, in order,
with the device's tap times, first close stands, and whole-batch refusals that
change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlite_utils

from cxlog.access import shifts
from cxlog.calendar import localday
from cxlog.core.errors import StorageError
from cxlog.core.model import utc_now
from cxlog.stores import catalog
from cxlog.visits import taps, visits
from tests.conftest import new_id
from tests.helpers.peek import peek

RECEIVED = datetime(2026, 11, 30, 15, 0, 0, tzinfo=UTC)
RECEIVED_MS = int(RECEIVED.timestamp() * 1000)


def shift_of(storage, associate_id: int) -> dict:
    """A shift begun two hours before RECEIVED, as checked then: the taps
    below are made during it."""
    began = RECEIVED - timedelta(hours=2)
    cookie = shifts.start(storage, associate_id, shifts.new_device_id(), now=began)
    return shifts.check(storage, cookie, now=RECEIVED)


def tap(kind: str, visit: str, by: int, at_ms: int, **fields) -> dict:
    return {"id": new_id(), "visit": visit, "kind": kind, "at": at_ms, "by": by, **fields}


def send(storage, shift, tap_list, *, sent_ms=RECEIVED_MS, received=RECEIVED, **kw) -> dict:
    return taps.apply_batch(
        storage, shift, {"sent_at": sent_ms, "taps": tap_list}, received=received, **kw
    )


def dump(storage) -> dict:
    db = peek(storage)
    return {t: list(db.query(f"SELECT * FROM {t}")) for t in ("visits", "taps", "audit")}


def text(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def complete_visit(shop, by: int, t0: int, vid: str | None = None) -> list[dict]:
    vid = vid or new_id()
    return [
        tap("start", vid, by, t0, engagement="warm"),
        tap("reason", vid, by, t0 + 4_000, reason=shop["reasons"]["Gift"]),
        tap("marker", vid, by, t0 + 5_000, marker="used_name", on=True),
        tap("purchase", vid, by, t0 + 9_000, units=2),
    ]


def test_a_batch_logs_a_visit_at_its_device_times_once(storage, shop):
    ana = shift_of(storage, shop["ana"])
    t0 = RECEIVED_MS - 60_000  # tapped a minute before it reached the server
    batch = complete_visit(shop, shop["ana"], t0)
    answer = send(storage, ana, batch)
    vid = batch[0]["visit"]
    assert [a["ok"] for a in answer["taps"]] == [True] * 4
    assert answer["clock_offset_ms"] is None  # the device's clock agreed
    state = answer["visits"][vid]
    assert (state["outcome"], state["units"], state["reason"], state["used_name"]) == (
        "purchased",
        2,
        shop["reasons"]["Gift"],
        True,
    )
    row = dump(storage)["visits"][0]
    # The moments keep the device's times, not the receipt time.
    assert row["started_at"] == text(t0) == "2026-11-30T14:59:00.000Z"
    assert row["closed_at"] == text(t0 + 9_000) == "2026-11-30T14:59:09.000Z"
    stored = dump(storage)["taps"]
    assert [(t["kind"], t["ok"], t["received_at"]) for t in stored] == [
        (k, 1, "2026-11-30T15:00:00.000Z") for k in ("start", "reason", "marker", "purchase")
    ]
    audit = [a for a in dump(storage)["audit"] if a["entity"] == "visit"]
    assert [(a["action"], a["device_at"], a["received_at"]) for a in audit] == [
        ("create", "2026-11-30T14:59:00.000Z", "2026-11-30T15:00:00.000Z"),
        ("reason", "2026-11-30T14:59:04.000Z", "2026-11-30T15:00:00.000Z"),
        ("marker", "2026-11-30T14:59:05.000Z", "2026-11-30T15:00:00.000Z"),
        ("outcome", "2026-11-30T14:59:09.000Z", "2026-11-30T15:00:00.000Z"),
    ]

    before = dump(storage)
    again = send(storage, ana, batch, received=RECEIVED + timedelta(seconds=5))
    assert [(a["ok"], a.get("replayed")) for a in again["taps"]] == [(True, True)] * 4
    assert dump(storage) == before  # a replay changes nothing, not even the audit


def test_a_sale_amount_is_sent_as_typed_and_made_cents_by_the_server(storage, shop):
    """19.99 is 1999 cents (not 1998 by float arithmetic on the device); a
    typo is refused on its own tap with a sentence, the amount kept; clearing
    it is null; a pad from before #16 still sends cents."""
    ana = shift_of(storage, shop["ana"])
    t0 = RECEIVED_MS - 60_000
    batch = complete_visit(shop, shop["ana"], t0)
    vid = batch[0]["visit"]
    batch.append(tap("amount", vid, shop["ana"], t0 + 10_000, amount="19.99"))
    answer = send(storage, ana, batch)
    assert [a["ok"] for a in answer["taps"]] == [True] * 5
    assert answer["visits"][vid]["cents"] == 1999
    typo = tap("amount", vid, shop["ana"], t0 + 11_000, amount="12,50")
    answer = send(storage, ana, [typo])
    assert answer["taps"][0]["ok"] is False
    assert "must be a number" in answer["taps"][0]["message"]
    assert answer["visits"][vid]["cents"] == 1999
    answer = send(storage, ana, [tap("amount", vid, shop["ana"], t0 + 12_000, amount=None)])
    assert answer["visits"][vid]["cents"] is None
    answer = send(storage, ana, [tap("amount", vid, shop["ana"], t0 + 13_000, cents=4600)])
    assert answer["visits"][vid]["cents"] == 4600
    for bad in ({"amount": 12.5}, {"amount": "1" * 33}, {"amount": "1", "cents": 100}):
        with pytest.raises(taps.BatchError):
            send(storage, ana, [tap("amount", vid, shop["ana"], t0 + 14_000, **bad)])


def test_a_wrong_device_clock_is_corrected_and_recorded(storage, shop):
    ana = shift_of(storage, shop["ana"])
    behind = 3_600_000  # the tablet's clock is an hour slow
    sent = RECEIVED_MS - behind
    vid = new_id()
    answer = send(
        storage,
        ana,
        [tap("start", vid, shop["ana"], sent - 20_000, engagement="neutral")],
        sent_ms=sent,
    )
    assert answer["clock_offset_ms"] == behind
    (row,) = dump(storage)["visits"]
    assert row["started_at"] == "2026-11-30T14:59:40.000Z"  # 20 s before receipt
    (stored,) = dump(storage)["taps"]
    assert (stored["device_at"], stored["at"], stored["clock_offset_ms"]) == (
        "2026-11-30T13:59:40.000Z",
        "2026-11-30T14:59:40.000Z",
        behind,
    )


def test_within_the_tolerance_the_device_time_is_kept_but_never_in_the_future(storage, shop):
    ana = shift_of(storage, shop["ana"])
    ahead = 90_000  # 1.5 min fast: within the 2-minute tolerance
    first, second = new_id(), new_id()
    send(
        storage,
        ana,
        [
            tap("start", first, shop["ana"], RECEIVED_MS - 30_000, engagement="warm"),
            tap("start", second, shop["ana"], RECEIVED_MS + ahead, engagement="warm"),
        ],
        sent_ms=RECEIVED_MS + ahead,
    )
    started = {r["id"]: r["started_at"] for r in dump(storage)["visits"]}
    assert started[first] == "2026-11-30T14:59:30.000Z"
    assert started[second] == "2026-11-30T15:00:00.000Z"  # set to the receipt


def test_a_tap_id_reused_for_another_tap_refuses_the_batch_whole(storage, shop):
    ana = shift_of(storage, shop["ana"])
    batch = complete_visit(shop, shop["ana"], RECEIVED_MS - 10_000)
    send(storage, ana, batch[:2])
    before = dump(storage)
    forged = {**batch[1], "reason": shop["reasons"]["Browsing"]}
    with pytest.raises(taps.BatchError, match="used before") as caught:
        send(storage, ana, [batch[2], forged, batch[3]])
    assert caught.value.status == 409
    assert dump(storage) == before  # the marker and purchase before/after it: not applied


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        (lambda b: b | {"taps": "x"}, 400, "must be a list"),
        (lambda b: {"taps": b["taps"]}, 400, "sent_at and taps"),
        (lambda b: b | {"sent_at": "now"}, 400, "milliseconds"),
        (lambda b: b | {"taps": [b["taps"][0] | {"kind": "delete"}]}, 400, "unknown kind"),
        (lambda b: b | {"taps": [b["taps"][0] | {"extra": 1}]}, 400, "wrong fields"),
        (lambda b: b | {"taps": [b["taps"][0] | {"id": "1; DROP TABLE visits"}]}, 400, "tap id"),
        (lambda b: b | {"taps": [b["taps"][0] | {"visit": "\x00\u202e"}]}, 400, "visit reference"),
        (lambda b: b | {"taps": [b["taps"][0] | {"engagement": "WARM"}]}, 400, "warm"),
        (lambda b: b | {"taps": [b["taps"][3] | {"units": 100}]}, 400, "1 to 99"),
        (lambda b: b | {"taps": [b["taps"][3] | {"units": True}]}, 400, "whole number"),
        (lambda b: b | {"taps": b["taps"][1:]}, 404, "does not know"),
        (lambda b: b | {"taps": b["taps"] * 60}, 413, "at most 200"),
    ],
)
def test_a_bad_batch_changes_nothing(storage, shop, change, status, words):
    ana = shift_of(storage, shop["ana"])
    good = {"sent_at": RECEIVED_MS, "taps": complete_visit(shop, shop["ana"], RECEIVED_MS)}
    before = dump(storage)
    with pytest.raises(taps.BatchError, match=words) as caught:
        taps.apply_batch(storage, ana, change(good), received=RECEIVED)
    assert caught.value.status == status
    assert dump(storage) == before


def test_a_visit_of_another_store_is_refused(storage, shop):
    from cxlog.stores import catalog

    other = catalog.create_store(storage, "Other Shop", "Europe/London")
    zoe = catalog.add_associate(storage, other, "Zoe", actor="test")
    vid = new_id()
    send(
        storage, shift_of(storage, shop["ana"]), complete_visit(shop, shop["ana"], RECEIVED_MS, vid)
    )
    before = dump(storage)
    with pytest.raises(taps.BatchError, match="another store") as caught:
        send(storage, shift_of(storage, zoe), [tap("purchase", vid, zoe, RECEIVED_MS, units=1)])
    assert caught.value.status == 403
    assert dump(storage)["visits"] == before["visits"]


def test_two_devices_close_the_same_visit_first_close_stands(storage, shop):
    ana, ben = shift_of(storage, shop["ana"]), shift_of(storage, shop["ben"])
    vid = new_id()
    send(storage, ana, [tap("start", vid, shop["ana"], RECEIVED_MS - 5_000, engagement="warm")])
    send(storage, ana, [tap("purchase", vid, shop["ana"], RECEIVED_MS - 3_000, units=3)])
    answer = send(storage, ben, [tap("no_purchase", vid, shop["ben"], RECEIVED_MS - 2_000)])
    (refused,) = answer["taps"]
    assert refused["ok"] is False
    assert refused["message"].startswith("Ana closed this visit first (purchase, 3 units)")
    state = answer["visits"][vid]
    assert (state["outcome"], state["units"], state["closed_by"]) == ("purchased", 3, "Ana")
    # The same close from the second device is no conflict: it is already so.
    same = send(storage, ben, [tap("purchase", vid, shop["ben"], RECEIVED_MS, units=3)])
    assert same["taps"][0]["ok"] is True
    row = dump(storage)["visits"][0]
    assert (row["closed_by"], row["closed_at"]) == (shop["ana"], "2026-11-30T14:59:57.000Z")
    refusals = [t for t in dump(storage)["taps"] if not t["ok"]]
    assert [t["kind"] for t in refusals] == ["no_purchase"]


def test_taps_for_a_visit_reopened_or_voided_elsewhere_get_a_sentence(storage, shop):
    ana, ben = shift_of(storage, shop["ana"]), shift_of(storage, shop["ben"])
    vid = new_id()
    send(
        storage,
        ana,
        [
            tap("start", vid, shop["ana"], RECEIVED_MS - 9_000, engagement="missed"),
            tap("no_purchase", vid, shop["ana"], RECEIVED_MS - 8_000),
        ],
    )
    send(storage, ben, [tap("reopen", vid, shop["ben"], RECEIVED_MS - 7_000)])
    late = send(
        storage,
        ana,
        [
            tap(
                "no_sale_reason",
                vid,
                shop["ana"],
                RECEIVED_MS - 6_000,
                reason=shop["no_sale"]["Price"],
            )
        ],
    )
    assert late["taps"][0] == {
        "id": late["taps"][0]["id"],
        "ok": False,
        "message": "This visit was reopened on another device; tap its outcome again.",
    }
    assert dump(storage)["visits"][0]["outcome"] is None  # not closed by the late tap
    visits.void_visit(storage, vid, "Logged twice", actor="manager")
    voided = send(storage, ana, [tap("purchase", vid, shop["ana"], RECEIVED_MS, units=1)])
    assert "voided" in voided["taps"][0]["message"]
    assert dump(storage)["visits"][0]["outcome"] is None


def test_undo_is_a_tap_like_any_other(storage, shop):
    ana = shift_of(storage, shop["ana"])
    vid, mistake = new_id(), new_id()
    batch = [
        tap("start", vid, shop["ana"], RECEIVED_MS - 5_000, engagement="warm"),
        tap("purchase", vid, shop["ana"], RECEIVED_MS - 4_000, units=2),
        tap("undo", vid, shop["ana"], RECEIVED_MS - 3_000),
        tap("start", mistake, shop["ana"], RECEIVED_MS - 2_000, engagement="neutral"),
        tap("undo", mistake, shop["ana"], RECEIVED_MS - 1_000),
    ]
    answer = send(storage, ana, batch)
    assert all(a["ok"] for a in answer["taps"])
    rows = {r["id"]: r for r in dump(storage)["visits"]}
    assert (rows[vid]["outcome"], rows[vid]["voided_at"]) == (None, None)
    assert rows[mistake]["voided_at"] is not None  # an undone start is kept, voided
    # Sent again (the answer was lost on the way back): no undo is redone.
    before = dump(storage)
    again = send(storage, ana, batch, received=RECEIVED + timedelta(seconds=2))
    assert all(a.get("replayed") for a in again["taps"])
    assert dump(storage) == before


def test_a_tap_of_another_associates_shift_is_refused_per_tap(storage, shop):
    ben = shift_of(storage, shop["ben"])
    answer = send(
        storage, ben, [tap("start", new_id(), shop["ana"], RECEIVED_MS, engagement="warm")]
    )
    assert answer["taps"][0]["ok"] is False
    assert "another associate's shift" in answer["taps"][0]["message"]
    assert dump(storage)["visits"] == []


def test_open_visits_are_capped_per_store(storage, shop):
    ana = shift_of(storage, shop["ana"])
    # A second apart: closer starts from one device are a double tap (below).
    starts = [
        tap("start", new_id(), shop["ana"], RECEIVED_MS - 3_000 + i * 1_000, engagement="warm")
        for i in range(3)
    ]
    answer = send(storage, ana, starts, max_open=2)
    assert [a["ok"] for a in answer["taps"]] == [True, True, False]
    assert answer["taps"][2]["message"].startswith("This store already has 2 open visits")
    assert len(dump(storage)["visits"]) == 2


def test_starts_are_limited_per_associate_and_address_with_a_store_ceiling(storage, shop):
    """Issue #25: the limit was keyed by the device id the client sends; a
    new shift every 20 visits wrote 197-380 visits a second. Buckets live in
    the database, so a new Storage (another process) sees them."""
    from cxlog.access.limits import RateLimited
    from cxlog.storage.db import open_storage

    now = RECEIVED
    # One associate: 20 in a burst, then one every 3 s, whatever the device
    # or shift (no device in the key any more).
    for _ in range(int(shifts.START_BURST)):
        shifts.take_start(
            open_storage(storage.address),
            shop["store"],
            associate_id=shop["ben"],
            address=None,
            now=now,
        )
    with pytest.raises(RateLimited, match="You started many visits in a short time; wait 3 s"):
        shifts.take_start(storage, shop["store"], associate_id=shop["ben"], address=None, now=now)
    shifts.take_start(
        storage,
        shop["store"],
        associate_id=shop["ben"],
        address=None,
        now=now + timedelta(seconds=3),
    )
    # Another associate is not slowed by this one.
    shifts.take_start(storage, shop["store"], associate_id=shop["ana"], address=None, now=now)
    # One address: 30 in a burst over any number of associates, then one every 2 s.
    people = [catalog.add_associate(storage, shop["store"], f"P{i}", actor="t") for i in range(4)]
    for i in range(int(shifts.ADDRESS_START_BURST)):
        shifts.take_start(
            storage, shop["store"], associate_id=people[i % 4], address="10.0.0.66", now=now
        )
    with pytest.raises(RateLimited, match="This device started many visits"):
        shifts.take_start(
            storage, shop["store"], associate_id=shop["ana"], address="10.0.0.66", now=now
        )
    # ... which spent nothing of Ana's bucket, and another address goes on.
    shifts.take_start(
        storage, shop["store"], associate_id=shop["ana"], address="10.0.0.50", now=now
    )
    # A store: a ceiling over every associate and address.
    far = catalog.create_store(storage, "Far Shop", "Europe/London")
    crew = [catalog.add_associate(storage, far, f"F{i}", actor="t") for i in range(10)]
    for i in range(int(shifts.STORE_START_BURST)):
        shifts.take_start(storage, far, associate_id=crew[i % 10], address=f"10.1.{i}.1", now=now)
    with pytest.raises(RateLimited, match="The store started more visits"):
        shifts.take_start(storage, far, associate_id=crew[0], address="10.2.0.1", now=now)
    # Another store's ceiling is its own.
    shifts.take_start(storage, shop["store"], associate_id=shop["ana"], address="10.2.0.1", now=now)


def test_shift_starts_are_limited_per_address(storage, shop):
    from cxlog.access.limits import RateLimited

    for _ in range(int(shifts.SHIFT_BURST)):
        shifts.start(
            storage, shop["ana"], shifts.new_device_id(), address="10.0.0.66", now=RECEIVED
        )
    with pytest.raises(RateLimited, match="signed in many times in a short time; wait 30 s"):
        shifts.start(
            storage, shop["ben"], shifts.new_device_id(), address="10.0.0.66", now=RECEIVED
        )
    shifts.start(storage, shop["ben"], shifts.new_device_id(), address="10.0.0.50", now=RECEIVED)
    later = RECEIVED + shifts.SHIFT_REFILL
    shifts.start(storage, shop["ben"], shifts.new_device_id(), address="10.0.0.66", now=later)


def test_the_board_reads_a_bounded_number_of_todays_closed_visits(storage, shop):
    t0 = localday.start_of_local_day(utc_now(), ZoneInfo("Europe/London"))  # today's first ms
    made = []
    for i in range(45):
        vid = new_id()
        visits.create_visit(
            storage, vid, shop["store"], shop["ana"], "warm", at=t0 + timedelta(milliseconds=i)
        )
        visits.record_no_purchase(storage, vid, actor="t")
        made.append(vid)
    visits.void_visit(storage, made[-1], "Logged twice", actor="manager")
    board = taps.board(storage, shop["store"], "Europe/London")
    assert board["today_count"] == 44
    assert [v["id"] for v in board["today"]] == made[-2::-1][: taps.TODAY_SHOWN]


@pytest.mark.parametrize("apart_ms", [0, 150, 300, 499])
def test_a_second_start_from_one_device_within_the_window_is_a_double_tap(storage, shop, apart_ms):
    """Issue #24: a pad from before the fix sends both touches of a double tap
    as two starts with fresh visit ids; the server keeps the first only, in
    one batch or in two, whichever button the second touch was."""
    ana = shift_of(storage, shop["ana"])
    t0 = RECEIVED_MS - 5_000
    first = tap("start", new_id(), shop["ana"], t0, engagement="warm")
    second = tap("start", new_id(), shop["ana"], t0 + apart_ms, engagement="warm")
    answer = send(storage, ana, [first, second])
    assert [a["ok"] for a in answer["taps"]] == [True, False]
    assert "double tap" in answer["taps"][1]["message"]
    assert list(answer["visits"]) == [first["visit"]]
    # The same sent in two batches, the second one's clock a little earlier.
    third = tap("start", new_id(), shop["ana"], t0 + 10_000, engagement="neutral")
    send(storage, ana, [third])
    fourth = tap("start", new_id(), shop["ana"], t0 + 10_000 - apart_ms, engagement="neutral")
    assert send(storage, ana, [fourth])["taps"][0]["ok"] is False
    assert [v["id"] for v in dump(storage)["visits"]] == [first["visit"], third["visit"]]
    # A replay of the refused tap is answered the same and still changes nothing.
    again = send(storage, ana, [second])["taps"][0]
    assert (again["ok"], again["replayed"]) == (False, True)
    assert len(dump(storage)["visits"]) == 2


def test_starts_half_a_second_apart_on_two_buttons_or_two_devices_are_customers(storage, shop):
    ana, ben = shift_of(storage, shop["ana"]), shift_of(storage, shop["ben"])
    t0 = RECEIVED_MS - 5_000
    window = int(taps.DOUBLE_TAP.total_seconds() * 1000)
    assert window == 500
    answer = send(
        storage,
        ana,
        [
            tap("start", new_id(), shop["ana"], t0, engagement="warm"),
            tap("start", new_id(), shop["ana"], t0 + window, engagement="warm"),
            tap("start", new_id(), shop["ana"], t0 + window + 1_000, engagement="missed"),
            # Another button within the window: not a double tap (the pad's
            # rule too: the same button, or the same point of the screen).
            tap("start", new_id(), shop["ana"], t0 + window + 1_100, engagement="neutral"),
        ],
    )
    assert [a["ok"] for a in answer["taps"]] == [True, True, True, True]
    # Another device's start at the very same moment is another customer.
    other = send(storage, ben, [tap("start", new_id(), shop["ben"], t0, engagement="warm")])
    assert other["taps"][0]["ok"] is True
    assert len(dump(storage)["visits"]) == 5


@pytest.mark.sqlite
def test_a_tap_and_its_id_are_saved_together_or_not_at_all(storage, shop):
    """The tap id is stored in the change's own transaction: when storing it
    fails, the change is rolled back too, so a resend cannot apply it twice."""
    ana = shift_of(storage, shop["ana"])
    vid = new_id()
    send(storage, ana, [tap("start", vid, shop["ana"], RECEIVED_MS - 2_000, engagement="warm")])
    db = sqlite_utils.Database(storage.path)
    db.execute(
        "CREATE TRIGGER no_purchase_taps BEFORE INSERT ON taps WHEN NEW.kind = 'purchase'"
        " BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
    )
    db.conn.commit()
    with pytest.raises(StorageError):
        send(storage, ana, [tap("purchase", vid, shop["ana"], RECEIVED_MS, units=1)])
    row = dump(storage)["visits"][0]
    assert row["outcome"] is None
    assert [a["action"] for a in dump(storage)["audit"] if a["entity"] == "visit"] == ["create"]


def test_the_board_version_changes_only_with_the_board(storage, shop):
    ana = shift_of(storage, shop["ana"])
    first = taps.board(storage, shop["store"], "Europe/London")
    assert (first["open"], first["today_count"]) == ([], 0)
    assert taps.board(storage, shop["store"], "Europe/London")["version"] == first["version"]
    vid = new_id()
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    taps.apply_batch(
        storage,
        ana,
        {"sent_at": now_ms, "taps": [tap("start", vid, shop["ana"], now_ms, engagement="warm")]},
    )
    second = taps.board(storage, shop["store"], "Europe/London")
    assert second["version"] != first["version"]
    assert [v["id"] for v in second["open"]] == [vid]
    taps.apply_batch(
        storage,
        ana,
        {"sent_at": now_ms, "taps": [tap("purchase", vid, shop["ana"], now_ms, units=1)]},
    )
    third = taps.board(storage, shop["store"], "Europe/London")
    assert (third["open"], third["today_count"], third["today"][0]["id"]) == ([], 1, vid)


# --- what an associate may change (issue #25) ----------------------------------


def test_an_associate_cannot_rewrite_an_old_visit_of_the_store(storage, shop):
    """The re-test's case: Bo's purchase of 40 days ago became "no purchase"
    through three taps of Ana's shift. Now each is refused with a sentence."""
    bo = catalog.add_associate(storage, shop["store"], "Bo", actor="test")
    old = new_id()
    visits.create_visit(storage, old, shop["store"], bo, "warm", at=RECEIVED - timedelta(days=40))
    visits.record_purchase(storage, old, 3, amount_cents=12_000, actor=f"associate:{bo}")
    before = dump(storage)["visits"]
    ana = shift_of(storage, shop["ana"])
    now = RECEIVED_MS - 1_000
    answer = send(
        storage,
        ana,
        [
            tap("reopen", old, shop["ana"], now),
            tap("no_purchase", old, shop["ana"], now),
            tap("marker", old, shop["ana"], now, marker="used_name", on=True),
            tap("reason", old, shop["ana"], now, reason=shop["reasons"]["Gift"]),
        ],
    )
    assert [a["ok"] for a in answer["taps"]] == [False] * 4
    assert {a["message"] for a in answer["taps"]} == {
        "This visit is from an earlier day; a manager can correct it on the Visits page."
    }
    assert dump(storage)["visits"] == before
    # A manager still can, on the Visits page (audited as the manager).
    visits.reopen_visit(storage, old, actor="manager")
    assert dump(storage)["visits"][0]["outcome"] is None


def test_a_shift_past_midnight_keeps_its_own_visits(storage, shop):
    """London, 30 Nov 2026 (GMT): Ana's shift began at 20:00; at 00:30 she may
    still close the visit she started at 23:50, not one from 19:00."""
    began = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    received = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    cookie = shifts.start(storage, shop["ana"], shifts.new_device_id(), now=began)
    ana = shifts.check(storage, cookie, now=received)
    late, early = new_id(), new_id()
    visits.create_visit(
        storage, late, shop["store"], shop["ana"], "warm", at=began + timedelta(hours=3, minutes=50)
    )
    visits.create_visit(
        storage, early, shop["store"], shop["ben"], "warm", at=began - timedelta(hours=1)
    )
    at = int(received.timestamp() * 1000) - 1_000
    answer = taps.apply_batch(
        storage,
        ana,
        {"sent_at": at, "taps": [tap("no_purchase", v, shop["ana"], at) for v in (late, early)]},
        received=received,
    )
    assert [a["ok"] for a in answer["taps"]] == [True, False]


def test_a_reopen_only_within_ten_minutes_of_the_close(storage, shop):
    ana = shift_of(storage, shop["ana"])
    t0 = RECEIVED_MS - 3_600_000
    soon, late = new_id(), new_id()
    send(
        storage,
        ana,
        [
            tap("start", soon, shop["ana"], t0, engagement="warm"),
            tap("purchase", soon, shop["ana"], t0 + 60_000, units=1),
            tap("start", late, shop["ana"], t0 + 1_000, engagement="neutral"),
            tap("no_purchase", late, shop["ana"], t0 + 60_000),
        ],
    )
    answer = send(
        storage,
        ana,
        [
            tap("reopen", soon, shop["ana"], t0 + 60_000 + 9 * 60_000),
            tap("reopen", late, shop["ana"], t0 + 60_000 + 11 * 60_000),
        ],
    )
    assert [a["ok"] for a in answer["taps"]] == [True, False]
    assert answer["taps"][1]["message"].startswith("This visit closed more than 10 minutes ago")
    assert {v["id"]: v["outcome"] for v in dump(storage)["visits"]} == {
        soon: None,
        late: "no_purchase",
    }


def test_a_close_is_never_dated_before_its_start_nor_a_tap_before_the_shift(storage, shop):
    ana = shift_of(storage, shop["ana"])
    t0 = RECEIVED_MS - 60_000
    vid = new_id()
    # Another device's clock, 30 s behind the one that started the visit.
    send(storage, ana, [tap("start", vid, shop["ana"], t0, engagement="warm")])
    send(storage, ana, [tap("purchase", vid, shop["ana"], t0 - 30_000, units=2)])
    (row,) = dump(storage)["visits"]
    assert row["closed_at"] == row["started_at"] == text(t0)
    # The shift began two hours before RECEIVED: a tap dated three hours
    # before is not a moment of it (the re-test backdated visits by 23 h).
    answer = send(
        storage,
        ana,
        [tap("start", new_id(), shop["ana"], RECEIVED_MS - 3 * 3_600_000, engagement="warm")],
    )
    assert answer["taps"][0] == {
        "id": answer["taps"][0]["id"],
        "ok": False,
        "message": "This tap is dated before this shift began; it was not saved.",
    }
    assert len(dump(storage)["visits"]) == 1
