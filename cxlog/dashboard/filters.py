"""The dashboard's filters as URL query values, both ways (issue #5).

``?period=last_30&store=2&associate=5&reason=3`` or, for a custom range,
``?period=custom&from=2026-11-01&to=2026-11-15``. A value that is not valid
(mistyped, or a store that no longer exists) falls back to its default with
a sentence saying so; it never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from cxlog.calendar import periods
from cxlog.core.errors import ValidationError
from cxlog.dashboard.dashboard import DashboardFilters
from cxlog.language.words import _

PERIOD, FROM, TO, STORE, ASSOCIATE, REASON = "period", "from", "to", "store", "associate", "reason"
# The store's name in a link of the chain's view (issue #28), there to be
# shown and sorted by: read by no filter, and taken out of the address.
NAME = "name"
KEYS = (PERIOD, FROM, TO, STORE, ASSOCIATE, REASON, NAME)


def _int(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None


def _day(text: str | None) -> date | None:
    try:
        return None if text is None else date.fromisoformat(text)
    except ValueError:
        return None


def from_query(
    params: Mapping[str, str],
    *,
    stores: Mapping[int, str],
    associates: Mapping[int, int],
    reasons: Mapping[int, str],
    today: date | None = None,
) -> tuple[DashboardFilters, list[str]]:
    """The selection a URL asks for, and a note for each value that was set aside.

    ``associates`` maps each associate id to its store id; a custom range is
    cut at ``today`` (the date picker offers no later day)."""
    notes: list[str] = []
    selection = DashboardFilters()
    period = params.get(PERIOD)
    if period is None and (FROM in params or TO in params):
        period = periods.CUSTOM
    if period is not None and period not in periods.PERIODS:
        notes.append(
            _("The link's period {period} is not one we know; showing the default.").format(
                period=repr(period)
            )
        )
    elif period == periods.CUSTOM:
        first, last = _day(params.get(FROM)), _day(params.get(TO))
        try:
            first, last = periods.check_range(first, last)
            if today is not None and first > today:
                raise ValidationError(_("it starts after today."))
            if today is not None and last > today:
                notes.append(_("The link's range ended after today; it now ends today."))
                last = today
            selection = replace(selection, period=period, first=first, last=last)
        except ValidationError as exc:
            notes.append(_("The link's custom range was set aside: {reason}").format(reason=exc))
    elif period is not None:
        selection = replace(selection, period=period)

    store = params.get(STORE)
    if store is not None:
        if _int(store) in stores:
            selection = replace(selection, store_id=_int(store))
        else:
            notes.append(_("The store in the link does not exist; showing all stores."))
    associate = params.get(ASSOCIATE)
    if associate is not None:
        home = associates.get(_int(associate))
        if home is None:
            notes.append(_("The associate in the link does not exist; showing everyone."))
        elif selection.store_id not in (None, home):
            notes.append(_("The associate in the link works at another store; showing everyone."))
        else:
            selection = replace(selection, associate_id=_int(associate))
    reason = params.get(REASON)
    if reason is not None:
        if _int(reason) in reasons:
            selection = replace(selection, reason_id=_int(reason))
        else:
            notes.append(_("The reason for visit in the link does not exist; showing all reasons."))
    return selection, notes


def to_query(selection: DashboardFilters) -> dict[str, str]:
    """The query values for a selection; filters left at "all" are omitted."""
    query = {PERIOD: selection.period}
    if selection.period == periods.CUSTOM:
        query[FROM] = selection.first.isoformat()
        query[TO] = selection.last.isoformat()
    for key, value in (
        (STORE, selection.store_id),
        (ASSOCIATE, selection.associate_id),
        (REASON, selection.reason_id),
    ):
        if value is not None:
            query[key] = str(value)
    return query


def query_changes(current: dict[str, str], selection: DashboardFilters) -> dict[str, str | None]:
    """What to change in the page address so it says ``selection``: a key to
    set to its value, or to remove (None); keys already right are left out,
    so an unchanged selection rewrites nothing."""
    wanted = to_query(selection)
    changes: dict[str, str | None] = {}
    for key in KEYS:
        if key not in wanted:
            if key in current:
                changes[key] = None
        elif current.get(key) != wanted[key]:
            changes[key] = wanted[key]
    return changes
