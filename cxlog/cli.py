"""`python -m cxlog …`: commands for scheduled jobs and setup.

Errors a person can fix (bad dates, missing files) print one sentence and exit
with status 2; nothing prints a stack trace at them.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from cxlog import demo
from cxlog.db import Storage, default_path
from cxlog.errors import CxlogError


def _positive(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cxlog", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("demo", help="write realistic demo data into a new database")
    p.add_argument("--db", type=Path, default=None, help="database file (default: CXLOG_DB)")
    p.add_argument("--visits", type=_positive, default=20_000)
    p.add_argument("--days", type=_positive, default=90)
    p.add_argument("--stores", type=_positive, default=1)
    p.add_argument("--associates", type=_positive, default=6)
    p.add_argument("--seed", type=int, default=0)

    p = commands.add_parser("migrate", help="create or upgrade the database schema")
    p.add_argument("--db", type=Path, default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    storage = Storage(args.db or default_path())
    try:
        if args.command == "demo":
            started = time.perf_counter()
            result = demo.generate(
                storage,
                visits=args.visits,
                days=args.days,
                stores=args.stores,
                associates=args.associates,
                seed=args.seed,
            )
            print(
                f"{demo.describe(result)} ({time.perf_counter() - started:.1f} s) → {storage.path}"
            )
        elif args.command == "migrate":
            storage.migrate()
            print(f"Schema up to date: {storage.path}")
    except CxlogError as exc:
        print(f"cxlog: {exc}", file=sys.stderr)
        return 2
    return 0
