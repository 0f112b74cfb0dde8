"""Rate limits kept in the database: token buckets per store and key.

A bucket holds up to ``burst`` tokens and gains one every ``refill``; an
action takes one token from each of its buckets, or is refused with a
sentence saying how long to wait, and takes none. Buckets live in the
``rate_limits`` table, so they hold across restarts and several server
processes (process memory would not).

Issue #25: a limit is keyed by what the server knows — the associate of the
shift, the address the request came from, the store — never by an id the
client chooses (the device id was one: a client without a device cookie got
a fresh bucket on every shift).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cxlog.core.errors import ValidationError
from cxlog.core.model import from_utc_text, to_utc_text, utc_now
from cxlog.language import formats
from cxlog.language.words import _
from cxlog.storage.db import Storage


class RateLimited(ValidationError):
    """An action refused because one of its buckets is empty (HTTP 429)."""


@dataclass(frozen=True)
class Bucket:
    """One limit: its key, size, refill time and the sentence when it is empty
    (``{wait}`` becomes the seconds to wait), marked with ``N_``: it is
    translated when refused, in the language of the request (#29)."""

    key: str
    burst: float
    refill: timedelta
    refusal: str


def take(
    storage: Storage, store_id: int, buckets: list[Bucket], *, now: datetime | None = None
) -> None:
    """One token from each bucket, in one transaction; RateLimited with the
    first empty bucket's sentence (and nothing taken) when one is empty."""
    now = now or utc_now()
    if not buckets:
        return
    with storage.write() as db:
        marks = ",".join("?" * len(buckets))
        stored = {
            row[0]: (row[1], row[2])
            for row in db.execute(
                "SELECT key, tokens, refreshed_at FROM rate_limits"
                f" WHERE store_id = ? AND key IN ({marks})",
                [store_id, *(b.key for b in buckets)],
            ).fetchall()
        }
        levels = []
        for bucket in buckets:
            tokens = bucket.burst
            if bucket.key in stored:
                held, at = stored[bucket.key]
                elapsed = max(0.0, (now - from_utc_text(at)).total_seconds())
                tokens = min(bucket.burst, held + elapsed / bucket.refill.total_seconds())
            if tokens < 1:
                wait = round((1 - tokens) * bucket.refill.total_seconds()) or 1
                raise RateLimited(_(bucket.refusal).format(wait=formats.number(wait)))
            levels.append((bucket.key, tokens - 1))
        db.executemany(
            "INSERT INTO rate_limits (store_id, key, tokens, refreshed_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (store_id, key) DO UPDATE SET tokens = excluded.tokens,"
            " refreshed_at = excluded.refreshed_at",
            [(store_id, key, tokens, to_utc_text(now)) for key, tokens in levels],
        )
