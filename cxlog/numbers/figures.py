"""Numbers as people read them, one way everywhere (issue #26): a rate as a
percent, its 95% interval, units per sale, and the words for a group too
small to judge. Pure functions of the numbers: the Log page's team line,
the huddle card, the dashboard and the coverage notes all write them alike.
Money has its own home (cxlog.core.money)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cxlog.numbers.metrics import Rate

TOO_FEW = "too few visits"


def percent(value: float | None, digits: int = 1) -> str:
    """0.4234 → "42.3%" (``digits`` after the point); a dash for no value."""
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def interval(rate: Rate) -> str:
    """ "38–44%": the 95% Wilson interval, or a dash when there is no n. Word
    joiners keep it on one line."""
    bounds = rate.interval
    return "—" if bounds is None else f"{100 * bounds[0]:.0f}\u2060–\u2060{100 * bounds[1]:.0f}%"


def ups(value: float | None) -> str:
    """Units per sale, two decimals; a dash for no value."""
    return "—" if value is None else f"{value:.2f}"
