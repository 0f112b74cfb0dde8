"""`python -m cxlog export` and `backup` for scheduled jobs (issue #6): the
file, and one clear sentence with exit status 2 for every mistake."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cxlog.cli import main
from cxlog.export import export
from cxlog.storage import backup
from tests.conftest import ROOT, log_visit_in, utc


@pytest.fixture
def seeded(storage, shop):
    """One purchase a day, 1–28 November at 10:00 UTC; its ids by day on
    ``storage.by_day``; plus a voided visit on the 5th."""
    storage.by_day = {
        day: log_visit_in(
            storage, shop, utc(f"2026-11-{day:02d}T10:00:00+00:00"), units=1, amount=250
        )
        for day in range(1, 29)
    }
    log_visit_in(storage, shop, utc("2026-11-05T11:00:00+00:00"), units=2, voided=True)
    return storage


def test_export_writes_the_chosen_store_local_days(seeded, tmp_path, capsys):
    out = tmp_path / "nov.csv"
    args = ["export", "--db", seeded.address, "--from", "2026-11-03", "--to", "2026-11-09"]
    assert main([*args, "-o", str(out)]) == 0
    lines = out.read_bytes().decode().split("\r\n")
    assert lines[0].startswith("visit_id,store,started_local,") and lines[-1] == ""
    # By hand: 3–9 November in London (GMT) are the visits of those 7 days, in
    # the order they were logged, without the voided one.
    rows = [line.split(",") for line in lines[1:-1]]
    assert [row[0] for row in rows] == [seeded.by_day[day] for day in range(3, 10)]
    assert [row[2] for row in rows] == [f"2026-11-{d:02d}T10:00:00+00:00" for d in range(3, 10)]
    assert {(row[10], row[12], row[13]) for row in rows} == {("purchased", "1", "2.50")}
    assert "Wrote 7 visits to" in capsys.readouterr().out


def test_export_options(seeded, shop, tmp_path):
    out = tmp_path / "x.csv"
    base = ["export", "--db", seeded.address, "--from", "2026-11-01", "--to", "2026-11-30"]
    assert (
        main([*base, "--store", "Corner Shop", "--include-voided", "--excel", "-o", str(out)]) == 0
    )
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"void_reason" in data
    assert data.count(b"\r\n") == 1 + 29
    assert main([*base, "--store", str(shop["store"]), "--summary", "-o", str(out)]) == 0
    assert out.read_text().startswith("table,group,visits")
    # Issue #29: the summary for a German Excel (";" and decimal commas); the
    # same columns, and without --excel the language changes nothing.
    english = out.read_text()
    assert main([*base, "--summary", "--lang", "de", "-o", str(out)]) == 0
    assert out.read_text() == english
    assert main([*base, "--summary", "--excel", "--lang", "de", "-o", str(out)]) == 0
    german = out.read_text(encoding="utf-8-sig")
    assert german.startswith("table;group;visits")
    assert ";0,8794;" in german and "0.8794" not in german


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--from": "2026-11-31"}, "The --from date must be a date written like 2026-11-01"),
        ({"--to": "yesterday"}, "The --to date must be a date written like 2026-11-01"),
        ({"--from": "2026-12-01"}, "is after the end date"),
        ({"--store": "Nowhere"}, "No store has the id or name 'Nowhere'"),
        ({"-o": "/no/such/folder/x.csv"}, "The folder /no/such/folder does not exist."),
        ({"-o": "/proc/cxlog-export.csv"}, "Cannot write to /proc"),
        ({"-o": "."}, "is a folder"),
    ],
)
def test_export_mistakes_are_one_sentence_and_status_2(seeded, tmp_path, capsys, change, message):
    options = {
        "--db": seeded.address,
        "--from": "2026-11-01",
        "--to": "2026-11-30",
        "-o": str(tmp_path / "x.csv"),
    }
    options.update(change)
    argv = ["export", *[part for pair in options.items() for part in pair]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


def test_a_missing_database_is_reported_not_created(tmp_path, capsys):
    missing = tmp_path / "typo.db"
    argv = ["export", "--db", str(missing), "--from", "2026-11-01", "--to", "2026-11-30"]
    assert main([*argv, "-o", str(tmp_path / "x.csv")]) == 2
    assert main(["backup", "--db", str(missing), "-o", str(tmp_path / "b.db")]) == 2
    err = capsys.readouterr().err
    assert err.count(f"There is no database at {missing}.") == 2
    assert not missing.exists()


def test_a_file_that_is_not_cxlogs_is_reported(tmp_path, capsys):
    other = tmp_path / "other.db"
    other.write_bytes(b"")  # an empty file opens as an empty database
    argv = ["export", "--db", str(other), "--from", "2026-11-01", "--to", "2026-11-30"]
    assert main([*argv, "-o", str(tmp_path / "x.csv")]) == 2
    assert "not a cxlog database" in capsys.readouterr().err


def test_a_failed_export_keeps_the_previous_file(seeded, tmp_path, monkeypatch):
    out = tmp_path / "nightly.csv"
    out.write_text("yesterday's export")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "write_visits", broken)
    argv = ["export", "--db", seeded.address, "--from", "2026-11-01", "--to", "2026-11-30"]
    assert main([*argv, "-o", str(out)]) == 2
    assert out.read_text() == "yesterday's export"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".nightly")] == []


def test_backup_command(seeded, tmp_path, capsys):
    out = tmp_path / "cxlog-backup.db"
    assert main(["backup", "--db", seeded.address, "-o", str(out)]) == 0
    assert backup.integrity_problems(out) == []
    assert "Backed up 29 visits" in capsys.readouterr().out
    assert main(["backup", "--db", seeded.address, "-o", "/no/such/dir/b.db"]) == 2


def test_help_says_dates_are_store_local_and_stores_by_id_or_name():
    result = subprocess.run(
        [sys.executable, "-m", "cxlog", "export", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    text = " ".join(result.stdout.split())
    assert "store's own calendar days" in text and "both inclusive" in text
    assert "store id or exact name" in text
    assert "data-dictionary.md" in text


def test_export_runs_as_a_module_for_cron(seeded, tmp_path):
    out = tmp_path / "cron.csv"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "cxlog", "export", "--db", seeded.address),
            *("--from", "2026-11-01", "--to", "2026-11-02", "-o", str(out)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().count(b"\r\n") == 3


@pytest.mark.parametrize("kind", [[], ["--include-voided", "--excel", "--store", "1"]])
def test_a_visits_export_imports_neither_pandas_nor_sqlite_utils(seeded, tmp_path, kind):
    """Importing them cost a third of a 1M-visit export (docs/stack-facts.md,
    "Export"): the visits export must not pull them in again. (The summary
    reads through cxlog.numbers.metrics, which uses sqlite_utils.)"""
    out = tmp_path / "light.csv"
    args = ["export", "--db", seeded.address, "--from", "2026-11-01", "--to", "2026-11-02"]
    code = (
        "import sys; from cxlog import cli;"
        f" status = cli.main({[*args, *kind, '-o', str(out)]!r});"
        " heavy = sorted({'pandas', 'numpy', 'sqlite_utils', 'streamlit'} & set(sys.modules));"
        " print(status, heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "0 []"
    assert out.stat().st_size > 0
