"""`python -m cxlog export` of 1,000,000 visits against `sqlite3 -csv` (issue #6).

Targets: ratio to the sqlite3 CLI ≤ 1.5 (issue #12; ≤ 2.0 in #6), peak RSS
≤ 200 MB. Both exports run as fresh subprocesses in the same run, alternating
(A B A B …) so a noisy neighbour hits both; the medians are compared. Every
visit is exported (voided ones included) so both files hold the same
1,000,000 rows.

Since #12 the visits table also holds each visit's local start and close as
text (cxlog/calendar/localtimes.py), and the CLI's ``SELECT *`` writes them too
(~0.2 s more for it). Against the CLI on the columns from before, measured
by hand on 2026-12-05, the ratio was 1.24 where this benchmark said 1.11–1.17.

The helper-process pool is measured the same way, side by side: the same
export with the standard library's ProcessPoolExecutor in place of our own
pool (cxlog.export.export_pool.StandardPool), reported as
``export_pool_ratio_standard_vs_own`` (median over median; above 1 means the
standard pool is slower) and its own seconds and peak RSS. It does not change
the three figures above, which are always the CLI as shipped.

Peak RSS is the whole export: the CLI process and its helper processes
together (their resident sizes summed, polled every 10 ms from /proc), or the
CLI's own wait4() peak if that is higher. Summing counts shared library pages
once per process: an overstatement, never an understatement.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import RESULTS, fresh, report

VISITS = 1_000_000
ROUNDS = 5
SQLITE3 = shutil.which("sqlite3") or "/usr/bin/sqlite3"


def generate(path: Path) -> None:
    fresh(path)
    subprocess.run(
        [
            *(sys.executable, "-m", "cxlog", "demo", "--db", str(path)),
            *("--visits", str(VISITS), "--days", "365", "--stores", "10"),
            *("--associates", "40", "--seed", "6"),
        ],
        check=True,
    )


def tree_rss_kb(pid: int) -> int:
    """Resident kB of a process and all its descendants, now. A child still
    between fork and exec shares its parent's memory: counted once it runs
    its own program."""
    total, pending = 0, [pid]
    try:
        parent_cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return 0  # it has ended
    while pending:
        current = pending.pop()
        try:
            if current == pid or Path(f"/proc/{current}/cmdline").read_bytes() != parent_cmdline:
                for line in Path(f"/proc/{current}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue  # it just ended
    return total


def timed(command: list[str], stdout=subprocess.DEVNULL) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh subprocess and its children."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.01):
            peak[0] = max(peak[0], tree_rss_kb(process.pid))

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        done.set()
        poller.join()
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"{command[:4]} failed: {process.stderr.read().decode()}")
    process.stderr.close()
    return seconds, max(peak[0], usage.ru_maxrss) / 1024  # kilobytes on Linux


def lines(path: Path) -> int:
    count = 0
    with open(path, "rb") as file:
        while block := file.read(1 << 22):
            count += block.count(b"\n")
    return count


def run() -> None:
    db = RESULTS / "export_1m.db"
    ours, theirs = RESULTS / "export_1m.csv", RESULTS / "export_1m_sqlite3.csv"
    if not (db.exists() and os.environ.get("BENCH_REUSE")):
        generate(db)
    export = [
        *(sys.executable, "-m", "cxlog", "export", "--db", str(db)),
        *("--from", "2000-01-01", "--to", "2099-12-31", "--include-voided", "-o", str(ours)),
    ]
    # The same command line with the standard library's pool chosen.
    standard = [
        sys.executable,
        "-c",
        "import sys; from cxlog import cli; from cxlog.export import export_pool;"
        f" export_pool.POOL = export_pool.STANDARD; sys.exit(cli.main({export[3:]!r}))",
    ]
    if not Path(SQLITE3).exists():
        print("bench.export_1m: no sqlite3 CLI (apt-get install sqlite3); ratio not measured")
    ours_s, theirs_s, rss, standard_s, standard_rss = [], [], [], [], []
    try:
        for _ in range(ROUNDS):
            seconds, peak = timed(export)
            ours_s.append(seconds)
            rss.append(peak)
            seconds, peak = timed(standard)
            standard_s.append(seconds)
            standard_rss.append(peak)
            if Path(SQLITE3).exists():
                with open(theirs, "wb") as out:
                    theirs_s.append(
                        timed([SQLITE3, "-csv", str(db), "SELECT * FROM visits"], out)[0]
                    )
        written = lines(ours) - 1
        if written != VISITS:
            raise RuntimeError(f"the export wrote {written:,} rows, not {VISITS:,}")
    finally:
        ours.unlink(missing_ok=True)
        theirs.unlink(missing_ok=True)
    report("export_1m_seconds", statistics.median(ours_s))
    if theirs_s:
        report(
            "export_ratio_vs_sqlite3_cli", statistics.median(ours_s) / statistics.median(theirs_s)
        )
    report("export_peak_rss_mb", max(rss))
    report("export_standard_pool_seconds", statistics.median(standard_s))
    report(
        "export_pool_ratio_standard_vs_own",
        statistics.median(standard_s) / statistics.median(ours_s),
    )
    report("export_standard_pool_peak_rss_mb", max(standard_rss))


if __name__ == "__main__":
    run()
