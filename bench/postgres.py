"""PostgreSQL beside SQLite (#27): the chain's engine measured on this
machine, in the same run as the SQLite figures it is compared with.

Targets: ``pg_copy_in_1m_s`` ≤ 60 (``python -m cxlog copy`` of the 1M-visit
SQLite file of ``bench.dashboard`` into an empty PostgreSQL database, rollups
rebuilt and checked); ``pg_dashboard_year_ms`` with
``pg_dashboard_year_ratio_vs_sqlite`` ≤ 1.2 (the Dashboard page's year, as
``bench.dashboard`` measures it, on the copy and on the file, alternating,
medians); ``pg_tap_server_ms_p95`` ≤ 10 with ``pg_tap_server_ratio_vs_sqlite``
(a tap's server-side write: the three taps of a visit on 100,000 demo visits,
rounds alternating between the engines); ``pg_export_ratio_vs_psql_copy`` ≤
1.3 and ``pg_export_peak_rss_mb`` ≤ 200 (``python -m cxlog export`` of every
visit against ``psql -c "\\copy (SELECT …) TO STDOUT CSV"`` of the same
columns, alternating, medians); ``pg_dashboard_chain_year_ms`` ≤ 800 and
``pg_dashboard_chain_peak_rss_mb`` ≤ 300 (``bench.chain``'s 10M visits of
100 stores, copied in once; the median of three fresh processes after one
that warms the server's buffers); ``pg_chain_view_year_ms`` ≤ 500 (issue
#28: the chain's view, the Stores page of the same 100 stores for the last
365 days, ``bench.chain.chain_view``: the median of three fresh processes,
after those year pages). ``python -m bench.postgres chain`` measures the
chain's figures alone.

PostgreSQL is started by the benchmark: a cluster of this machine's
PostgreSQL 15+ server binaries in ``bench/results-pg`` (kept between runs, so
the 10M chain is copied in once), on a Unix socket, durable (fsync on, as a
chain's server; SQLite runs synchronous=FULL), PostgreSQL's default settings
otherwise (shared_buffers 128 MB), stopped by its process id at the end. After
each copy the database is vacuumed and analysed, as autovacuum would soon do
by itself.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
import uuid

from bench.common import RESULTS, ROOT, fresh, report, run_child

# Beside bench/results, not in it: cxlog makes the folder of a database file
# it creates owner-only (0700), and the cluster's user (nobody, when the
# benchmark runs as root) must still reach its data through it.
CLUSTER = RESULTS.parent / "results-pg"
ROUNDS = 3
TAP_ROUNDS, TAP_VISITS = 20, 10
EVERY_DAY = ("--from", "2000-01-01", "--to", "2100-12-31")
CHAIN_MARK = "bench:pg_chain_copied"

# The visits CSV's columns, read the plain way: what psql's \copy writes.
PSQL_COLUMNS = """
SELECT v.id, s.name, v.started_local, v.started_at, a.name, v.first_engagement, r.name,
    v.used_name, v.recommended,
    (v.first_engagement = 'warm')::int + coalesce(r.learned, 0) + v.recommended,
    coalesce(v.outcome, 'open'), n.name, v.units, v.amount_cents / 100.0, v.closed_local,
    c.name, NULL, v.voided_at, v.void_reason
FROM visits v JOIN stores s ON s.id = v.store_id JOIN associates a ON a.id = v.associate_id
LEFT JOIN reasons r ON r.id = v.reason_id LEFT JOIN reasons n ON n.id = v.no_sale_reason_id
LEFT JOIN associates c ON c.id = v.closed_by ORDER BY v.rowid
"""


def _cxlog(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cxlog", *args], check=True, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - started


def _database(cluster, name: str, *, drop: bool = True) -> str:
    import psycopg

    with psycopg.connect(cluster.url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and drop:
            conn.execute(f'DROP DATABASE "{name}"')
        if not exists or drop:
            conn.execute(f'CREATE DATABASE "{name}"')
    return cluster.url.replace("/cxlog?", f"/{name}?")


def _vacuumed(url: str) -> None:
    """What autovacuum does to a table a copy has just filled, done now: left
    to it, it ran during the next measurements and took one of the two
    cores (the export measured 4.6 s instead of 3.1)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        # And the copy's gigabyte of dirty pages written out now: the
        # checkpoint it set off otherwise spreads its writes (and fsyncs)
        # over the next minutes of measurements (one year page read 520 ms
        # in the middle of it, 356 ms in the next run).
        conn.execute("CHECKPOINT")


def _timed_child(command: list[str], out) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one process, from wait4()."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=out, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"{command[:4]} failed ({process.returncode})")
    return seconds, usage.ru_maxrss / 1024


def dashboard_year(sqlite_path, url: str) -> None:
    # One page on each first, as bench.chain's warm-up: both engines' data in
    # memory (the SQLite file in the OS cache, PostgreSQL's buffers).
    run_child("bench.dashboard", "year", sqlite_path)
    run_child("bench.dashboard", "year", url)
    ours, theirs = [], []
    for _ in range(ROUNDS):
        theirs.append(run_child("bench.dashboard", "year", sqlite_path)["year"])
        ours.append(run_child("bench.dashboard", "year", url)["year"])
    pg, lite = statistics.median(ours), statistics.median(theirs)
    report("pg_dashboard_year_ms", pg)
    report("pg_dashboard_year_sqlite_ms", lite)
    report("pg_dashboard_year_ratio_vs_sqlite", pg / lite)


def export_against_psql(cluster, url: str) -> None:
    psql = str(cluster.bindir / "psql")
    database = url.split("/")[3].split("?")[0]
    copy = f"\\copy ({' '.join(PSQL_COLUMNS.split())}) TO STDOUT CSV"
    target = RESULTS / "pg_export.csv"
    ours, theirs, rss = [], [], []
    for _ in range(ROUNDS):
        with open(os.devnull, "wb") as null:
            seconds, _ = _timed_child(
                [
                    psql,
                    "-h",
                    str(cluster.socket),
                    "-p",
                    str(cluster.port),
                    "-U",
                    "nobody",
                    "-d",
                    database,
                    "-q",
                    "-c",
                    copy,
                ],
                null,
            )
            theirs.append(seconds)
            seconds, peak = _timed_child(
                [
                    sys.executable,
                    "-m",
                    "cxlog",
                    "export",
                    "--db",
                    url,
                    *EVERY_DAY,
                    "--include-voided",
                    "-o",
                    str(target),
                ],
                null,
            )
            ours.append(seconds)
            rss.append(peak)
    target.unlink(missing_ok=True)
    report("pg_export_s", statistics.median(ours))
    report("pg_export_psql_copy_s", statistics.median(theirs))
    report("pg_export_ratio_vs_psql_copy", statistics.median(ours) / statistics.median(theirs))
    report("pg_export_peak_rss_mb", max(rss))


def tap_server(cluster) -> None:
    """The three taps of a visit, on each engine in turn, 100,000 demo visits each."""
    from cxlog import demo
    from cxlog.core.model import REASON
    from cxlog.storage.db import Storage
    from cxlog.storage.postgres import PostgresStorage
    from cxlog.stores import catalog
    from cxlog.visits import visits

    engines = {
        "sqlite": Storage(fresh(RESULTS / "pg_tap_server_100k.db")),
        "postgresql": PostgresStorage(_database(cluster, "bench_taps")),
    }
    chosen = {}
    for name, storage in engines.items():
        demo.generate(storage, visits=100_000, days=365, stores=1, associates=6, seed=3)
        storage.keep_open()
        store = catalog.list_stores(storage)[0]["id"]
        associate = catalog.list_associates(storage, store)[0]["id"]
        chosen[name] = (store, associate, catalog.list_reasons(storage, REASON)[0]["id"])
    times: dict[str, list[float]] = {name: [] for name in engines}

    def one_visit(storage, store: int, associate: int, gift: int) -> list[float]:
        vid, actor, taken = uuid.uuid4().hex, f"associate:{associate}", []
        for tap, args, kwargs in (
            (visits.create_visit, (storage, vid, store, associate, "warm"), {}),
            (visits.set_reason, (storage, vid, gift), {"actor": actor}),
            (visits.record_purchase, (storage, vid, 2), {"actor": actor, "amount_cents": 4500}),
        ):
            started = time.perf_counter()
            tap(*args, **kwargs)
            taken.append((time.perf_counter() - started) * 1000)
        return taken

    for _ in range(TAP_ROUNDS):
        for name, storage in engines.items():
            for _ in range(TAP_VISITS):
                times[name].extend(one_visit(storage, *chosen[name]))

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[-1]

    report("pg_tap_server_ms_p95", p95(times["postgresql"]))
    report("pg_tap_server_sqlite_ms_p95", p95(times["sqlite"]))
    report("pg_tap_server_ratio_vs_sqlite", p95(times["postgresql"]) / p95(times["sqlite"]))
    report("pg_tap_server_ms_median", statistics.median(times["postgresql"]))


def chain(cluster) -> None:
    """bench.chain's 10M visits, copied into PostgreSQL once and kept."""
    import psycopg

    from bench import chain as sqlite_chain

    url = _database(cluster, "bench_chain", drop=False)
    with psycopg.connect(url, autocommit=True) as conn:
        ready = (
            conn.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_name = 'settings'"
            ).fetchone()
            and conn.execute("SELECT value FROM settings WHERE key = %s", [CHAIN_MARK]).fetchone()
        )
    if not ready:
        if sqlite_chain._ready() is None:
            subprocess.run([sys.executable, "-m", "bench.chain", "build"], check=True, cwd=ROOT)
        url = _database(cluster, "bench_chain")
        seconds = _cxlog("copy", "--from", str(sqlite_chain.DB), "--to", url)
        _vacuumed(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (%s, %s)", [CHAIN_MARK, f"{seconds:.1f}"]
            )
    # The server as a chain's is after its first minutes: one year page in
    # another process first, so its buffers hold the rollups (a SQLite file
    # is in the OS cache the same way); then the median of three fresh
    # processes, each cold on our side as bench.chain measures SQLite.
    run_child("bench.dashboard", "year", url)
    years = [run_child("bench.dashboard", "year", url) for _ in range(ROUNDS)]
    year = sorted(years, key=lambda y: y["year"])[ROUNDS // 2]
    report("pg_dashboard_chain_year_ms", year["year"])
    report("pg_dashboard_chain_year_data_ms", year["year_data"])
    report("pg_dashboard_chain_peak_rss_mb", max(y["rss"] for y in years))
    # Issue #28: the chain's view of the same year, its buffers as warm.
    view = sqlite_chain.chain_view(url, ROUNDS)
    report("pg_chain_view_year_ms", view["year"])
    report("pg_chain_view_year_data_ms", view["year_data"])
    report("pg_chain_view_peak_rss_mb", view["rss"])


def run(only_chain: bool = False) -> None:
    from bench import dashboard
    from cxlog.storage import local_postgres

    bindir = local_postgres.binaries()
    if bindir is None:
        print("bench.postgres: no PostgreSQL 15+ server binaries here; skipped", flush=True)
        return
    if only_chain:
        with local_postgres.running(CLUSTER, bindir, durable=True) as cluster:
            chain(cluster)
        return
    sqlite_1m = dashboard.prepare()
    with local_postgres.running(CLUSTER, bindir, durable=True) as cluster:
        url = _database(cluster, "bench_1m")
        report("pg_copy_in_1m_s", _cxlog("copy", "--from", str(sqlite_1m), "--to", url))
        _vacuumed(url)
        dashboard_year(sqlite_1m, url)
        export_against_psql(cluster, url)
        tap_server(cluster)
        chain(cluster)
    report("pg_bench_peak_rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


if __name__ == "__main__":
    run(only_chain=sys.argv[1:] == ["chain"])
