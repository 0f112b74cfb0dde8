from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from cxlog.core import model
from cxlog.core.errors import ValidationError


@pytest.mark.parametrize("value", ["warm", "neutral", "missed"])
def test_first_engagement_accepts_the_three_levels(value):
    assert model.first_engagement(value) == value


@pytest.mark.parametrize("value", ["Warm", "hot", "", None, 1])
def test_first_engagement_refuses_anything_else(value):
    with pytest.raises(ValidationError, match="Warm, Neutral or Missed"):
        model.first_engagement(value)


@pytest.mark.parametrize("value", ["purchased", "no_purchase"])
def test_outcome_accepts_both(value):
    assert model.outcome(value) == value


@pytest.mark.parametrize("value", ["sold", "", None])
def test_outcome_refuses_others(value):
    with pytest.raises(ValidationError, match="Purchased or No purchase"):
        model.outcome(value)


@pytest.mark.parametrize("value", [1, 2, 50, 99])
def test_units_in_range(value):
    assert model.units(value) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "from 1 to 99"),
        (100, "from 1 to 99"),
        (-1, "from 1 to 99"),
        (2.5, "whole number"),
        ("3", "whole number"),
        (True, "whole number"),
        (None, "whole number"),
    ],
)
def test_units_out_of_range_or_not_whole(value, message):
    with pytest.raises(ValidationError, match=message):
        model.units(value)


def test_amount_cents_rules():
    assert model.amount_cents(None) is None
    assert model.amount_cents(0) == 0
    assert model.amount_cents(12_345) == 12_345
    with pytest.raises(ValidationError, match="cannot be negative"):
        model.amount_cents(-1)
    with pytest.raises(ValidationError, match="too large"):
        model.amount_cents(model.MAX_AMOUNT_CENTS + 1)
    with pytest.raises(ValidationError, match="must be a number"):
        model.amount_cents(1.5)


@pytest.mark.parametrize("value", ["short", "x" * 65, "has space here", "semi;colon1", None, 7])
def test_visit_id_refuses_bad_references(value):
    with pytest.raises(ValidationError, match="not valid"):
        model.visit_id(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Ana  ", "Ana"),
        ("Zoë 🌟", "Zoë 🌟"),
        ("\u202eevil", "\u202eevil"),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ],
)
def test_clean_text_keeps_text_as_text(value, expected):
    assert model.clean_text(value, "name") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "cannot be empty"),
        ("   ", "cannot be empty"),
        ("a\x00b", "control character"),
        ("x" * 61, "at most 60"),
        (None, "must be text"),
    ],
)
def test_clean_text_refusals(value, message):
    with pytest.raises(ValidationError, match=message):
        model.clean_text(value, "name")


def test_timezone_names():
    assert model.timezone_name("America/New_York") == "America/New_York"
    for bad in ("Mars/Olympus", "", None, "../etc/passwd"):
        with pytest.raises(ValidationError, match="not a known timezone"):
            model.timezone_name(bad)


def test_times_are_stored_as_utc_text():
    local = datetime(2026, 3, 29, 2, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert model.to_utc_text(local) == "2026-03-29T00:30:15.123Z"
    assert model.from_utc_text("2026-03-29T00:30:15.123Z") == datetime(
        2026, 3, 29, 0, 30, 15, 123000, tzinfo=UTC
    )


def test_naive_times_are_refused():
    with pytest.raises(ValidationError, match="without a timezone"):
        model.to_utc_text(datetime(2026, 1, 1, 12, 0))


@pytest.mark.parametrize(
    ("engagement", "learned", "recommended", "depth"),
    [
        ("warm", True, True, 3),
        ("warm", False, False, 1),
        ("neutral", True, False, 1),
        ("missed", False, False, 0),
        ("missed", True, True, 2),
    ],
)
def test_connection_depth(engagement, learned, recommended, depth):
    assert model.connection_depth(engagement, learned, recommended) == depth


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        (None, None),
        (0, 0),
        (12, 1200),
        (12.5, 1250),
        (19.99, 1999),  # 19.99 * 100 is 1998.9999… as a float
        (0.29, 29),  # 0.29 * 100 is 28.999…
        ("12.50", 1250),
        (" 7 ", 700),
        (Decimal("0.005"), 1),  # half a cent rounds up
        (Decimal("0.0049"), 0),
        (1_000_000, 100_000_000),  # the largest amount a visit may have
    ],
)
def test_parse_amount_is_the_one_way_to_cents(typed, cents):
    assert model.parse_amount(typed) == cents


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("twelve", "must be a number"),
        (float("nan"), "must be a number"),
        (float("inf"), "must be a number"),
        ("Infinity", "must be a number"),
        (True, "must be a number"),
        ([12], "must be a number"),
        (-1, "cannot be negative"),
        (1_000_000.01, "too large"),
    ],
)
def test_parse_amount_refuses_with_a_sentence(typed, says):
    with pytest.raises(ValidationError, match=says):
        model.parse_amount(typed)


def test_amount_value_shows_cents_as_an_amount():
    assert model.amount_value(None) is None
    assert model.amount_value(1999) == 19.99
    assert model.amount_value(0) == 0


def test_cents_are_written_as_the_csv_writes_them():
    """#26: one way from cents to a file's text, equal to the visits CSV's SQL."""
    import sqlite3

    sql = "SELECT (? / 100) || '.' || substr(100 + ? % 100, 2)"
    conn = sqlite3.connect(":memory:")
    for cents in (0, 5, 99, 100, 1250, 123456, 10**12 + 7):
        text = model.cents_text(cents)
        assert text == conn.execute(sql, [cents, cents]).fetchone()[0], cents
    assert model.cents_text(1250) == "12.50" and model.cents_text(None) == ""
