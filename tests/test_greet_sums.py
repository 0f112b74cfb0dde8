"""Time to greet's sums (#30): after random sequences of arrivals, greetings,
"left before greeting", closes past the limit, undos, voids, outcomes and
new standards over DST days, every sum read from greet_sums equals a recount
from the raw visits written here independently (zoneinfo per visit, plain
Python sums), and `rollup --rebuild` finds nothing to correct."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cxlog.core.errors import CxlogError
from cxlog.core.model import from_utc_text, utc_now
from cxlog.greeting import rules
from cxlog.numbers import derived, greet_sums, rollups
from cxlog.storage.settings import GreetRules
from cxlog.stores import catalog
from cxlog.visits import arrivals, visits
from cxlog.visits.taps import DOUBLE_TAP
from tests.conftest import new_id

DAYS = (date(2026, 3, 8), date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 1))
# Ranges: everything (whole months and weeks inside), each day, a week.
ENGAGEMENTS = ("warm", "neutral", "missed")


@pytest.fixture
def chain(storage, shop):
    harbour = catalog.create_store(storage, "Harbour", "America/New_York")
    cy = catalog.add_associate(storage, harbour, "Cy", actor="test")
    for store, standard in ((shop["store"], 30), (harbour, 20)):
        rules.save(storage, store, GreetRules(on=True, standard=standard), actor="test")
    return {shop["store"]: [shop["ana"], shop["ben"]], harbour: [cy]}


def _tapped(at: datetime) -> visits.Tapped:
    return visits.Tapped(at=at, received_at=utc_now())


def _random_writes(storage, stores: dict, rng: random.Random, steps: int) -> Counter:
    waiting: list[tuple[str, int, datetime]] = []  # (arrival id, store, arrived)
    made: list[tuple[str, int, int]] = []  # (visit id, store, associate)
    done: Counter = Counter()
    for _ in range(steps):
        action = rng.choice(
            ["arrive"] * 5
            + ["greet"] * 4
            + ["plain", "left", "overdue", "buy", "nobuy", "reopen", "void", "undo", "unarrive"]
            + ["standard"]
        )
        try:
            if action == "arrive" or (action in ("greet", "left") and not waiting):
                store = rng.choice(list(stores))
                day = rng.choice(DAYS)
                at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                    seconds=rng.randrange(-3 * 3600, 27 * 3600)
                )
                aid = new_id()
                arrivals.note(
                    storage,
                    store,
                    aid,
                    rng.choice(stores[store]),
                    device_id=None,
                    tap=_tapped(at),
                    double_tap=DOUBLE_TAP,
                )
                waiting.append((aid, store, at))
            elif action == "greet":
                aid, store, arrived = rng.choice(waiting)
                who = rng.choice(stores[store])
                vid = new_id()
                at = arrived + timedelta(seconds=rng.choice([0, 5, 20, 21, 30, 31, 119, 600, 900]))
                hint = rng.choice([aid, None])
                visits.create_visit(
                    storage,
                    vid,
                    store,
                    who,
                    rng.choice(ENGAGEMENTS),
                    at=at,
                    greets=True,
                    arrival=hint,
                )
                made.append((vid, store, who))
            elif action == "plain":
                store = rng.choice(list(stores))
                vid, who = new_id(), rng.choice(stores[store])
                day = rng.choice(DAYS)
                at = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
                visits.create_visit(storage, vid, store, who, "warm", at=at)
                made.append((vid, store, who))
            elif action == "left":
                aid, store, arrived = rng.choice(waiting)
                who = rng.choice(stores[store])
                vid = new_id()
                arrivals.left(
                    storage,
                    store,
                    aid,
                    vid,
                    who,
                    tap=_tapped(arrived + timedelta(seconds=rng.randrange(1, 400))),
                )
                made.append((vid, store, who))
            elif action == "overdue":
                store = rng.choice(list(stores))
                arrivals.close_overdue(storage, store, now=datetime(2026, 12, 1, tzinfo=UTC))
            elif action == "unarrive" and waiting:
                aid, store, arrived = rng.choice(waiting)
                actor = storage_actor(storage, store, aid)
                arrivals.undo(storage, store, aid, actor, tap=_tapped(arrived))
            elif action == "standard":
                store = rng.choice(list(stores))
                rules.save(
                    storage,
                    store,
                    GreetRules(on=True, standard=rng.choice([10, 20, 30, 45])),
                    actor="test",
                )
            elif made:
                vid, store, who = rng.choice(made)
                actor = f"associate:{who}"
                if action == "buy":
                    visits.record_purchase(storage, vid, rng.randrange(1, 5), actor=actor)
                elif action == "nobuy":
                    visits.record_no_purchase(storage, vid, actor=actor)
                elif action == "reopen":
                    visits.reopen_visit(storage, vid, actor=actor)
                elif action == "void":
                    visits.void_visit(storage, vid, "mis-tap", actor="manager")
                elif action == "undo":
                    visits.undo_last(storage, actor)
            done[action] += 1
        except CxlogError:
            pass  # refused (greeted elsewhere, nothing to undo…): changes nothing
    return done


def storage_actor(storage, store: int, arrival_id: str) -> str:
    with storage.read() as db:
        row = db.execute(
            "SELECT associate_id FROM arrivals WHERE store_id = ? AND id = ?", [store, arrival_id]
        ).fetchone()
    return f"associate:{row[0]}"


def _wait_bin(seconds: int) -> int:
    """docs/product.md's rule, written again: the first of 10, 20, 30, 45 s,
    1, 1½, 2, 3, 5, 10, 20 and 30 minutes at or above the wait."""
    for edge in (10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800):
        if seconds <= edge:
            return edge
    return 86_400


def recount(storage, store: int, first: date, last: date) -> tuple[dict, dict]:
    """(the waits {(bin, left): sums}, the rollups' three sums per (hour,
    weekday), associate and in all {key: (arrivals, on time, left)})."""
    with storage.read() as db:
        zone = ZoneInfo(
            db.execute("SELECT timezone FROM stores WHERE id = ?", [store]).fetchone()[0]
        )
        standard = rules.settings.greet_rules_in(db, [store])[store].standard
        rows = list(
            db.query(
                "SELECT * FROM visits WHERE store_id = ? AND voided_at IS NULL"
                " AND arrived_at IS NOT NULL",
                [store],
            )
        )
    waits: dict = {}
    three: dict = {}
    for v in rows:
        local = from_utc_text(v["started_at"]).replace(microsecond=0).astimezone(zone)
        if not first <= local.date() <= last:
            continue
        left = v["left_before_greeting"] == 1
        bought = v["outcome"] == "purchased"
        on_time = int(not left and v["greet_seconds"] <= standard)
        sums = (
            1,
            int(v["outcome"] is not None),
            int(bought),
            v["units"] if bought else 0,
            on_time,
            int(left),
        )
        key = (0, 1) if left else (_wait_bin(v["greet_seconds"]), 0)
        waits[key] = tuple(a + b for a, b in zip(waits.get(key, (0,) * 6), sums, strict=True))
        for group in (("hour", local.hour, local.weekday()), ("associate", v["associate_id"]), ()):
            old = three.get(group, (0, 0, 0))
            three[group] = (old[0] + 1, old[1] + on_time, old[2] + int(left))
    return waits, three


def _stored(db, store: int, first: date, last: date) -> tuple[dict, dict]:
    waits = {
        key: tuple(vars(c).values()) for key, c in greet_sums.sums(db, store, first, last).items()
    }
    days = {store: (first, last)}
    three = {}
    for by, name in (
        (("local_hour", "weekday"), "hour"),
        (("associate",), "associate"),
        ((), None),
    ):
        for key, c in rollups.counts(db, days, by=by).items():
            if c.arrivals:
                three[(name, *key) if name else ()] = (c.arrivals, c.on_time, c.left_before)
    return waits, three


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_greetings_keep_greet_sums_equal_to_a_recount(storage, chain, seed):
    done = _random_writes(storage, chain, random.Random(seed), steps=220)
    assert done["arrive"] > 20 and done["greet"] > 10 and done["left"] + done["overdue"] > 3
    with storage.read() as db:
        assert db.execute("SELECT count(*) FROM visits WHERE left_before_greeting = 1").fetchone()[
            0
        ]
        assert db.execute("SELECT count(*) FROM visits WHERE greet_seconds > 600").fetchone()[0]
        # A week row and a month row exist (a range reads whole weeks and months).
        assert {g for (g,) in db.execute("SELECT DISTINCT grain FROM greet_sums")} == {0, 1, 2}
        for store in chain:
            ranges = ((DAYS[0], DAYS[-1]), *((d, d) for d in DAYS), (date(2026, 3, 23), DAYS[1]))
            for first, last in ranges:
                got = _stored(db, store, first, last)
                assert got == recount(storage, store, first, last), (store, first)
    with storage.write() as db:
        fixed = derived.rebuild(db)
    assert (fixed["greet"].corrected, fixed["rollups"].corrected) == (0, 0)


def test_rebuild_finds_and_fixes_damaged_greet_sums(storage, chain):
    _random_writes(storage, chain, random.Random(9), steps=120)
    with storage.write() as db:
        db.execute("UPDATE greet_sums SET n_30 = n_30 + 1 WHERE grain = 2")
        damaged = db.execute("SELECT count(*) FROM greet_sums WHERE grain = 2").fetchone()[0]
        assert damaged
        fixed = derived.rebuild(db)["greet"]
    assert fixed.corrected == damaged
    with storage.write() as db:
        assert derived.rebuild(db)["greet"].corrected == 0
