"""Amounts in a store's currency (issue #14).

Amounts are stored as integer cents with no currency; each store names its
currency as an ISO 4217 code (Settings → Coaching). Babel holds the CLDR data
for symbols, digit grouping and each currency's minor units (JPY has none,
BHD three), which no hand-written table here would keep right. Amounts are
written the way the current language writes them (issue #29:
``cxlog.language.words.current()``): "£1,234.50", "€84.26", "¥1,234" in
English, "1.234,50 £" in German, CLDR's own symbols elsewhere ("1 234,50 £GB"
in French). The CSV files keep plain numbers whatever the language
(``rounded``).

A store that has not picked its currency, or a selection of stores whose
currencies differ, shows plain numbers: a sum of pounds and euros has no
honest symbol.
"""

from __future__ import annotations

from collections.abc import Iterable

from babel.numbers import format_currency, format_decimal, get_currency_precision, is_currency

from cxlog.core.errors import ValidationError
from cxlog.language.words import _, current

# Currency codes are checked against this locale's list (every locale knows
# every ISO 4217 code); amounts are written in the current language's.
LOCALE = "en"
# Offered first in Settings; any other ISO 4217 code Babel knows is accepted.
COMMON = ("GBP", "EUR", "USD", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "JPY")


def check_currency(code: object) -> str:
    """An ISO 4217 code in capitals, or ValidationError with a sentence."""
    if not isinstance(code, str) or not code.strip():
        raise ValidationError(_("Pick a currency, such as GBP, EUR or USD."))
    code = code.strip().upper()
    if not is_currency(code, LOCALE):
        raise ValidationError(
            _("{code} is not an ISO 4217 currency code; use one such as GBP, EUR or USD.").format(
                code=repr(code)
            )
        )
    return code


def digits(currency: str | None) -> int:
    """Decimal places the currency uses (2 when no currency is set)."""
    return 2 if currency is None else get_currency_precision(currency)


def rounded(value: float | None, currency: str | None) -> float | None:
    """The amount rounded to the currency's minor unit (for the summary CSV)."""
    return None if value is None else round(value, digits(currency))


def money(value: float | None, currency: str | None) -> str:
    """ "£84.26" ("84,26 £" in German); a dash for no amount; a plain "84.26"
    without a currency."""
    if value is None:
        return "—"
    if currency is None:
        return format_decimal(value, format="#,##0.00", locale=current())
    return format_currency(value, currency, locale=current())


def money_md(value: float | None, currency: str | None) -> str:
    """``money`` for text Streamlit renders as Markdown, where a "$" pair would
    start LaTeX: the dollar sign is escaped."""
    return money(value, currency).replace("$", "\\$")


def shared(codes: Iterable[str | None]) -> str | None:
    """The one currency of several stores, or None when they differ or one is unset."""
    found = set(codes)
    return next(iter(found)) if len(found) == 1 else None
