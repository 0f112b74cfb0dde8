"""What a derived table's rebuild reports (issue #26): the shape every entry of
``cxlog.numbers.derived.TABLES`` returns, kept apart so the tables need not import
the list that names them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rebuilt:
    """What one table's rebuild found."""

    rows: int  # rows the table holds for the stores checked, after
    corrected: int  # rows (or hours' sums) that were wrong, missing or extra, now fixed
    by_store: dict[int, int]  # corrected rows per store id (0: stores that no longer exist)
