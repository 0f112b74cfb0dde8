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
from cxlog.numbers import derived, greet_sums
from cxlog.storage.settings import GreetRules
from cxlog.stores import catalog
from cxlog.visits import arrivals, visits
from cxlog.visits.taps import DOUBLE_TAP
from tests.conftest import new_id

DAYS = (date(2026, 3, 8), date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 1))
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
    """docs/product.md's rule, written again: the second up to 10 minutes,
    then the next whole minute."""
    if seconds <= 600:
        return seconds
    return min(((seconds + 59) // 60) * 60, 4 * 3600)


def recount(storage, store: int, first: date, last: date) -> dict[str, dict]:
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
    out: dict[str, dict] = {"wait": {}, "hour": {}, "associate": {}}
    for v in rows:
        local = from_utc_text(v["started_at"]).replace(microsecond=0).astimezone(zone)
        if not first <= local.date() <= last:
            continue
        left = v["left_before_greeting"] == 1
        bought = v["outcome"] == "purchased"
        sums = (
            1,
            int(v["first_engagement"] == "warm"),
            int(v["outcome"] is not None),
            int(bought),
            v["units"] if bought else 0,
            int(not left and v["greet_seconds"] <= standard),
            int(left),
        )
        keys = {
            "wait": (0, 1) if left else (_wait_bin(v["greet_seconds"]), 0),
            "hour": (local.hour, local.weekday()),
            "associate": (v["associate_id"], 0),
        }
        for kind, key in keys.items():
            old = out[kind].get(key, (0,) * 7)
            out[kind][key] = tuple(a + b for a, b in zip(old, sums, strict=True))
    return out


def _as_tuples(found: dict) -> dict:
    return {
        kind: {key: tuple(vars(c).values()) for key, c in rows.items()}
        for kind, rows in found.items()
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_greetings_keep_greet_sums_equal_to_a_recount(storage, chain, seed):
    done = _random_writes(storage, chain, random.Random(seed), steps=220)
    assert done["arrive"] > 20 and done["greet"] > 10 and done["left"] + done["overdue"] > 3
    with storage.read() as db:
        assert db.execute("SELECT count(*) FROM visits WHERE left_before_greeting = 1").fetchone()[
            0
        ]
        assert db.execute("SELECT count(*) FROM visits WHERE greet_seconds > 600").fetchone()[0]
        for store in chain:
            for first, last in ((DAYS[0], DAYS[-1]), *((d, d) for d in DAYS)):
                got = greet_sums.sums(db, store, list(greet_sums.KINDS), first, last)
                assert _as_tuples(got) == recount(storage, store, first, last), (store, first)
    with storage.write() as db:
        assert derived.rebuild(db)["greet"].corrected == 0


def test_rebuild_finds_and_fixes_damaged_greet_sums(storage, chain):
    _random_writes(storage, chain, random.Random(9), steps=120)
    with storage.write() as db:
        db.execute("UPDATE greet_sums SET on_time = on_time + 1 WHERE kind = 1")
        damaged = db.execute("SELECT count(*) FROM greet_sums WHERE kind = 1").fetchone()[0]
        assert damaged
        fixed = derived.rebuild(db)["greet"]
    assert fixed.corrected == damaged
    with storage.write() as db:
        assert derived.rebuild(db)["greet"].corrected == 0
