"""Reading the audit trail: who changed what, and when."""

from __future__ import annotations

import json

from cxlog.storage.db import Storage


def visit_history(storage: Storage, visit_id: str) -> list[dict]:
    """Every recorded change to one visit, oldest first, with before/after as dicts."""
    with storage.read() as db:
        rows = list(
            db.query(
                "SELECT at, actor, action, before, after, undone FROM audit"
                " WHERE entity = 'visit' AND entity_id = ? ORDER BY id",
                [visit_id],
            )
        )
    for row in rows:
        row["before"] = json.loads(row["before"]) if row["before"] else {}
        row["after"] = json.loads(row["after"]) if row["after"] else {}
    return rows
