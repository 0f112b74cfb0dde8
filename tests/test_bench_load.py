"""The load benchmark's decisions (bench/load.py): when a ramp's step holds
its tablets, which step is the figure, and the chain peak's recount."""

from __future__ import annotations

from bench.load import held, p95, recount, step_passes


def test_p95_of_few_and_many():
    assert p95([]) == 0.0
    assert p95([12.0]) == 12.0
    assert p95([float(n) for n in range(1, 101)]) == 95.05


def test_a_step_holds_only_with_taps_within_the_limit_and_nothing_failed():
    fast = [10.0] * 99 + [400.0]  # one slow tap in a hundred: p95 still fast
    assert step_passes(fast, errors=0, closed_sessions=0)
    assert not step_passes(fast, errors=1, closed_sessions=0)
    assert not step_passes(fast, errors=0, closed_sessions=1)
    assert not step_passes([10.0] * 90 + [151.0] * 10, errors=0, closed_sessions=0)
    assert not step_passes([], errors=0, closed_sessions=0)  # no tap: nothing shown


def test_the_figure_is_the_last_step_before_the_first_failure():
    assert held([(100, True), (200, True), (300, False)]) == 200
    assert held([(100, True), (200, False), (300, True)]) == 100
    assert held([(100, False)]) == 0
    assert held([(100, True), (200, True)]) == 200
    assert held([]) == 0


def test_recount_finds_lost_wrong_and_doubled_visits_and_taps():
    acked = {
        "a": {"first_engagement": "warm", "outcome": "purchased", "units": 2},
        "b": {"first_engagement": "neutral"},
        "c": {"first_engagement": "missed", "reason_id": 4},
    }
    rows = [
        {"id": "a", "first_engagement": "warm", "outcome": "purchased", "units": 2},
        {"id": "b", "first_engagement": "neutral", "outcome": "no_purchase", "units": None},
        {"id": "c", "first_engagement": "missed", "reason_id": 4},
    ]
    taps = [{"id": "t1"}, {"id": "t2"}]
    assert recount(acked, rows, taps) == {"lost": 0, "doubled": 0, "visits": 3}
    # A visit missing, a field not as acknowledged: both lost.
    assert recount(acked, rows[:2], taps)["lost"] == 1
    changed = [rows[0], rows[1], {**rows[2], "reason_id": 5}]
    assert recount(acked, changed, taps)["lost"] == 1
    # A visit or a tap stored twice: doubled.
    assert recount(acked, [*rows, rows[0]], taps)["doubled"] == 1
    assert recount(acked, rows, [*taps, taps[1]])["doubled"] == 1
