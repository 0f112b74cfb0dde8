"""Released migrations are frozen (#26): an old file upgrades with the SQL each
migration was released with, never today's domain code, and ends with the
schema a new file gets; what a migration once filled from the visits
(rollups, coverage sums, local times) is rebuilt by today's code afterwards,
exactly."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cxlog.numbers import derived
from cxlog.storage import migrations
from cxlog.storage.db import Storage
from cxlog.storage.engine import SqliteDatabase

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
FIRST_RELEASE = "made_by_first_release_4894b6c.sqlite3"
BEFORE_ROLLUPS = "made_by_main_ab5c5ae.sqlite3"
TODAY_S_MAIN = "made_by_main_bab1199.sqlite3"
# What upgrading a file may import of cxlog: the storage layer and the model.
STORAGE_ONLY = {
    "cxlog",
    "cxlog.core",
    "cxlog.core.errors",
    "cxlog.core.model",
    "cxlog.language",
    "cxlog.language.words",
    "cxlog.storage",
    "cxlog.storage.addresses",
    "cxlog.storage.db",
    "cxlog.storage.dialect",
    "cxlog.storage.engine",
    "cxlog.storage.postgres",
    "cxlog.storage.postgres_schema",
    "cxlog.storage.migrations",
}


def _schema(path: Path) -> set[tuple]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master"
            " WHERE name NOT LIKE 'sqlite_%' AND name != ?",
            [migrations.STALE_TABLE],
        ).fetchall()
    finally:
        conn.close()
    return set(rows)


def _upgrade_with_storage_alone(path: Path) -> tuple[set[str], str]:
    code = (
        "import sys\n"
        "from cxlog.storage.db import Storage\n"
        "from cxlog.core.errors import StorageError\n"
        "try:\n"
        f"    Storage({str(path)!r}).migrate()\n"
        "    said = 'migrated'\n"
        "except StorageError as exc:\n"
        "    said = str(exc)\n"
        "print(sorted(m for m in sys.modules if m.startswith('cxlog')))\n"
        "print(said)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    loaded, said = done.stdout.strip().splitlines()[-2:]
    return set(eval(loaded)), said  # a printed list of module names


@pytest.mark.parametrize("fixture", [FIRST_RELEASE, BEFORE_ROLLUPS, TODAY_S_MAIN])
def test_an_old_file_upgrades_on_frozen_sql_then_today_s_code_rebuilds_it(tmp_path, fixture):
    path = tmp_path / "cxlog.db"
    shutil.copy(FIXTURES / fixture, path)
    new = tmp_path / "new.db"
    Storage(new).migrate()

    loaded, said = _upgrade_with_storage_alone(path)
    assert loaded <= STORAGE_ONLY, loaded - STORAGE_ONLY
    assert _schema(path) == _schema(new)  # every migration ran, on its own SQL
    stale = migrations.stale(SqliteDatabase(sqlite3.connect(path)))
    if fixture == TODAY_S_MAIN:
        # Its rollups, sums and local times were kept by the code that wrote it.
        assert said == "migrated" and stale == []
    else:
        assert stale == [migrations.ROLLUPS, migrations.LOCAL_TIMES, migrations.COVERAGE]
        assert "rollup --rebuild" in said  # the storage layer alone cannot rebuild them

    storage = Storage(path)
    storage.migrate()  # this process knows cxlog.numbers.derived: the stale tables are rebuilt
    with storage.write() as db:
        assert migrations.stale(db) == []
        assert db.execute("SELECT count(*) FROM visits").fetchone()[0] == 40
        assert db.execute("SELECT count(*) FROM rollups").fetchone()[0] > 0
        assert db.execute(
            "SELECT count(*) FROM visits WHERE started_local IS NULL"
            " OR (closed_at IS NULL) != (closed_local IS NULL)"
        ).fetchone() == (0,)
        found = derived.rebuild(db)
    corrected = {name: r.corrected for name, r in found.items()}
    assert corrected == {"rollups": 0, "coverage": 0, "greet": 0}
