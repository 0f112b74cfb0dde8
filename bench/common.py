"""Shared bits of the benchmarks: where data goes and how a result is printed."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


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
