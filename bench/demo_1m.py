"""Time `python -m cxlog demo` writing 1,000,000 visits (issue #2: target < 60 s)."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.common import RESULTS, fresh, report


def run() -> None:
    path = fresh(RESULTS / "demo_1m.db")
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cxlog",
            "demo",
            "--db",
            str(path),
            "--visits",
            "1000000",
            "--days",
            "365",
            "--stores",
            "10",
            "--associates",
            "40",
            "--seed",
            "1",
        ],
        check=True,
    )
    report("demo_1m_seconds", time.perf_counter() - started)


if __name__ == "__main__":
    run()
