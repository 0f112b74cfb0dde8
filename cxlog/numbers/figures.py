"""Numbers as people read them, one way everywhere (issue #26): a rate as a
percent, its 95% interval, units per sale, and the words for a group too
small to judge. Pure functions of the numbers: the Log page's team line,
the huddle card, the dashboard and the coverage notes all write them alike,
in the reader's language (cxlog.language.formats). Money has its own home
(cxlog.core.money)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cxlog.language import formats
from cxlog.language.words import N_

if TYPE_CHECKING:
    from cxlog.numbers.metrics import Rate

# Shown through ``_(TOO_FEW)``.
TOO_FEW = N_("too few visits")


def decimal(value: float, digits: int = 0) -> str:
    """``value`` with ``digits`` decimals in the reader's form ("1,234.5",
    "1 234,5"), rounded as Python rounds the number itself (Babel would round
    the shortest decimal text, which differs at some halves: 1.015 → "1.02")."""
    return formats.number(round(value, digits), digits)


def percent(value: float | None, digits: int = 1) -> str:
    """0.4234 → "42.3%" (``digits`` after the point); a dash for no value."""
    if value is None:
        return "—"
    return formats.percent(round(100 * value, digits) / 100, digits)


def interval(rate: Rate) -> str:
    """ "38–44%": the 95% Wilson interval, or a dash when there is no n. Word
    joiners keep it on one line."""
    bounds = rate.interval
    if bounds is None:
        return "—"
    return f"{decimal(100 * bounds[0])}\u2060–\u2060{percent(bounds[1], 0)}"


def ups(value: float | None) -> str:
    """Units per sale, two decimals; a dash for no value."""
    return "—" if value is None else decimal(value, 2)
