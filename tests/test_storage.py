import json
import sqlite3
from datetime import timedelta

import pytest
import sqlite_utils

from cxlog import cli
from cxlog.core.errors import NotFoundError, StorageError, ValidationError
from cxlog.core.model import utc_now
from cxlog.followups import followups
from cxlog.storage.db import Storage
from cxlog.stores import catalog
from cxlog.visits import visits
from tests.conftest import new_id
from tests.helpers.peek import peek

TABLES = {
    "arrivals",  # issue #30
    "greet_sums",
    "accounts",  # issue #28
    "account_stores",
    "reasons_hidden",
    "traffic_hours",  # issue #13
    "pos_totals",
    "traffic_settings",
    "coverage_days",  # issue #13: coverage kept pre-summed
    "coverage_months",
    "followups",  # issue #15
    "visit_codes",
    "visit_returns",
    "stores",
    "associates",
    "reasons",
    "visits",
    "audit",
    "settings",
    "shifts",
    "sign_in_failures",
    "device_shifts",
    "taps",
    "device_start_limits",  # unused since #25 (rate_limits)
    "rate_limits",
    "downloads",  # issue #25: one-time download offers
    "known_devices",  # issue #25: devices that signed in before
    "role_sessions",
    "sign_in_throttle",
    "rollups",
    "_sqlite_migrations",
    # issue #14: goals and currency, behaviours, the daily focus
    "store_coaching",
    "behaviours",
    "daily_focus",
}


@pytest.mark.sqlite
def test_migrate_creates_schema_from_empty_file_in_wal_mode(tmp_path):
    storage = Storage(tmp_path / "sub" / "fresh.db")
    storage.migrate()
    db = sqlite_utils.Database(storage.path)
    assert set(db.table_names()) == TABLES
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = [
        r["name"]
        for r in db.query("SELECT name FROM reasons WHERE kind='reason' ORDER BY position")
    ]
    assert names == [
        "Gift",
        "Replace or upgrade",
        "Specific item",
        "Browsing",
        "Service or return",
        "Not learned",
    ]


def test_migrate_again_is_a_no_op(storage):
    db = peek(storage)
    applied = list(db.query("SELECT name, applied_at FROM _sqlite_migrations"))
    reasons = db["reasons"].count
    storage.migrate()
    storage.migrate()
    assert list(db.query("SELECT name, applied_at FROM _sqlite_migrations")) == applied
    assert db["reasons"].count == reasons
    assert [a["name"] for a in applied] == [
        "m001_core_tables",
        "m002_default_lists",
        "m003_shifts",
        "m004_sign_in_failures",
        "m005_dashboard_index",
        "i14_coaching",
        "i10_taps_and_device_shifts",
        "i11_sessions_and_throttle",
        "i12_rollups",
        "i13_traffic_pos",
        "i15_followups",
        "i15_followups_visit_index",
        "i12_followups_carry_their_visit",
        "i12_visits_keep_local_times",
        "i13_coverage_sums",
        "i24_taps_starts_index",
        "i25_rate_limits",
        "i25_downloads",
        "i25_known_devices",
        "i28_accounts",
        "i28_store_lists",
        "i30_time_to_greet",
    ]


def test_create_visit_is_idempotent(storage, shop):
    vid = new_id()
    first, created = visits.create_visit(storage, vid, shop["store"], shop["ana"], "warm")
    again, created_again = visits.create_visit(storage, vid, shop["store"], shop["ana"], "missed")
    assert created is True and created_again is False
    assert again == first and again["first_engagement"] == "warm"
    db = peek(storage)
    assert db["visits"].count == 1
    assert db.execute("SELECT count(*) FROM audit WHERE entity='visit'").fetchone()[0] == 1


def test_create_and_change_write_audit_rows(storage, shop):
    vid = new_id()
    visits.create_visit(storage, vid, shop["store"], shop["ana"], "neutral")
    actor = f"associate:{shop['ana']}"
    visits.set_reason(storage, vid, shop["reasons"]["Gift"], actor=actor)
    visits.set_reason(storage, vid, shop["reasons"]["Gift"], actor=actor)  # repeat: no row
    visits.record_purchase(storage, vid, 2, actor=f"associate:{shop['ben']}", amount_cents=4999)
    rows = list(
        peek(storage).query(
            "SELECT actor, action, before, after FROM audit WHERE entity='visit' ORDER BY id"
        )
    )
    assert [(r["actor"], r["action"]) for r in rows] == [
        (actor, "create"),
        (actor, "reason"),
        (f"associate:{shop['ben']}", "outcome"),
    ]
    assert json.loads(rows[1]["before"]) == {"reason_id": None}
    assert json.loads(rows[1]["after"]) == {"reason_id": shop["reasons"]["Gift"]}
    after = json.loads(rows[2]["after"])
    assert after["outcome"] == "purchased" and after["units"] == 2
    assert after["amount_cents"] == 4999 and after["closed_by"] == shop["ben"]
    visit = visits.get_visit(storage, vid)
    assert visit["closed_by"] == shop["ben"] and visit["closed_at"] is not None


def test_catalog_changes_are_audited(storage, shop):
    catalog.rename_associate(storage, shop["ana"], "Ana María", actor="manager")
    catalog.set_associate_active(storage, shop["ben"], False, actor="manager")
    gift = shop["reasons"]["Gift"]
    catalog.set_reason_active(storage, gift, False, actor="owner")
    rows = list(
        peek(storage).query(
            "SELECT actor, action, entity, entity_id, before, after FROM audit"
            " WHERE actor IN ('manager', 'owner') ORDER BY id"
        )
    )
    assert [(r["actor"], r["action"], r["entity"], r["entity_id"]) for r in rows] == [
        ("manager", "rename", "associate", str(shop["ana"])),
        ("manager", "deactivate", "associate", str(shop["ben"])),
        ("owner", "retire", "reason", str(gift)),
    ]
    assert json.loads(rows[0]["before"]) == {"name": "Ana"}
    assert json.loads(rows[0]["after"]) == {"name": "Ana María"}


def test_create_refuses_bad_engagement_and_inactive_associate(storage, shop):
    with pytest.raises(ValidationError, match="Warm, Neutral or Missed"):
        visits.create_visit(storage, new_id(), shop["store"], shop["ana"], "lukewarm")
    catalog.set_associate_active(storage, shop["ben"], False, actor="manager")
    with pytest.raises(ValidationError, match="deactivated"):
        visits.create_visit(storage, new_id(), shop["store"], shop["ben"], "warm")
    other = catalog.create_store(storage, "Other", "Europe/Paris")
    with pytest.raises(ValidationError, match="does not work at this store"):
        visits.create_visit(storage, new_id(), other, shop["ana"], "warm")
    assert peek(storage)["visits"].count == 0


def _open(storage, shop, engagement="warm"):
    vid = new_id()
    visits.create_visit(storage, vid, shop["store"], shop["ana"], engagement)
    return vid


def test_outcome_rules(storage, shop):
    actor = "associate:1"
    vid = _open(storage, shop)
    for units in (0, 100, None, 2.5):
        with pytest.raises(ValidationError):
            visits.record_purchase(storage, vid, units, actor=actor)
    with pytest.raises(ValidationError, match="cannot be negative"):
        visits.record_purchase(storage, vid, 1, amount_cents=-5, actor=actor)
    with pytest.raises(ValidationError, match="Units are recorded only on a purchase"):
        visits.correct_visit(storage, vid, outcome="no_purchase", units=3, actor="manager")
    with pytest.raises(ValidationError, match="another list"):
        visits.record_no_purchase(
            storage, vid, no_sale_reason_id=shop["reasons"]["Gift"], actor=actor
        )
    with pytest.raises(ValidationError, match="another list"):
        visits.set_reason(storage, vid, shop["no_sale"]["Price"], actor=actor)
    with pytest.raises(NotFoundError):
        visits.set_reason(storage, vid, 9999, actor=actor)
    assert visits.get_visit(storage, vid)["outcome"] is None


def test_retired_reason_cannot_be_tapped_but_stays_on_old_visits(storage, shop):
    gift = shop["reasons"]["Gift"]
    old = _open(storage, shop)
    visits.set_reason(storage, old, gift, actor="associate:1")
    catalog.set_reason_active(storage, gift, False, actor="manager")
    with pytest.raises(ValidationError, match="retired"):
        visits.set_reason(storage, _open(storage, shop), gift, actor="associate:1")
    visits.record_purchase(storage, old, 1, actor="associate:1")  # old visit still closes
    assert visits.get_visit(storage, old)["reason_name"] == "Gift"


def test_no_purchase_then_purchase_clears_no_sale_reason(storage, shop):
    vid = _open(storage, shop)
    visits.record_no_purchase(
        storage, vid, no_sale_reason_id=shop["no_sale"]["Price"], actor="associate:1"
    )
    visit = visits.record_purchase(storage, vid, 3, actor="associate:1")
    assert (visit["outcome"], visit["units"], visit["no_sale_reason_id"]) == ("purchased", 3, None)


def test_reopen_clears_outcome(storage, shop):
    vid = _open(storage, shop)
    visits.record_purchase(storage, vid, 2, amount_cents=100, actor="associate:1")
    visit = visits.reopen_visit(storage, vid, actor="associate:1")
    assert (visit["outcome"], visit["units"], visit["amount_cents"], visit["closed_at"]) == (
        None,
        None,
        None,
        None,
    )
    assert [v["id"] for v in visits.open_visits(storage, shop["store"])] == [vid]


def test_void_keeps_the_row_and_blocks_changes(storage, shop):
    vid = _open(storage, shop)
    with pytest.raises(ValidationError, match="cannot be empty"):
        visits.void_visit(storage, vid, "  ", actor="manager")
    visit = visits.void_visit(storage, vid, "Logged twice", actor="manager")
    assert visit["void_reason"] == "Logged twice" and visit["voided_at"]
    with pytest.raises(ValidationError, match="voided"):
        visits.record_purchase(storage, vid, 1, actor="manager")
    assert visits.open_visits(storage, shop["store"]) == []


def test_open_visits_newest_first(storage, shop):
    now = utc_now()
    ids = []
    for minutes in (30, 10, 20):
        vid = new_id()
        visits.create_visit(
            storage, vid, shop["store"], shop["ana"], "warm", at=now - timedelta(minutes=minutes)
        )
        ids.append(vid)
    assert [v["id"] for v in visits.open_visits(storage, shop["store"])] == [ids[1], ids[2], ids[0]]


@pytest.mark.sqlite
def test_open_visits_read_only_the_open_ones_by_their_partial_index(storage, shop, monkeypatch):
    """Every tablet's board refresh reads the open visits: without the partial
    index SQLite walked the store's whole history (223 ms at 100,000 visits,
    measured in the tap benchmark's database; 1.3 ms with it)."""
    statements = []
    connect = Storage.plain_connection

    def traced(self, **kwargs):
        conn = connect(self, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(Storage, "plain_connection", traced)
    visits.open_visits(storage, shop["store"])
    (select,) = [s for s in statements if s.lstrip().startswith("SELECT")]
    plan = " ".join(
        row[3] for row in sqlite3.connect(storage.path).execute(f"EXPLAIN QUERY PLAN {select}")
    )
    assert "USING INDEX visits_open" in plan, plan


def test_undo_start_voids_and_undo_change_restores(storage, shop):
    actor = f"associate:{shop['ana']}"
    vid = _open(storage, shop)
    assert visits.undo_last(storage, actor)["voided_at"] is not None
    with pytest.raises(ValidationError, match="nothing to undo"):
        visits.undo_last(storage, actor)

    vid = _open(storage, shop)
    visits.record_purchase(storage, vid, 4, actor=actor)
    visit = visits.undo_last(storage, actor)
    assert visit["outcome"] is None and visit["units"] is None and visit["voided_at"] is None


def test_undo_steps_back_per_visit(storage, shop):
    actor = f"associate:{shop['ana']}"
    first, second = _open(storage, shop), _open(storage, shop)
    visits.set_reason(storage, first, shop["reasons"]["Gift"], actor=actor)
    visits.record_no_purchase(storage, first, actor=actor)
    visits.record_no_purchase(
        storage, first, no_sale_reason_id=shop["no_sale"]["Price"], actor=actor
    )
    visits.record_purchase(storage, second, 1, actor=actor)
    # Undo on the first visit leaves the second alone and walks back one step a time.
    visit = visits.undo_last(storage, actor, visit_id=first)
    assert (visit["outcome"], visit["no_sale_reason_id"]) == ("no_purchase", None)
    visit = visits.undo_last(storage, actor, visit_id=first)
    assert (visit["outcome"], visit["reason_id"]) == (None, shop["reasons"]["Gift"])
    assert visits.get_visit(storage, second)["units"] == 1
    assert visits.undoable(storage, actor, visit_id=first)["action"] == "reason"


def test_undo_expires_after_30_seconds(storage, shop):
    actor = f"associate:{shop['ana']}"
    _open(storage, shop)
    later = utc_now() + timedelta(seconds=31)
    assert visits.undoable(storage, actor, now=later) is None
    with pytest.raises(ValidationError, match="nothing to undo"):
        visits.undo_last(storage, actor, now=later)
    assert visits.undoable(storage, actor) is not None


def test_undo_refuses_when_someone_changed_the_visit_since(storage, shop):
    vid = _open(storage, shop)
    visits.set_reason(storage, vid, shop["reasons"]["Gift"], actor="associate:1")
    visits.set_reason(storage, vid, shop["reasons"]["Browsing"], actor="associate:2")
    with pytest.raises(ValidationError, match="changed this visit since"):
        visits.undo_last(storage, "associate:1")


@pytest.mark.sqlite
def test_storage_errors_are_named_and_lose_nothing(storage, shop):
    vid = _open(storage, shop)
    locker = sqlite3.connect(storage.path)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        import cxlog.storage.db as dbmod

        original = dbmod.BUSY_TIMEOUT_MS
        dbmod.BUSY_TIMEOUT_MS = 50
        try:
            with pytest.raises(StorageError, match="busy"):
                visits.record_purchase(storage, vid, 1, actor="associate:1")
        finally:
            dbmod.BUSY_TIMEOUT_MS = original
    finally:
        locker.rollback()
        locker.close()
    visit = visits.record_purchase(storage, vid, 1, actor="associate:1")
    assert visit["units"] == 1


@pytest.mark.sqlite
def test_connections_wait_for_a_busy_database_and_sync_fully(storage):
    with storage.read() as db:
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_missing_folder_is_a_clear_error(tmp_path):
    storage = Storage(tmp_path / "nope" / "x.db")
    with pytest.raises(StorageError, match="cannot be opened"), storage.read() as db:
        db.execute("SELECT 1")


def _count_connections(monkeypatch, storage: Storage) -> list:
    opened = []
    real = Storage.plain_connection

    def counted(self, *, create=False):
        conn = real(self, create=create)
        opened.append(conn)
        return conn

    monkeypatch.setattr(Storage, "plain_connection", counted)
    return opened


@pytest.mark.sqlite
def test_one_connection_serves_every_read_and_write_of_the_block(storage, shop, monkeypatch):
    opened = _count_connections(monkeypatch, storage)
    vid = new_id()
    with storage.one_connection():
        visits.create_visit(storage, vid, shop["store"], shop["ana"], "warm")
        visits.record_purchase(storage, vid, 2, actor="t")
        with storage.one_connection():  # nested: the same one
            assert visits.get_visit(storage, vid)["units"] == 2
    assert len(opened) == 1
    with pytest.raises(sqlite3.ProgrammingError):  # closed when the block ended
        opened[0].execute("SELECT 1")
    # Outside a block: a connection per call, as before.
    visits.get_visit(storage, vid)
    visits.get_visit(storage, vid)
    assert len(opened) == 3


def test_one_connection_rolls_a_failed_write_back_and_goes_on(storage, shop):
    vid = new_id()
    with storage.one_connection():
        with pytest.raises(RuntimeError), storage.write() as db:
            db.execute("UPDATE stores SET name = 'Half written' WHERE id = ?", [shop["store"]])
            raise RuntimeError("a failure half way")
        visits.create_visit(storage, vid, shop["store"], shop["ana"], "warm")
    assert catalog.get_store(storage, shop["store"])["name"] != "Half written"
    assert visits.get_visit(storage, vid)["first_engagement"] == "warm"


@pytest.mark.sqlite
def test_one_connection_is_this_threads_alone(storage, shop, monkeypatch):
    import threading

    opened = _count_connections(monkeypatch, storage)
    seen = {}
    with storage.one_connection():
        mine = storage._pinned()
        worker = threading.Thread(target=lambda: seen.update(other=storage._pinned()))
        worker.start()
        worker.join(timeout=10)
        visits.open_visits(storage, shop["store"])
    assert mine is opened[0] and seen == {"other": None} and len(opened) == 1


@pytest.mark.sqlite
def test_a_kept_connection_serves_this_threads_next_block_while_the_file_is_the_same(
    storage, shop, monkeypatch, tmp_path
):
    """The API's worker threads keep their connection between requests; a
    database moved away is still an error, never a connection to the old
    file or a new empty one (#7, #10)."""
    import threading

    opened = _count_connections(monkeypatch, storage)
    vid = new_id()
    with storage.one_connection(keep=True):
        visits.create_visit(storage, vid, shop["store"], shop["ana"], "warm")
    with storage.one_connection(keep=True):
        assert visits.get_visit(storage, vid)["first_engagement"] == "warm"
    assert len(opened) == 1
    opened[0].execute("SELECT 1")  # still open, for the next block
    # Another thread has its own.
    worker = threading.Thread(target=lambda: storage.one_connection(keep=True).__enter__())
    worker.start()
    worker.join(timeout=10)
    assert len(opened) == 2
    # A write that failed half way leaves nothing open to reuse.
    with pytest.raises(RuntimeError), storage.one_connection(keep=True), storage.write() as db:
        db.execute("UPDATE stores SET name = 'Half written' WHERE id = ?", [shop["store"]])
        raise RuntimeError("a failure half way")
    assert catalog.get_store(storage, shop["store"])["name"] != "Half written"
    # Moved away: an error, not a new empty database.
    storage.path.rename(tmp_path / "moved.db")
    with pytest.raises(StorageError), storage.one_connection(keep=True):
        catalog.get_store(storage, shop["store"])
    assert not storage.path.exists()


@pytest.mark.sqlite
def test_the_follow_up_numbers_read_one_index_range_and_no_visit(storage, shop):
    """The numbers read the follow-ups' covering index in its own order: no
    visit looked up per follow-up, no table lookup, no sort (#12)."""
    params = dict.fromkeys(["store", "lo", "hi", "today", "window", "associate", "reason"], 1)
    plan = " ".join(
        row[3]
        for row in sqlite3.connect(storage.path).execute(
            f"EXPLAIN QUERY PLAN {followups._NUMBERS}", params
        )
    )
    assert "USING COVERING INDEX followups_numbers (store_id=? AND visit_voided=?)" in plan, plan
    assert "visits" not in plan and "TEMP B-TREE" not in plan, plan


def test_a_database_address_is_refused_with_a_sentence_and_makes_nothing(tmp_path, monkeypatch):
    """#27 brings PostgreSQL; until then an address in CXLOG_DB or --db made a
    folder named "postgresql:" with an empty SQLite file in it."""
    monkeypatch.chdir(tmp_path)
    address = "postgresql://cxlog:s3cret@db.example/cxlog"
    with pytest.raises(StorageError, match="not a file") as refused:
        Storage(address)
    assert "s3cret" not in str(refused.value) and "cxlog:***@db.example" in str(refused.value)
    monkeypatch.setenv("CXLOG_DB", address)
    assert cli.main(["migrate"]) == 2
    assert list(tmp_path.iterdir()) == []  # no folder, no file
