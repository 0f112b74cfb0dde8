"""Tables kept exact on every visit write (issue #26): one list, one way in.

Each derived table says how one visit's change moves it (``apply``) and how
to recompute it from what is stored (``rebuild``). The visit write path
calls ``apply`` once per changed visit, inside its transaction; ``python -m
cxlog rollup --rebuild``, bulk loads (demo data, tests) and a store's
timezone change call ``rebuild``, which walks the same list. A new derived
table is one more entry in ``TABLES``: nothing else calls it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from cxlog.calendar import localtimes
from cxlog.core.errors import ValidationError
from cxlog.language.words import _
from cxlog.numbers import coverage_sums, greet_sums, rollups
from cxlog.storage import db, migrations
from cxlog.storage.engine import Database
from cxlog.storage.rebuilt import Rebuilt


@dataclass(frozen=True)
class DerivedTable:
    name: str  # the key of its entry in ``rebuild``'s answer
    title: str  # as ``rollup --rebuild`` reports it
    # (db, store_id, visit before, visit after, store timezone) → rows touched
    apply: Callable[[Database, int, Mapping | None, Mapping | None, str], object]
    # (db, store ids or None for all) → what it fixed
    rebuild: Callable[[Database, Iterable[int] | None], Rebuilt]


TABLES: tuple[DerivedTable, ...] = (
    DerivedTable("rollups", "Rollups", rollups.apply, rollups.rebuild),
    DerivedTable(
        "coverage", "Door-counter coverage sums", coverage_sums.apply, coverage_sums.rebuild
    ),
    DerivedTable("greet", "Time to greet sums", greet_sums.apply, greet_sums.rebuild),
)


def apply(db: Database, before: Mapping | None, after: Mapping | None, timezone: str) -> None:
    """Move every derived table from a visit's old row to its new one (either
    may be None: a new visit, a deleted one), in the caller's transaction.
    ``timezone``: the visit's store's, which the write path has read already."""
    if before is not None and after is not None and before["store_id"] != after["store_id"]:
        raise ValidationError(_("A visit cannot move to another store."))
    store_id = (after or before)["store_id"]
    for table in TABLES:
        table.apply(db, store_id, before, after, timezone)


def rebuild(db: Database, store_ids: Iterable[int] | None = None) -> dict[str, Rebuilt]:
    """Recompute every derived table from the stored rows inside the caller's
    transaction (``store_ids``: only these stores); by table name, what each
    fixed."""
    wanted = None if store_ids is None else [int(s) for s in store_ids]
    return {table.name: table.rebuild(db, wanted) for table in TABLES}


# What rebuilds a table an old file's migration marked stale (cxlog.storage.migrations):
# the derived tables, and the local times written with each visit.
for _table in TABLES:
    db.rebuild_when_stale(_table.name, _table.rebuild)
db.rebuild_when_stale(migrations.LOCAL_TIMES, localtimes.fill)
