"""`make bench`: every benchmark, one after the other, each printing BENCH lines."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ["bench.demo_1m", "bench.tap_latency", "bench.dashboard", "bench.export_1m"]


def main(names: list[str]) -> int:
    for name in names or BENCHMARKS:
        importlib.import_module(name if name.startswith("bench.") else f"bench.{name}").run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
