"""The domain vocabulary (docs/product.md) and its validation rules.

Every function here is pure: it takes plain values and returns the clean value
or raises ``ValidationError`` with a message for the person who entered it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cxlog.core.errors import ValidationError
from cxlog.language.words import N_, _

WARM, NEUTRAL, MISSED = "warm", "neutral", "missed"
FIRST_ENGAGEMENTS: tuple[str, ...] = (WARM, NEUTRAL, MISSED)
# Each first engagement's name, by its stored key (_() it where shown, #29).
ENGAGEMENT_LABELS: dict[str, str] = {WARM: N_("Warm"), NEUTRAL: N_("Neutral"), MISSED: N_("Missed")}

PURCHASED, NO_PURCHASE = "purchased", "no_purchase"
OUTCOMES: tuple[str, ...] = (PURCHASED, NO_PURCHASE)

MARKERS: tuple[str, ...] = ("used_name", "recommended")

REASON, NO_SALE_REASON = "reason", "no_sale_reason"
LIST_KINDS: tuple[str, ...] = (REASON, NO_SALE_REASON)

NOT_LEARNED = N_("Not learned")
DEFAULT_REASONS: tuple[str, ...] = (
    N_("Gift"),
    N_("Replace or upgrade"),
    N_("Specific item"),
    N_("Browsing"),
    N_("Service or return"),
    NOT_LEARNED,
)
DEFAULT_NO_SALE_REASONS: tuple[str, ...] = (
    N_("Price"),
    N_("Out of stock"),
    N_("Just looking"),
    N_("Will return"),
    N_("Other"),
)
# The coaching behaviours every store starts with (i14_coaching's seed).
DEFAULT_BEHAVIOURS: tuple[str, ...] = (
    N_("Greet within 30 seconds"),
    N_("Learn the reason"),
    N_("Use the customer's name"),
    N_("Recommend one more item"),
)
_STARTING_NAMES = frozenset(DEFAULT_REASONS + DEFAULT_NO_SALE_REASONS + DEFAULT_BEHAVIOURS)


def entry_name(name: str | None) -> str | None:
    """A list entry's or behaviour's name as people read it (issue #29): the
    entries every store starts with in the reader's language, a name a
    manager typed exactly as typed. Stored names, and so the CSV files, stay
    as they are."""
    return _(name) if name in _STARTING_NAMES else name


MIN_UNITS, MAX_UNITS = 1, 99
# A single visit's sale above this is almost certainly a mis-typed amount.
MAX_AMOUNT_CENTS = 100_000_000
MAX_NAME_LENGTH = 60
MAX_NOTE_LENGTH = 500
# A group with fewer closed visits is "too few visits" and never ranked.
MIN_SAMPLE = 20

_VISIT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_utc_text(moment: datetime) -> str:
    """Store times as fixed-width UTC text so they sort and compare as strings."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(
            _("A time without a timezone cannot be stored; times are kept in UTC.")
        )
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def from_utc_text(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def first_engagement(value: str) -> str:
    if value not in FIRST_ENGAGEMENTS:
        raise ValidationError(
            _("First engagement must be Warm, Neutral or Missed, not {value}.").format(
                value=repr(value)
            )
        )
    return value


def outcome(value: str) -> str:
    if value not in OUTCOMES:
        raise ValidationError(
            _("Outcome must be Purchased or No purchase, not {value}.").format(value=repr(value))
        )
    return value


def units(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            _("Units must be a whole number from 1 to 99, not {value}.").format(value=repr(value))
        )
    if not MIN_UNITS <= value <= MAX_UNITS:
        raise ValidationError(
            _("Units must be from {low} to {high}, not {value}.").format(
                low=MIN_UNITS, high=MAX_UNITS, value=value
            )
        )
    return value


def _not_an_amount(value: object) -> ValidationError:
    return ValidationError(
        _("The sale amount must be a number, not {value}.").format(value=repr(value))
    )


def amount_cents(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _not_an_amount(value)
    if value < 0:
        raise ValidationError(_("The sale amount cannot be negative."))
    if value > MAX_AMOUNT_CENTS:
        raise ValidationError(_("The sale amount is too large; check the number typed."))
    return value


def parse_amount(value: object) -> int | None:
    """A sale amount as typed or picked (12, 12.5, "12.50", Decimal) → cents.

    The one place money becomes cents: through the decimal text of the number
    (``Decimal(str(19.99))`` is exactly 19.99, where ``19.99 * 100`` is
    1998.9999…), rounded half up to the cent. None stays None.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise _not_an_amount(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise _not_an_amount(value)
    try:
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise _not_an_amount(value) from None
    if not number.is_finite():
        raise _not_an_amount(value)
    return amount_cents(to_cents(number))


def to_cents(number: Decimal) -> int:
    """A decimal amount in cents, rounded half up: the one rounding rule for
    money (sale amounts here, POS net sales in cxlog/coverage/traffic.py)."""
    return int((number * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def amount_value(cents: int | None) -> float | None:
    """Stored cents as the amount a number field shows (12.5 for 1250)."""
    return None if cents is None else cents / 100


def cents_text(cents: int | None) -> str:
    """Stored cents as a file writes them, two places and no float on the way
    (1250 → "12.50", None → ""): the visits CSV's SQL does the same in
    integers (cxlog/export/csvlines.py)."""
    return "" if cents is None else f"{cents // 100}.{cents % 100:02d}"


def visit_id(value: object) -> str:
    if not isinstance(value, str) or not _VISIT_ID.match(value):
        raise ValidationError(
            _("That visit reference is not valid; reload the page and tap again.")
        )
    return value


# What clean_text's callers call the text they check, marked for the catalog
# here (the callers pass these English names; the sentence translates them).
TEXT_NAMES: tuple[str, ...] = (
    N_("store name"),
    N_("associate's name"),
    N_("list entry"),
    N_("sign-in name"),
    N_("behaviour"),
    N_("reason for voiding"),
)


def clean_text(value: object, what: str, max_length: int = MAX_NAME_LENGTH) -> str:
    """A name a person typed: trimmed, no control characters, not empty, not too long.

    Right-to-left marks and emoji are fine (they are text); NUL and other
    control characters are refused because they corrupt CSV files and screens.
    ``what`` names the text in the refusal: one of TEXT_NAMES.
    """
    if not isinstance(value, str):
        raise ValidationError(_("The {what} must be text.").format(what=_(what)))
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise ValidationError(_("The {what} cannot be empty.").format(what=_(what)))
    if len(text) > max_length:
        raise ValidationError(
            _("The {what} can be at most {n} characters long.").format(what=_(what), n=max_length)
        )
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        # Cs: a lone surrogate cannot even be stored as UTF-8.
        raise ValidationError(
            _("The {what} contains a control character; type it again.").format(what=_(what))
        )
    return text


@cache
def timezones() -> frozenset[str]:
    # Scanning the tz database takes ~50 ms; do it once per process.
    return frozenset(available_timezones())


def timezone_name(value: object) -> str:
    if not isinstance(value, str) or value not in timezones():
        raise ValidationError(
            _("{value} is not a known timezone; pick one such as Europe/London.").format(
                value=repr(value)
            )
        )
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - listed but unloadable
        raise ValidationError(
            _("{value} is not a usable timezone.").format(value=repr(value))
        ) from exc
    return value


def list_kind(value: str) -> str:
    if value not in LIST_KINDS:
        raise ValidationError(_("Unknown list {value}.").format(value=repr(value)))
    return value


def connection_depth(engagement: str, reason_learned: bool, recommended: bool) -> int:
    """0–3: one point each for Warm, a learned reason and a recommendation."""
    return int(engagement == WARM) + int(bool(reason_learned)) + int(bool(recommended))
