"""`make bench`: every benchmark, one after the other, each printing BENCH lines.

Each benchmark runs in a Python process of its own: a benchmark that loaded a
large dataset must not inflate the next one's figures (a child forked from a
600 MB parent reports the parent's pages in its ru_maxrss: the export's peak
RSS read 245 MB after the dashboard benchmark, 164 MB alone).
"""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = [
    "bench.demo_1m",
    "bench.tap_latency",
    "bench.tap_server",
    "bench.dashboard",
    "bench.chain",
    "bench.export_1m",
    "bench.coverage",
    "bench.greet",  # issue #30: time to greet on the dashboard's year
    "bench.coaching",  # issue #14
    "bench.followups",  # issue #15
    "bench.postgres",  # issue #27: PostgreSQL beside SQLite
    "bench.load",  # issue #28: capacity, measured
]


def main(names: list[str]) -> int:
    failed = []
    for name in names or BENCHMARKS:
        module = name if name.startswith("bench.") else f"bench.{name}"
        code = f"import {module} as b; b.run()"
        if subprocess.run([sys.executable, "-c", code], check=False).returncode:
            failed.append(module)
    if failed:
        print(f"bench: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
