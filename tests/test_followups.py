"""Follow-ups, visit codes and return visits in cxlog.followups.followups (issue #15)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlite_utils

from cxlog.core.errors import NotFoundError, ValidationError
from cxlog.followups import followups
from cxlog.stores import catalog
from cxlog.visits import visits
from tests.conftest import new_id
from tests.helpers.peek import peek

# 10:00 in London on Tuesday 1 December 2026 (GMT, so UTC = local).
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)


def closed_visit(storage, shop, *, who="ana", bought=0, engagement="warm", at=NOW, reason=None):
    vid = new_id()
    visits.create_visit(storage, vid, shop["store"], shop[who], engagement, at=at)
    actor = f"associate:{shop[who]}"
    if reason:
        visits.set_reason(storage, vid, shop["reasons"][reason], actor=actor)
    if bought:
        visits.record_purchase(storage, vid, bought, actor=actor)
    else:
        visits.record_no_purchase(storage, vid, actor=actor)
    return vid


def audit_rows(storage, entity="followup") -> list[dict]:
    return list(peek(storage).query("SELECT * FROM audit WHERE entity = ? ORDER BY id", [entity]))


def table(storage, name: str) -> list[dict]:
    return list(peek(storage).query(f"SELECT * FROM {name} ORDER BY 1"))


@pytest.fixture
def other_store(storage):
    store = catalog.create_store(storage, "Far Shop", "America/New_York")
    return {"store": store, "cleo": catalog.add_associate(storage, store, "Cleo", actor="test")}


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        ("tomorrow", date(2026, 12, 2)),
        ("in_3_days", date(2026, 12, 4)),
        ("in_a_week", date(2026, 12, 8)),
        ("2026-12-24", date(2026, 12, 24)),
        (date(2026, 12, 1), date(2026, 12, 1)),
    ],
)
def test_promise_sets_the_due_day_in_store_local_days(storage, shop, due, expected):
    vid = closed_visit(storage, shop)
    item, created = followups.promise(storage, vid, due, "call", associate_id=shop["ana"], now=NOW)
    assert created
    assert item["due_on"] == item["promised_due_on"] == expected.isoformat()
    assert item["promised_on"] == "2026-12-01"
    assert item["channel"] == "call"
    assert item["promised_by_name"] == "Ana"
    code = item["code"]
    assert len(code) == 5 and set(code) <= set("ACDEFGHJKMNPQRTUVWXY34679")


def test_local_day_not_utc_day(storage, shop, other_store):
    # 03:00 UTC on 2 Dec is still 1 Dec (22:00) in New York: "tomorrow" is 2 Dec.
    late = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    vid = new_id()
    visits.create_visit(storage, vid, other_store["store"], other_store["cleo"], "warm", at=late)
    visits.record_no_purchase(storage, vid, actor="test")
    item, _ = followups.promise(
        storage, vid, "tomorrow", "text", associate_id=other_store["cleo"], now=late
    )
    assert (item["promised_on"], item["due_on"]) == ("2026-12-01", "2026-12-02")


def test_same_promise_twice_returns_the_first_and_a_different_one_refuses(storage, shop):
    vid = closed_visit(storage, shop)
    first, _ = followups.promise(
        storage, vid, "tomorrow", "call", associate_id=shop["ana"], now=NOW
    )
    again, created = followups.promise(
        storage, vid, "tomorrow", "call", associate_id=shop["ben"], now=NOW
    )
    assert not created and again["id"] == first["id"] and again["promised_by_name"] == "Ana"
    with pytest.raises(ValidationError, match=r"already promised .* nothing changed"):
        followups.promise(storage, vid, "in_a_week", "text", associate_id=shop["ana"], now=NOW)
    assert len(table(storage, "followups")) == 1
    assert [r["action"] for r in audit_rows(storage)] == ["promise"]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("voided", "voided"),
        ("open", "Close the visit first"),
        ("other_store", "not in this store"),
        ("missing", "not in this store"),
        ("bad_channel", "channel must be"),
        ("bad_due", "Pick when"),
        ("past_due", "has passed"),
        ("far_due", "at most a year"),
    ],
)
def test_hostile_promises_say_one_sentence_and_change_nothing(
    storage, shop, other_store, case, message
):
    vid = closed_visit(storage, shop)
    due, chan, who = "tomorrow", "call", shop["ana"]
    if case == "voided":
        visits.void_visit(storage, vid, "Logged twice", actor="manager")
    elif case == "open":
        vid = new_id()
        visits.create_visit(storage, vid, shop["store"], shop["ana"], "warm", at=NOW)
    elif case == "other_store":
        who = other_store["cleo"]
    elif case == "missing":
        vid = new_id()
    elif case == "bad_channel":
        chan = "jane@example.com"
    elif case == "bad_due":
        due = "next Tuesday"
    elif case == "past_due":
        due = "2026-11-30"
    elif case == "far_due":
        due = "2028-01-01"
    before = table(storage, "audit")
    with pytest.raises((ValidationError, NotFoundError), match=message) as raised:
        followups.promise(storage, vid, due, chan, associate_id=who, now=NOW)
    assert str(raised.value).count(".") <= 2 and "\n" not in str(raised.value)
    assert table(storage, "followups") == [] and table(storage, "visit_codes") == []
    assert table(storage, "audit") == before


def test_codes_are_unique_per_store_for_a_year_then_may_be_reused(storage, shop, monkeypatch):
    draws = iter("AAAAA" + "AAAAA" + "CCCCC" + "AAAAA")
    monkeypatch.setattr(followups.secrets, "choice", lambda alphabet: next(draws))
    first = closed_visit(storage, shop)
    second = closed_visit(storage, shop)
    third = closed_visit(storage, shop, at=NOW + timedelta(days=366))
    assert followups.visit_code(storage, first, shop["store"], now=NOW) == "AAAAA"
    # The same draw again is taken: the second visit gets the next free one.
    assert followups.visit_code(storage, second, shop["store"], now=NOW) == "CCCCC"
    # Asked again, a visit keeps its code (no new draw).
    assert followups.visit_code(storage, first, shop["store"], now=NOW) == "AAAAA"
    later = NOW + timedelta(days=366)
    assert followups.visit_code(storage, third, shop["store"], now=later) == "AAAAA"
    link = followups.mark_return(
        storage, closed_visit(storage, shop, at=later), "aaaaa", associate_id=shop["ana"], now=later
    )
    assert link["original_visit_id"] == third  # the code names the newer visit now


def test_result_reached_closes_it_and_a_second_tap_refuses(storage, shop):
    vid = closed_visit(storage, shop)
    item, _ = followups.promise(storage, vid, "tomorrow", "call", associate_id=shop["ana"], now=NOW)
    later = NOW + timedelta(days=1)
    done = followups.record_result(
        storage, item["id"], "reached", associate_id=shop["ben"], now=later
    )
    assert (done["result"], done["result_on"], done["result_by_name"]) == (
        "reached",
        "2026-12-02",
        "Ben",
    )
    assert done["first_action_on"] == "2026-12-02"
    before = table(storage, "followups")
    with pytest.raises(ValidationError, match=r"already done \(reached, by Ben\); nothing changed"):
        followups.record_result(storage, item["id"], "not_needed", associate_id=shop["ana"])
    assert table(storage, "followups") == before
    rows = audit_rows(storage)
    assert [r["action"] for r in rows] == ["promise", "result"]
    assert rows[1]["actor"] == f"associate:{shop['ben']}"
    assert json.loads(rows[1]["after"])["result"] == "reached"
    assert json.loads(rows[1]["before"])["result"] is None


def test_no_answer_keeps_it_open_due_on_the_retry_day(storage, shop):
    vid = closed_visit(storage, shop)
    item, _ = followups.promise(storage, vid, "tomorrow", "call", associate_id=shop["ana"], now=NOW)
    day2 = NOW + timedelta(days=1)
    tried = followups.record_result(
        storage, item["id"], "no_answer", retry="in_3_days", associate_id=shop["ana"], now=day2
    )
    assert (tried["result"], tried["due_on"], tried["attempts"]) == (None, "2026-12-05", 1)
    assert tried["promised_due_on"] == "2026-12-02" and tried["first_action_on"] == "2026-12-02"
    with pytest.raises(ValidationError, match="already set to retry on Sat 5 Dec"):
        followups.record_result(
            storage, item["id"], "no_answer", retry="in_3_days", associate_id=shop["ana"], now=day2
        )
    assert followups.get_followup(storage, item["id"], shop["store"])["attempts"] == 1


def test_came_back_and_bought_needs_units_and_keeps_the_amount(storage, shop):
    vid = closed_visit(storage, shop)
    item, _ = followups.promise(storage, vid, "tomorrow", "call", associate_id=shop["ana"], now=NOW)
    with pytest.raises(ValidationError, match="Units must be"):
        followups.record_result(storage, item["id"], "bought", associate_id=shop["ana"], now=NOW)
    with pytest.raises(ValidationError, match="only with 'came back and bought'"):
        followups.record_result(
            storage, item["id"], "reached", units=2, associate_id=shop["ana"], now=NOW
        )
    done = followups.record_result(
        storage, item["id"], "bought", units=2, amount_cents=4999, associate_id=shop["ana"], now=NOW
    )
    assert (done["result"], done["units"], done["amount_cents"]) == ("bought", 2, 4999)


def test_unknown_result_and_other_stores_followup_refuse(storage, shop, other_store):
    vid = closed_visit(storage, shop)
    item, _ = followups.promise(storage, vid, "tomorrow", "call", associate_id=shop["ana"], now=NOW)
    with pytest.raises(ValidationError, match="The result must be"):
        followups.record_result(storage, item["id"], "call me", associate_id=shop["ana"])
    with pytest.raises(NotFoundError, match="not in this store's list"):
        followups.record_result(storage, item["id"], "reached", associate_id=other_store["cleo"])
    with pytest.raises(NotFoundError, match="not in this store's list"):
        followups.snooze(storage, 999, "tomorrow", associate_id=shop["ana"])
    assert followups.get_followup(storage, item["id"], shop["store"])["result"] is None


def test_voided_visit_after_promise_refuses_results(storage, shop):
    vid = closed_visit(storage, shop)
    item, _ = followups.promise(storage, vid, "tomorrow", "call", associate_id=shop["ana"], now=NOW)
    visits.void_visit(storage, vid, "Wrong store", actor="manager")
    with pytest.raises(ValidationError, match="was voided; nothing changed"):
        followups.record_result(storage, item["id"], "reached", associate_id=shop["ana"])
    assert all(not rows for rows in followups.followup_list(storage, shop["store"]).values())


def test_snooze_moves_the_day_keeps_the_promise_and_refuses_the_same_day(storage, shop):
    vid = closed_visit(storage, shop)
    item, _ = followups.promise(storage, vid, "tomorrow", "call", associate_id=shop["ana"], now=NOW)
    moved = followups.snooze(storage, item["id"], "in_a_week", associate_id=shop["ben"], now=NOW)
    assert (moved["due_on"], moved["promised_due_on"], moved["snoozes"]) == (
        "2026-12-08",
        "2026-12-02",
        1,
    )
    with pytest.raises(ValidationError, match="already due on Tue 8 Dec"):
        followups.snooze(storage, item["id"], "2026-12-08", associate_id=shop["ben"], now=NOW)
    assert [r["action"] for r in audit_rows(storage)] == ["promise", "snooze"]


def test_list_sections_in_local_days(storage, shop):
    def promised(due, at=NOW):
        vid = closed_visit(storage, shop, at=at)
        return followups.promise(storage, vid, due, "call", associate_id=shop["ana"], now=at)[0]

    week_ago = NOW - timedelta(days=7)
    overdue = promised("tomorrow", at=week_ago)
    due_today = promised("2026-12-01")
    upcoming = promised("in_3_days")
    done = promised("tomorrow")
    followups.record_result(storage, done["id"], "not_needed", associate_id=shop["ben"], now=NOW)
    old_done = promised("tomorrow", at=NOW - timedelta(days=20))
    followups.record_result(
        storage, old_done["id"], "reached", associate_id=shop["ben"], now=NOW - timedelta(days=19)
    )
    got = followups.followup_list(storage, shop["store"], now=NOW)
    assert {k: [r["id"] for r in v] for k, v in got.items()} == {
        "today": [due_today["id"]],
        "overdue": [overdue["id"]],
        "upcoming": [upcoming["id"]],
        "done": [done["id"]],  # the one done 19 days ago is past the week
    }
    row = got["today"][0]
    assert followups.visit_summary(row) == "no reason · no purchase"
    assert row["code"] == due_today["code"]


def test_recently_closed_lists_this_shifts_visits_without_a_followup(storage, shop):
    mine = closed_visit(storage, shop, bought=2, reason="Gift")
    promised = closed_visit(storage, shop)
    closed_visit(storage, shop, who="ben")
    closed_visit(storage, shop, at=NOW - timedelta(hours=13))
    open_vid = new_id()
    visits.create_visit(storage, open_vid, shop["store"], shop["ana"], "warm", at=NOW)
    followups.promise(storage, promised, "tomorrow", "call", associate_id=shop["ana"], now=NOW)
    rows = followups.recently_closed(storage, shop["store"], shop["ana"], now=NOW)
    assert [r["id"] for r in rows] == [mine]
    assert followups.visit_summary(rows[0]) == "Gift · bought 2 units"


def test_mark_return_by_code_keeps_the_link(storage, shop, other_store):
    first = closed_visit(storage, shop)
    item, _ = followups.promise(
        storage, first, "tomorrow", "in_store", associate_id=shop["ana"], now=NOW
    )
    back = new_id()
    visits.create_visit(storage, back, shop["store"], shop["ben"], "warm", at=NOW)
    typed = item["code"].lower()[:2] + "-" + item["code"][2:]
    link = followups.mark_return(storage, back, typed, associate_id=shop["ben"], now=NOW)
    assert link == {
        "visit_id": back,
        "original_visit_id": first,
        "code": item["code"],
        "created": True,
    }
    again = followups.mark_return(storage, back, item["code"], associate_id=shop["ben"], now=NOW)
    assert again["created"] is False
    assert followups.returns_of(storage, shop["store"], first) == [back]
    assert followups.get_followup(storage, item["id"], shop["store"])["return_visit_id"] == back
    assert [r["action"] for r in audit_rows(storage, "visit") if r["action"] == "return"] == [
        "return"
    ]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unknown", "No visit of this store has the code"),
        ("other_store", "No visit of this store has the code"),
        ("malformed", "A visit code is 5 letters"),
        ("own_code", "this visit's own code"),
        ("voided_original", "was voided; check the code"),
        ("voided_visit", "cannot be marked as a return"),
        ("relink", "already marked as the return of another"),
    ],
)
def test_hostile_returns_say_one_sentence_and_change_nothing(
    storage, shop, other_store, case, message
):
    first = closed_visit(storage, shop)
    code = followups.visit_code(storage, first, shop["store"], now=NOW)
    back = closed_visit(storage, shop)
    if case == "unknown":
        code = "QQQQQ" if code != "QQQQQ" else "WWWWW"
    elif case == "other_store":
        far = new_id()
        visits.create_visit(storage, far, other_store["store"], other_store["cleo"], "warm")
        visits.record_no_purchase(storage, far, actor="test")
        code = followups.visit_code(storage, far, other_store["store"], now=NOW)
        assert followups.visit_code(storage, far, other_store["store"]) == code
    elif case == "malformed":
        code = "ana@example.com"
    elif case == "own_code":
        code = followups.visit_code(storage, back, shop["store"], now=NOW)
    elif case == "voided_original":
        visits.void_visit(storage, first, "Mistake", actor="manager")
    elif case == "voided_visit":
        visits.void_visit(storage, back, "Mistake", actor="manager")
    elif case == "relink":
        other = closed_visit(storage, shop)
        other_code = followups.visit_code(storage, other, shop["store"], now=NOW)
        followups.mark_return(storage, back, other_code, associate_id=shop["ana"], now=NOW)
    before = (table(storage, "visit_returns"), len(table(storage, "audit")))
    with pytest.raises((ValidationError, NotFoundError), match=message):
        followups.mark_return(storage, back, code, associate_id=shop["ana"], now=NOW)
    assert (table(storage, "visit_returns"), len(table(storage, "audit"))) == before


def test_window_setting_per_store(storage, shop, other_store):
    assert followups.window_days(storage, shop["store"]) == 14
    followups.set_window_days(storage, shop["store"], 30, actor="manager")
    assert followups.window_days(storage, shop["store"]) == 30
    assert followups.window_days(storage, other_store["store"]) == 14
    for bad in (0, 366, "14", True, 2.5):
        with pytest.raises(ValidationError, match="whole number of days from 1 to 365"):
            followups.set_window_days(storage, shop["store"], bad, actor="manager")
    assert followups.window_days(storage, shop["store"]) == 30


def test_numbers_match_a_hand_count(storage, shop):
    """Eight follow-ups worked by hand: see each line's comment."""
    day = timedelta(days=1)
    cases = [
        # (engagement, reason, promised at, due, (result, days after 1 Dec, units))
        ("warm", "Gift", NOW, "tomorrow", ("bought", 1, 2)),  # bought 2 Dec: on time, won
        ("warm", "Gift", NOW, "tomorrow", ("bought", 20, 1)),  # 21 Dec: late, not won
        ("warm", None, NOW, "tomorrow", ("reached", 1, None)),  # on time, not won
        ("neutral", None, NOW, "tomorrow", ("no_answer", 3, None)),  # tried 4 Dec: late
        ("neutral", "Gift", NOW, "in_3_days", ("bought", 3, 1)),  # 4 Dec: on time, won
        ("missed", None, NOW, "tomorrow", None),  # nothing: overdue
        ("missed", None, NOW, "in_a_week", None),  # due 8 Dec: outside a 1–5 Dec period
        ("warm", "Gift", NOW - 10 * day, "tomorrow", ("bought", 1, 1)),  # due 22 Nov: outside
    ]
    for engagement, reason, at, due, what in cases:
        vid = closed_visit(storage, shop, engagement=engagement, reason=reason, at=at)
        item, _ = followups.promise(storage, vid, due, "call", associate_id=shop["ana"], now=at)
        if what:
            result, after, units = what
            followups.record_result(
                storage,
                item["id"],
                result,
                units=units,
                associate_id=shop["ben"],
                now=NOW + after * day,
            )
    # A voided visit's follow-up never counts.
    vid = closed_visit(storage, shop)
    followups.promise(storage, vid, "tomorrow", "call", associate_id=shop["ana"], now=NOW)
    visits.void_visit(storage, vid, "Mistake", actor="manager")

    later = NOW + 30 * day
    got = followups.count(
        storage, {shop["store"]: (date(2026, 12, 1), date(2026, 12, 5))}, now=later
    )
    # Due 1–5 Dec: cases 1–6 → 6. Won within 14 days: cases 1 and 5 → 2.
    # On time (first action ≤ promised due day): cases 1, 3, 5 → 3.
    # Overdue now (open, due before 31 Dec): case 4 (retry 4 Dec), 6, 7 → 3.
    assert (got.due, got.bought, got.done_on_time, got.overdue) == (6, 2, 3, 3)
    # Promised 1–5 Dec: cases 1–7 → 7.
    assert got.promised == 7
    # Closed in 1–5 Dec by Ben: cases 1, 3, 5 (case 2 on 21 Dec, case 8 on 2 Dec) → 4.
    assert got.done_by == {shop["ben"]: 4}
    lo, hi = got.conversion.interval
    assert got.conversion.value == pytest.approx(2 / 6)
    assert (round(lo, 4), round(hi, 4)) == (0.0968, 0.7000)
    # By first engagement: warm cases 1–3 (1 won), neutral 4–5 (1 won), missed 6 (0).
    assert {k: (r.successes, r.n) for k, r in got.by_engagement.items()} == {
        "warm": (1, 3),
        "neutral": (1, 2),
        "missed": (0, 1),
    }
    # Depth = warm + learned reason + recommended (none recommended here):
    # case 1 warm+Gift=2 (won), 2 = 2, 3 warm=1, 4 =0, 5 Gift=1 (won), 6 = 0.
    assert {k: (r.successes, r.n) for k, r in got.by_depth.items()} == {
        0: (0, 2),
        1: (1, 2),
        2: (1, 2),
        3: (0, 0),
    }
    followups.set_window_days(storage, shop["store"], 30, actor="manager")
    wider = followups.count(
        storage, {shop["store"]: (date(2026, 12, 1), date(2026, 12, 5))}, now=later
    )
    assert wider.bought == 3  # case 2 (bought after 20 days) counts with a 30-day window
    only_gift = followups.count(
        storage,
        {shop["store"]: (date(2026, 12, 1), date(2026, 12, 5))},
        now=later,
        reason_id=shop["reasons"]["Gift"],
    )
    assert (only_gift.due, only_gift.bought) == (3, 3)  # cases 1, 2, 5; window now 30


# --- the visit columns a follow-up carries (issue #12) ---------------------------------

COPIES = "visit_engagement, visit_reason_id, visit_recommended, visit_voided"


def copies_and_visits(storage) -> tuple[list[tuple], list[tuple]]:
    db = peek(storage)
    copies = db.execute(f"SELECT visit_id, {COPIES} FROM followups ORDER BY id").fetchall()
    truth = db.execute(
        "SELECT f.visit_id, v.first_engagement, v.reason_id, v.recommended,"
        " v.voided_at IS NOT NULL FROM followups f JOIN visits v ON v.id = f.visit_id"
        " ORDER BY f.id"
    ).fetchall()
    return copies, truth


def recount_by_engagement(storage, first: date, last: date) -> dict[str, tuple[int, int]]:
    """The oracle: follow-ups due in the period joined to their visits (the
    query the numbers used before the copies), won = bought within 14 days."""
    db = peek(storage)
    rows = db.execute(
        "SELECT v.first_engagement, f.result, f.promised_on, f.result_on FROM followups f"
        " JOIN visits v ON v.id = f.visit_id WHERE v.voided_at IS NULL"
        " AND f.promised_due_on BETWEEN ? AND ?",
        [first.isoformat(), last.isoformat()],
    ).fetchall()
    out: dict[str, tuple[int, int]] = {k: (0, 0) for k in ("warm", "neutral", "missed")}
    for engagement, result, promised_on, result_on in rows:
        won = (
            result == "bought"
            and (date.fromisoformat(result_on) - date.fromisoformat(promised_on)).days
            <= followups.DEFAULT_WINDOW_DAYS
        )
        out[engagement] = (out[engagement][0] + won, out[engagement][1] + 1)
    return out


def test_a_followups_copies_follow_its_visit_through_random_writes(storage, shop):
    """Reason, marker, correction, void and undo in a random (seeded, bounded)
    order: after every write each follow-up's copies equal its visit, and the
    numbers by engagement equal a recount joined to the visits."""
    import random

    from cxlog.core.errors import ValidationError as Refused

    rng = random.Random(12)
    ids = []
    for n in range(6):
        vid = closed_visit(storage, shop, engagement=("warm", "neutral", "missed")[n % 3])
        item, _ = followups.promise(
            storage, vid, "tomorrow", "call", associate_id=shop["ana"], now=NOW
        )
        if n % 2:
            followups.record_result(
                storage, item["id"], "bought", units=1, associate_id=shop["ben"], now=NOW
            )
        ids.append(vid)
    copies, truth = copies_and_visits(storage)
    assert copies == truth and len(copies) == 6  # set on insert
    reasons = [None, *shop["reasons"].values()]
    actor = f"associate:{shop['ana']}"
    done = {"reason": 0, "marker": 0, "correct": 0, "void": 0, "undo": 0}
    for _ in range(60):
        vid, step = rng.choice(ids), rng.choice(list(done))
        try:
            if step == "reason":
                visits.set_reason(storage, vid, rng.choice(reasons), actor=actor)
            elif step == "marker":
                visits.set_marker(storage, vid, "recommended", rng.random() < 0.5, actor=actor)
            elif step == "correct":
                engagement = rng.choice(("warm", "neutral", "missed"))
                visits.correct_visit(storage, vid, actor=actor, first_engagement=engagement)
            elif step == "void" and rng.random() < 0.4:
                visits.void_visit(storage, vid, "Mistake", actor="manager")
            elif step == "undo":
                visits.undo_last(storage, actor)
            else:
                continue
        except Refused:
            continue
        done[step] += 1
        copies, truth = copies_and_visits(storage)
        assert copies == truth, step
        got = followups.count(storage, {shop["store"]: (TODAY, TODAY + timedelta(days=1))}, now=NOW)
        assert {k: (r.successes, r.n) for k, r in got.by_engagement.items()} == (
            recount_by_engagement(storage, TODAY, TODAY + timedelta(days=1))
        )
    # The sequence really exercised every kind of write (the seed is fixed).
    assert all(done.values()), done
    db = peek(storage)
    assert db.execute("SELECT count(DISTINCT visit_engagement) FROM followups").fetchone()[0] > 1


@pytest.mark.sqlite
def test_an_upgraded_database_gains_the_copies_from_its_visits(storage, shop):
    """A database made before the copies existed: the migration fills them
    from the visits, and later writes keep them equal (#12)."""
    for engagement, reason in (("warm", "Gift"), ("missed", None), ("neutral", "Browsing")):
        vid = closed_visit(storage, shop, engagement=engagement, reason=reason)
        followups.promise(storage, vid, "tomorrow", "text", associate_id=shop["ana"], now=NOW)
        visits.set_marker(storage, vid, "recommended", engagement == "warm", actor="manager")
    visits.void_visit(storage, vid, "Mistake", actor="manager")
    db = sqlite_utils.Database(storage.path)
    # Take the database back to the schema before the migration.
    db.executescript(
        """
        DROP TRIGGER followups_copy_visit;
        DROP TRIGGER visits_copy_to_followups;
        DROP INDEX followups_numbers;
        ALTER TABLE followups DROP COLUMN visit_engagement;
        ALTER TABLE followups DROP COLUMN visit_reason_id;
        ALTER TABLE followups DROP COLUMN visit_recommended;
        ALTER TABLE followups DROP COLUMN visit_voided;
        DELETE FROM _sqlite_migrations WHERE name = 'i12_followups_carry_their_visit';
        """
    )
    assert "visit_engagement" not in db["followups"].columns_dict
    storage.migrate()
    copies, truth = copies_and_visits(storage)
    assert copies == truth
    assert [c[1:] for c in copies] == [
        ("warm", shop["reasons"]["Gift"], 1, 0),
        ("missed", None, 0, 0),
        ("neutral", shop["reasons"]["Browsing"], 0, 1),
    ]
    visits.correct_visit(storage, copies[0][0], actor="manager", first_engagement="neutral")
    copies, truth = copies_and_visits(storage)
    assert copies == truth and copies[0][1] == "neutral"
