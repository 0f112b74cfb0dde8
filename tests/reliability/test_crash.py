"""Crash: SIGKILL a logging process at random instants, at least 20 times
(issue #7). Afterwards the database passes PRAGMA integrity_check and every
visit the process confirmed is stored as confirmed, with its audit row:
a write is on disk before anything says it was saved."""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT
from tests.helpers.peek import peek

KILLS = 24  # at least 20 must happen within the budget
BUDGET_S = 45
FIRST_LINE_TIMEOUT_S = 15


def first_confirmation(process: subprocess.Popen, within: float) -> list[str]:
    """Wait (bounded) for the child's first confirmation, so the kill lands
    mid-loop rather than during start-up."""
    ready, _, _ = select.select([process.stdout], [], [], within)
    return [process.stdout.readline()] if ready else []


def kill_at_random(address: str, store_id: int, associate_id: int, round_: int, rng) -> list[str]:
    """Start a child, SIGKILL it by pid at a random instant, return its complete lines."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.reliability.crash_child",
            address,
            str(store_id),
            str(associate_id),
            f"crash{round_:02d}x",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = first_confirmation(process, FIRST_LINE_TIMEOUT_S)
        # Some kills land right after the first write, most mid-stream.
        time.sleep(rng.choice([0, rng.uniform(0, 0.05), rng.uniform(0.05, 0.4)]))
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    lines += process.stdout.readlines()
    error = process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL, f"the child ended by itself: {error[-2000:]}"
    # A line cut short by the kill was never shown whole: only full lines count.
    return [line for line in lines if line.endswith("\n")]


def sound(storage) -> None:
    """SQLite's file passes integrity_check (a PostgreSQL server recovers
    its own: a killed client's open transaction is rolled back)."""
    if storage.engine == "sqlite":
        assert peek(storage).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.on_postgresql
def test_sigkill_at_random_points_loses_no_confirmed_visit(storage, shop):
    rng = random.Random(7)
    started: set[str] = set()
    closed: dict[str, int] = {}
    deadline = time.monotonic() + BUDGET_S
    kills = 0
    for round_ in range(KILLS):
        if time.monotonic() > deadline:
            break
        for line in kill_at_random(storage.address, shop["store"], shop["ana"], round_, rng):
            word, vid, *rest = line.split()
            if word == "started":
                started.add(vid)
            else:
                closed[vid] = int(rest[0])
        kills += 1
        sound(storage)
    assert kills >= 20, f"only {kills} kills within {BUDGET_S} s"

    sound(storage)
    db = peek(storage)
    rows = {r["id"]: r for r in db.query("SELECT * FROM visits")}
    assert started and closed
    assert started - rows.keys() == set()  # every confirmed start is on disk
    assert {vid: (rows[vid]["outcome"], rows[vid]["units"]) for vid in closed} == {
        vid: ("purchased", units) for vid, units in closed.items()
    }
    # Each write is all or nothing: no visit without its audit row, no
    # outcome without the audit of it, even when the kill hit mid-transaction.
    audited = audit_counts(db, "create")
    assert audited == {vid: 1 for vid in rows}
    outcomes = audit_counts(db, "outcome")
    assert outcomes == {vid: 1 for vid, r in rows.items() if r["outcome"] is not None}


def audit_counts(db, action: str) -> dict[str, int]:
    return {
        r["entity_id"]: r["n"]
        for r in db.query(
            "SELECT entity_id, count(*) AS n FROM audit WHERE entity = 'visit' AND action = ?"
            " GROUP BY entity_id",
            [action],
        )
    }
