"""Rollups (#12): after random sequences of writes, every count read from the
rollups equals a recount from the raw visits, written here independently
(zoneinfo per visit, plain Python sums); `rollup --rebuild` finds and fixes
damage and says how many rows it corrected."""

from __future__ import annotations

import random
import sqlite3
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from cxlog import cli
from cxlog.calendar import localday
from cxlog.core.errors import CxlogError
from cxlog.dashboard import dashboard
from cxlog.numbers import rollups
from cxlog.numbers.metrics import Counts
from cxlog.stores import catalog
from cxlog.visits import visits
from tests.conftest import new_id
from tests.helpers.oracles import ENGAGEMENTS, GROUPINGS, recount

# Days around both 2026 DST changes of London and New York, and a month end.
DAYS = (
    date(2026, 3, 8),
    date(2026, 3, 28),
    date(2026, 3, 29),
    date(2026, 3, 30),
    date(2026, 10, 24),
    date(2026, 10, 25),
    date(2026, 10, 31),
    date(2026, 11, 1),
    date(2026, 11, 2),
)


def _random_writes(storage, stores: dict, rng: random.Random, steps: int) -> int:
    """A bounded random sequence of every kind of write; returns how many succeeded."""
    reasons = [r["id"] for r in catalog.list_reasons(storage, "reason")]
    no_sale = [r["id"] for r in catalog.list_reasons(storage, "no_sale_reason")]
    ids: list[tuple[str, int, int]] = []
    done = 0
    for _ in range(steps):
        action = rng.choice(
            ["start"] * 4
            + ["reason", "marker", "buy", "nobuy", "reopen", "correct", "void", "undo"]
        )
        try:
            if action == "start" or not ids:
                store_id = rng.choice(list(stores))
                who = rng.choice(stores[store_id])
                day = rng.choice(DAYS)
                at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                    minutes=rng.randrange(-180, 24 * 60 + 180)
                )
                vid = new_id()
                visits.create_visit(storage, vid, store_id, who, rng.choice(ENGAGEMENTS), at=at)
                ids.append((vid, store_id, who))
                done += 1
                continue
            vid, store_id, who = rng.choice(ids)
            actor = f"associate:{who}"
            if action == "reason":
                visits.set_reason(storage, vid, rng.choice([*reasons, None]), actor=actor)
            elif action == "marker":
                visits.set_marker(storage, vid, "recommended", rng.random() < 0.5, actor=actor)
            elif action == "buy":
                amount = rng.choice([None, rng.randrange(0, 50_000)])
                visits.record_purchase(
                    storage, vid, rng.randrange(1, 12), amount_cents=amount, actor=actor
                )
            elif action == "nobuy":
                visits.record_no_purchase(
                    storage, vid, no_sale_reason_id=rng.choice([*no_sale, None]), actor=actor
                )
            elif action == "reopen":
                visits.reopen_visit(storage, vid, actor=actor)
            elif action == "correct":
                field = rng.choice(["associate_id", "first_engagement", "reason_id", "units"])
                value = {
                    "associate_id": rng.choice(stores[store_id]),
                    "first_engagement": rng.choice(ENGAGEMENTS),
                    "reason_id": rng.choice(reasons),
                    "units": rng.randrange(1, 99),
                }[field]
                visits.correct_visit(storage, vid, actor="manager", **{field: value})
            elif action == "void":
                visits.void_visit(storage, vid, "mis-tap", actor="manager")
            elif action == "undo":
                visits.undo_last(storage, actor)
            done += 1
        except CxlogError:
            pass  # refused writes (a voided visit, nothing to undo) change nothing
    return done


@pytest.fixture
def chain(storage, shop):
    harbour = catalog.create_store(storage, "Harbour", "America/New_York")
    cy = catalog.add_associate(storage, harbour, "Cy", actor="test")
    dee = catalog.add_associate(storage, harbour, "Dee", actor="test")
    return {shop["store"]: [shop["ana"], shop["ben"]], harbour: [cy, dee]}


def _ranges():
    yield DAYS[0], DAYS[-1]
    for day in DAYS:
        yield day, day
    yield date(2026, 3, 1), date(2026, 3, 31)  # a whole month: its month row
    yield date(2026, 3, 2), date(2026, 3, 29)  # whole weeks and single days
    yield date(2026, 10, 1), date(2026, 11, 30)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_writes_keep_rollups_equal_to_a_recount(storage, chain, seed):
    rng = random.Random(seed)
    done = _random_writes(storage, chain, rng, steps=160)
    assert done > 100  # the sequence really wrote
    with storage.read() as db:
        assert db.execute("SELECT count(*) FROM visits WHERE voided_at IS NOT NULL").fetchone()[0]
        for store_id in chain:
            for first, last in _ranges():
                for by in GROUPINGS:
                    got = rollups.counts(db, {store_id: (first, last)}, by=by)
                    assert got == recount(storage, store_id, first, last, by), (first, last, by)
    # The bulk recomputation agrees row for row with what the writes kept.
    with storage.write() as db:
        assert rollups.rebuild(db).corrected == 0


def test_weekly_sums_match_a_recount_per_week(storage, chain):
    _random_writes(storage, chain, random.Random(7), steps=120)
    store_id = next(iter(chain))
    monday = date(2026, 3, 2)
    with storage.read() as db:
        got = rollups.sums(db, store_id, "engagement", monday, date(2026, 11, 4), per_week=True)
    weeks: dict = defaultdict(Counts)
    for start in (monday + timedelta(weeks=w) for w in range(36)):
        end = min(start + timedelta(days=6), date(2026, 11, 4))
        for key, c in recount(storage, store_id, start, end, ("first_engagement",)).items():
            weeks[(localday.day_number(start), *key)] += c
    summed: dict = defaultdict(Counts)
    for (week, engagement, _depth), c in got.items():
        summed[(week, engagement)] += c
    assert dict(summed) == dict(weeks)


def test_changing_a_store_timezone_recounts_its_local_days(storage, chain):
    store_id = next(iter(chain))
    at = datetime(2026, 11, 2, 2, 30, tzinfo=UTC)  # 2 Nov in London, 1 Nov in Los Angeles
    visits.create_visit(storage, new_id(), store_id, chain[store_id][0], "warm", at=at)
    catalog.update_store(storage, store_id, timezone="America/Los_Angeles", actor="test")
    with storage.read() as db:
        assert rollups.counts(db, {store_id: (date(2026, 11, 1), date(2026, 11, 1))}) == {
            (): Counts(visits=1, warm=1)
        }
        assert rollups.counts(db, {store_id: (date(2026, 11, 2), date(2026, 11, 2))}) == {}


def test_counts_refuses_groups_no_rollup_holds(storage, chain):
    with storage.read() as db, pytest.raises(CxlogError, match="No rollup"):
        rollups.counts(db, {1: (DAYS[0], DAYS[0])}, by=("associate", "reason"))


@pytest.mark.sqlite
def test_rebuild_cli_finds_fixes_and_counts_damage(storage, chain, capsys):
    _random_writes(storage, chain, random.Random(11), steps=80)
    assert cli.main(["rollup", "--rebuild", "--db", storage.address]) == 0
    assert "Rollups: 0 rows corrected" in capsys.readouterr().out
    conn = sqlite3.connect(storage.path)
    with conn:
        # Three kinds of damage: a wrong sum, a missing row, a row that should not exist.
        key = list(
            conn.execute(
                "SELECT store_id, grain, bucket, kind, k1, k2 FROM rollups WHERE grain = 0 LIMIT 1"
            ).fetchone()
        )
        where = "store_id = ? AND grain = ? AND bucket = ? AND kind = ? AND k1 = ? AND k2 = ?"
        conn.execute(f"UPDATE rollups SET purchased = purchased + 5 WHERE {where}", key)
        (second,) = conn.execute("SELECT count(*) FROM rollups").fetchone()
        conn.execute(
            "DELETE FROM rollups WHERE (store_id, kind, grain, bucket, k1, k2) IN"
            " (SELECT store_id, kind, grain, bucket, k1, k2 FROM rollups"
            " ORDER BY bucket DESC LIMIT 1)"
        )
        conn.execute(
            "INSERT INTO rollups (store_id, kind, grain, bucket, k1, k2, visits, warm, closed,"
            " purchased, units, amount_cents, with_amount)"
            " VALUES (?, 1, 0, 1, 2, 3, 1, 0, 0, 0, 0, 0, 0)",
            [key[0]],
        )
    conn.close()
    before = recount(storage, key[0], DAYS[0], DAYS[-1], ("first_engagement",))
    assert cli.main(["rollup", "--rebuild", "--db", storage.address]) == 0
    out = capsys.readouterr().out
    assert "Rollups: 3 rows corrected" in out, out
    with storage.read() as db:
        assert db.execute("SELECT count(*) FROM rollups").fetchone()[0] == second
        got = rollups.counts(db, {key[0]: (DAYS[0], DAYS[-1])}, by=("first_engagement",))
    assert got == before
    assert cli.main(["rollup", "--rebuild", "--db", storage.address]) == 0
    assert "Rollups: 0 rows corrected" in capsys.readouterr().out


def test_rebuild_cli_on_a_missing_file_is_a_sentence(tmp_path, capsys):
    assert cli.main(["rollup", "--rebuild", "--db", str(tmp_path / "nope.db")]) == 2
    err = capsys.readouterr().err
    assert "no database" in err.lower() and "Traceback" not in err


def recount_between(storage, spans: dict, which: str, by: str | None) -> dict:
    """The oracle over UTC instants: each store's visits started in its own
    [start, end) of the span (``current`` or ``previous``), per group."""
    out: dict = defaultdict(Counts)
    for store_id, span in spans.items():
        start, end = (
            (span.start, span.end)
            if which == "current"
            else (span.previous_start, span.previous_end)
        )
        with storage.read() as db:
            rows = list(
                db.query(
                    "SELECT * FROM visits WHERE store_id = ? AND voided_at IS NULL", [store_id]
                )
            )
        for v in rows:
            started = datetime.strptime(v["started_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=UTC, microsecond=0
            )
            if not start <= started < end:
                continue
            key = None if by is None else v[by]
            bought = v["outcome"] == "purchased"
            priced = bought and v["amount_cents"] is not None
            out[key] += Counts(
                1,
                int(v["first_engagement"] == "warm"),
                int(v["outcome"] is not None),
                int(bought),
                v["units"] if bought else 0,
                v["amount_cents"] if priced else 0,
                int(priced),
            )
    return dict(out)


# Cuts inside DST days and just after midnight: the previous period then ends
# part-way through a day, read visit by visit beside the rollups.
NOWS = (
    datetime(2026, 3, 9, 15, 0, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 45, tzinfo=UTC),
    datetime(2026, 3, 30, 13, 17, tzinfo=UTC),
    datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    datetime(2026, 11, 1, 6, 10, tzinfo=UTC),
    datetime(2026, 11, 2, 23, 59, tzinfo=UTC),
)


def test_dashboard_from_rollups_equals_a_recount(storage, chain):
    _random_writes(storage, chain, random.Random(5), steps=220)
    checked = 0
    for now in NOWS:
        for period in ("today", "this_week", "last_7", "last_30"):
            built = dashboard.build(storage, dashboard.DashboardFilters(period=period), now)
            spans = built.spans
            assert built.totals == recount_between(storage, spans, "current", None).get(
                None, Counts()
            )
            assert built.previous == recount_between(storage, spans, "previous", None).get(
                None, Counts()
            )
            for which, attr in (("current", "counts"), ("previous", "previous")):
                engagement = recount_between(storage, spans, which, "first_engagement")
                shown = {g.key: getattr(g, attr) for g in built.by_engagement}
                assert {k: c for k, c in shown.items() if c.visits} == engagement
                team = recount_between(storage, spans, which, "associate_id")
                shown = {r.associate_id: getattr(r, attr) for r in built.team}
                assert {k: c for k, c in shown.items() if c.visits} == team
            by_reason = recount_between(storage, spans, "current", "reason_id")
            assert {g.key or None: g.counts for g in built.by_reason} == by_reason
            checked += built.totals.visits + built.previous.visits
    assert checked > 200  # the periods really held visits
