"""Shared bits of the benchmarks: where data goes, how a result is printed,
and how a measurement runs in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def report(name: str, value: float) -> None:
    """One line per measurement, the format issues check: `BENCH <name> <value>`."""
    print(
        f"BENCH {name} {value:.3f}" if isinstance(value, float) else f"BENCH {name} {value}",
        flush=True,
    )


def fresh(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def run_child(module: str, name: str, db: Path | None = None) -> dict:
    """``python -m <module> <name>`` in a new process (with ``CXLOG_DB=db``):
    the JSON its last line prints. A new process measures cold imports and
    its own peak RSS, not this one's."""
    env = {**os.environ, "CXLOG_DB": str(db)} if db is not None else None
    done = subprocess.run(
        [sys.executable, "-m", module, name],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
