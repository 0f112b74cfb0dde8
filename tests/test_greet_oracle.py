"""Issue #30's acceptance: the dashboard's time-to-greet figures equal a
recount from the exported visits CSV alone.

A seeded random run writes visits through cxlog's own write paths
(``arrivals.note`` then ``visits.create_visit(..., greets=True)``,
``arrivals.left``, ``arrivals.close_overdue``, undo and void, outcomes) in
two stores with different standards and band edges (London and New York),
over eleven days that hold both zones' change of the clocks. The visits CSV
of the middle nine days (each store's local days) is then read with ``csv``
and nothing else, and recounted by the definitions of docs/product.md:

- on time = rows with an arrival whose seconds to greet are at most the
  store's standard ÷ rows with an arrival (one who left was not on time);
- a wait band's conversion = purchased ÷ closed among the greeted rows whose
  seconds fall in the band, by each store's own standard and edges;
- median and 90th percentile by nearest rank over the greeted rows' seconds
  (waits over 10 minutes counted as the next whole minute).

The dashboard's figures (``cxlog.greeting.figures.build`` over the spans of
``cxlog.dashboard.dashboard.build``, the same as ``from_sums`` over those
days), the same figures for one associate (read from that associate's
visits), and the summary CSV must equal the recount exactly: every success
and every n."""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from cxlog.calendar import periods
from cxlog.core.errors import CxlogError
from cxlog.core.model import utc_now
from cxlog.dashboard import dashboard
from cxlog.dashboard.dashboard import DashboardFilters
from cxlog.export import export, summary
from cxlog.export.export import ExportSelection
from cxlog.greeting import figures, rules
from cxlog.numbers.metrics import Rate
from cxlog.storage.settings import GreetRules
from cxlog.stores import catalog
from cxlog.visits import arrivals, visits
from cxlog.visits.taps import DOUBLE_TAP
from tests.conftest import new_id

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
# London's clocks go back on 25 October, New York's on 1 November.
FIRST, LAST = date(2026, 10, 24), date(2026, 11, 1)
WRITTEN_FROM, WRITTEN_DAYS = date(2026, 10, 23), 11  # a day more on each side
RULES = {
    "Corner Shop": GreetRules(on=True, standard=30, bands=(120, 300)),
    "Uptown": GreetRules(on=True, standard=20, bands=(90, 180)),
}
# Seconds to greet around every edge, and past 10 minutes (kept to the minute).
WAITS = (0, 5, 19, 20, 21, 29, 30, 31, 60, 89, 90, 91, 119, 120, 121, 179, 180, 181, 300)
WAITS += (301, 599, 600, 601, 899, 1_500)


@pytest.fixture
def chain(storage, shop) -> dict[int, tuple[str, list[int]]]:
    """{store id: (timezone, associates)}; the Corner Shop is London's."""
    uptown = catalog.create_store(storage, "Uptown", "America/New_York")
    cy = catalog.add_associate(storage, uptown, "Cy", actor="test")
    for store in (shop["store"], uptown):
        name = {s["id"]: s["name"] for s in catalog.list_stores(storage)}[store]
        rules.save(storage, store, RULES[name], actor="test")
    return {
        shop["store"]: ("Europe/London", [shop["ana"], shop["ben"]]),
        uptown: ("America/New_York", [cy]),
    }


def _tapped(at: datetime) -> visits.Tapped:
    return visits.Tapped(at=at, received_at=utc_now())


def _moment(rng: random.Random, zone: str) -> datetime:
    """A local clock time on one of the written days: mostly opening hours,
    some in the small hours (the clocks change at 01:00 and 02:00) and
    some just before midnight; as UTC, with milliseconds."""
    day = WRITTEN_FROM + timedelta(days=rng.randrange(WRITTEN_DAYS))
    seconds = rng.choice(
        [rng.randrange(9 * 3600, 21 * 3600)] * 3
        + [rng.randrange(0, 3 * 3600), rng.randrange(23 * 3600, 24 * 3600)]
    )
    local = datetime.combine(day, time()) + timedelta(seconds=seconds)
    at = local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return at + timedelta(milliseconds=rng.randrange(1_000))


def _write(storage, chain: dict, rng: random.Random, steps: int) -> Counter:
    """Random customers through cxlog's write paths; what was done."""
    done: Counter = Counter()
    for _ in range(steps):
        store = rng.choice(list(chain))
        zone, people = chain[store]
        who = rng.choice(people)
        actor = f"associate:{who}"
        arrived = _moment(rng, zone)
        kind = rng.choices(
            ["greet", "left", "plain", "waits", "void", "undo"], weights=(55, 10, 14, 5, 8, 8)
        )[0]
        try:
            if kind == "plain":  # no arrival tap: a visit as before #30
                visits.create_visit(storage, new_id(), store, who, "neutral", at=arrived)
                done[kind] += 1
                continue
            aid = new_id()
            arrivals.note(
                storage,
                store,
                aid,
                who,
                device_id=None,
                tap=_tapped(arrived),
                double_tap=DOUBLE_TAP,
            )
            wait = timedelta(seconds=rng.choice(WAITS) + rng.random())
            if kind == "waits":  # nobody acts: closed after the store's limit below
                done[kind] += 1
                continue
            vid = new_id()
            if kind == "left":
                arrivals.left(storage, store, aid, vid, who, tap=_tapped(arrived + wait))
                done[kind] += 1
                continue
            engagement = rng.choice(["warm", "neutral", "missed"])
            hint = aid if rng.random() < 0.9 else None  # else the longest-waiting one
            visits.create_visit(
                storage, vid, store, who, engagement, at=arrived + wait, greets=True, arrival=hint
            )
            if kind == "undo":  # a mis-tap: the visit voided, the customer waits again
                visits.undo_last(storage, actor, visit_id=vid)
                done[kind] += 1
                continue
            ending = rng.choice(["buy", "buy", "nobuy", "open"])
            if ending == "buy":
                visits.record_purchase(storage, vid, rng.randrange(1, 6), actor=actor)
            elif ending == "nobuy":
                visits.record_no_purchase(storage, vid, actor=actor)
            if kind == "void":
                visits.void_visit(storage, vid, "Logged twice", actor="manager")
            done[kind] += 1
        except CxlogError:
            done["refused"] += 1  # refused (changes nothing); counted to keep it rare
    for store in chain:
        done["overdue"] += arrivals.close_overdue(storage, store, now=NOW)
    return done


# --- the recount: the CSV's rows and docs/product.md, nothing else ---------------------


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode(), newline="")))


def _binned(seconds: int) -> int:
    """docs/product.md: a wait counts as the first of 10, 20, 30, 45 s, 1, 1½,
    2, 3, 5, 10, 20 and 30 minutes at or above it."""
    edges = (10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800)
    return next((e for e in edges if seconds <= e), 86_400)


def nearest_rank(waits: list[int], share: float) -> int | None:
    if not waits:
        return None
    return sorted(_binned(w) for w in waits)[max(1, math.ceil(share * len(waits))) - 1]


def _band(store: str, seconds: int) -> int:
    """Which of the store's bands a wait is in: on time, one per edge, longer."""
    edges = (RULES[store].standard, *RULES[store].bands)
    return next((i for i, edge in enumerate(edges) if seconds <= edge), len(edges))


def recount(rows: list[dict[str, str]]) -> dict:
    arrived = [r for r in rows if r["arrived_local"]]
    greeted = [r for r in arrived if r["greet_seconds"]]
    on_time = [r for r in greeted if int(r["greet_seconds"]) <= RULES[r["store"]].standard]
    bands = [Counter() for _ in range(len(RULES["Corner Shop"].bands) + 2)]
    for r in greeted:
        band = bands[_band(r["store"], int(r["greet_seconds"]))]
        band["greeted"] += 1
        band["closed"] += r["outcome"] != "open"
        band["purchased"] += r["outcome"] == "purchased"
        band["units"] += int(r["units"] or 0)
    waits = [int(r["greet_seconds"]) for r in greeted]
    per_store = {
        store: {
            "on_time": sum(r["store"] == store for r in on_time),
            "arrivals": sum(r["store"] == store for r in arrived),
            "median": nearest_rank(
                [int(r["greet_seconds"]) for r in greeted if r["store"] == store], 0.5
            ),
        }
        for store in RULES
    }
    return {
        "visits": len(rows),
        "arrivals": len(arrived),
        "on_time": len(on_time),
        "left": sum(r["left_before_greeting"] == "1" for r in rows),
        "median": nearest_rank(waits, 0.5),
        "p90": nearest_rank(waits, 0.9),
        "bands": bands,
        "stores": per_store,
    }


def assert_equal(found: figures.Greeting, expected: dict) -> None:
    totals = found.totals
    assert (totals.on_time, totals.arrivals) == (expected["on_time"], expected["arrivals"])
    assert totals.on_time_rate == Rate(expected["on_time"], expected["arrivals"])
    assert totals.left_before == expected["left"]
    assert found.share == Rate(expected["arrivals"], expected["visits"])
    assert (found.median, found.p90) == (expected["median"], expected["p90"])
    assert len(found.bands) == len(expected["bands"])
    for band, counted in zip(found.bands, expected["bands"], strict=True):
        c = band.counts.counts
        assert (band.counts.greeted, c.closed, c.purchased) == (
            counted["greeted"],
            counted["closed"],
            counted["purchased"],
        ), band.label
        assert c.conversion == Rate(counted["purchased"], counted["closed"])
        assert c.units_per_sale == (
            counted["units"] / counted["purchased"] if counted["purchased"] else None
        )


@pytest.mark.parametrize("seed", [3, 8])
def test_the_dashboard_equals_a_recount_from_the_exported_csv(storage, chain, seed):
    done = _write(storage, chain, random.Random(seed), steps=170)
    assert done["greet"] > 60 and done["left"] > 5 and done["plain"] > 10
    assert done["void"] + done["undo"] > 10 and done["overdue"] > 3
    assert done["refused"] <= 5

    selection = ExportSelection(first_day=FIRST, last_day=LAST)
    rows = csv_rows(export.visits_csv(storage, selection))
    expected = recount(rows)
    # The run reached what the recount must get right.
    everything = csv_rows(export.visits_csv(storage, ExportSelection()))
    assert len(everything) > len(rows)  # visits on days the selection leaves out
    for store, day in (("Corner Shop", "2026-10-25"), ("Uptown", "2026-11-01")):
        assert any(
            r["store"] == store and r["started_local"].startswith(day) and r["arrived_local"]
            for r in rows
        ), (store, day)
    assert any(r["greet_seconds"] and int(r["greet_seconds"]) > 600 for r in rows)
    assert expected["left"] and all(b["closed"] for b in expected["bands"])
    # With the voided visits, every other row is the same, greet cells included.
    with_voided = csv_rows(
        export.visits_csv(storage, dataclasses.replace(selection, include_voided=True))
    )
    kept = [{k: r[k] for k in rows[0]} for r in with_voided if not r["voided_local"]]
    assert kept == rows and len(with_voided) > len(rows)

    chosen = DashboardFilters(period=periods.CUSTOM, first=FIRST, last=LAST)
    spans = dashboard.build(storage, chosen, NOW).spans
    found = figures.build(storage, spans, chosen)
    assert found == figures.from_sums(storage, {s: (FIRST, LAST) for s in chain})
    assert_equal(found, expected)
    assert {
        line.name: {"on_time": line.counts.on_time, "arrivals": line.counts.arrivals}
        for line in found.stores
    } == {s: {k: e[k] for k in ("on_time", "arrivals")} for s, e in expected["stores"].items()}
    assert {line.name: line.median for line in found.stores} == {
        s: e["median"] for s, e in expected["stores"].items()
    }

    # One associate's figures come from their visits' own rows, not the sums.
    ana = next(a for a in catalog.list_associates(storage) if a["name"] == "Ana")
    hers = DashboardFilters(period=periods.CUSTOM, first=FIRST, last=LAST, associate_id=ana["id"])
    assert_equal(
        figures.build(storage, spans, hers), recount([r for r in rows if r["associate"] == "Ana"])
    )

    # The summary CSV says the same.
    table = csv_rows(summary.summary_csv(storage, selection))
    (whole,) = [r for r in table if r["table"] == "all"]
    assert (int(whole["greeted_on_time"]), int(whole["arrivals"])) == (
        expected["on_time"],
        expected["arrivals"],
    )
    assert int(whole["left_before_greeting"]) == expected["left"]
    bands = [r for r in table if r["table"] == summary.WAIT_BAND]
    assert [(int(b["purchased"]), int(b["closed"])) for b in bands] == [
        (b["purchased"], b["closed"]) for b in expected["bands"]
    ]
