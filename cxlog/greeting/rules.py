"""A store's time-to-greet rules, checked and saved (issue #30).

The value is one JSON setting per store (cxlog/storage/settings.py reads
it). A new standard changes which greetings were on time, so the store's
greet sums are recomputed in the same transaction as the setting.
"""

from __future__ import annotations

from cxlog.core.errors import ValidationError
from cxlog.language import formats
from cxlog.language.words import _
from cxlog.numbers import derived, greet_sums
from cxlog.storage import settings
from cxlog.storage.db import Storage, audit
from cxlog.storage.settings import GreetRules

# Seconds. Among the wait bins' edges (cxlog/numbers/greet_sums.py), so the
# on-time count and every band are sums of whole bins.
STANDARDS = (10, 20, 30, 45, 60, 90, 120)
MIN_LIMIT, MAX_LIMIT = 5, 240  # minutes
MAX_EDGES = 4


def _whole(value: object, low: int, high: int, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(message)
    return value


def check(on: object, standard: object, limit: object, bands: object, goal: object) -> GreetRules:
    """Clean rules from what a manager typed, or ValidationError with a sentence."""
    if standard not in STANDARDS or isinstance(standard, bool):
        raise ValidationError(
            _("The greeting standard is one of {choices} seconds.").format(
                choices=", ".join(formats.number(s) for s in STANDARDS)
            )
        )
    limit = _whole(
        limit,
        MIN_LIMIT,
        MAX_LIMIT,
        _("The waiting limit must be a whole number of minutes from {low} to {high}.").format(
            low=MIN_LIMIT, high=MAX_LIMIT
        ),
    )
    edges = list(bands) if isinstance(bands, list | tuple) else None
    if edges is None or len(edges) > MAX_EDGES:
        raise ValidationError(_("Give at most {n} band edges, in seconds.").format(n=MAX_EDGES))
    last = standard
    for edge in edges:
        if isinstance(edge, bool) or not isinstance(edge, int) or edge <= last:
            raise ValidationError(
                _(
                    "Each band edge must be a whole number of seconds above the one before"
                    " (the first above the standard)."
                )
            )
        if edge not in greet_sums.EDGES:
            raise ValidationError(
                _("A band edge is one of {choices} seconds.").format(
                    choices=", ".join(formats.number(e) for e in greet_sums.EDGES)
                )
            )
        last = edge
    if goal is not None and (
        isinstance(goal, bool) or not isinstance(goal, int | float) or not 0 < goal <= 1
    ):
        raise ValidationError(_("The on-time goal is a share from 1% to 100%."))
    return GreetRules(bool(on), standard, limit, tuple(edges), goal)


def parse_edges(text: str) -> list[int]:
    """Band edges as typed ("120, 300"), or ValidationError."""
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        raise ValidationError(_("Band edges are whole numbers of seconds, separated by commas."))
    return [int(p) for p in parts]


def save(storage: Storage, store_id: int, rules: GreetRules, *, actor: str) -> None:
    """Store a store's rules (checked again here), audited; a new standard
    recomputes the store's greet sums in the same transaction."""
    rules = check(rules.on, rules.standard, rules.limit, list(rules.bands), rules.goal)
    key = settings.store_key(settings.TIME_TO_GREET, store_id)
    with storage.write() as db:
        if not list(db.query("SELECT 1 FROM stores WHERE id = ?", [store_id])):
            raise ValidationError(_("That store does not exist."))
        before = settings.greet_rules_in(db, [store_id])[store_id]
        settings.put_setting(db, key, rules.as_json())
        if before.standard != rules.standard:
            # Which greetings were on time changed: the store's rollups and
            # greet sums are recounted (every other number stays as it was).
            derived.rebuild(db, [store_id])
        audit(
            db,
            actor,
            "setting",
            "settings",
            key,
            before={key: before.as_json()},
            after={key: rules.as_json()},
            store_id=store_id,
        )


def bands(rules: GreetRules) -> list[tuple[int, int | None]]:
    """The wait bands as (first second, last second or None): on time, then
    one band per edge, then longer."""
    out, low = [], 0
    for edge in (rules.standard, *rules.bands):
        out.append((low, edge))
        low = edge + 1
    out.append((low, None))
    return out


def band_label(index: int, low: int, high: int | None) -> str:
    if index == 0:
        return _("On time (≤ {wait})").format(wait=formats.wait(high))
    if high is None:
        return _("Over {wait}").format(wait=formats.wait(low - 1))
    return _("{low} to {high}").format(low=formats.wait(low), high=formats.wait(high))
