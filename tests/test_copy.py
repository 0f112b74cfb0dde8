"""Moving between engines: ``python -m cxlog copy`` (#27).

The destination is the test's engine (``storage``: SQLite, or PostgreSQL
under CXLOG_TEST_ENGINE=postgresql); the other side is a store's own SQLite
file. Every CSV cxlog writes must come out of the copy byte for byte as it
came out of the source.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cxlog import demo
from cxlog.cli import main
from cxlog.core.errors import StorageError, ValidationError
from cxlog.coverage import traffic_demo
from cxlog.export import export, followups_csv, summary
from cxlog.export.export import ExportSelection
from cxlog.storage.db import Storage
from cxlog.stores import catalog, moving
from cxlog.visits import visits
from tests.conftest import new_id
from tests.helpers.peek import peek

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
EVERY = ExportSelection(include_voided=True)


def a_store_file(path, *, stores: int = 2, seed: int = 5) -> Storage:
    """A store's SQLite file with every kind of row: visits (open, closed,
    voided), follow-ups and return visits, counter hours and till totals."""
    source = Storage(path)
    demo.generate(
        source, visits=1_500, days=60, stores=stores, associates=2 * stores, seed=seed, now=NOW
    )
    traffic_demo.add(source, seed=seed)
    return source


def files(storage, selection=EVERY) -> tuple[bytes, bytes, bytes]:
    return (
        export.visits_csv(storage, selection),
        summary.summary_csv(storage, selection),
        followups_csv.followups_csv(storage, selection),
    )


def test_a_whole_file_into_an_empty_database_answers_as_it_did(storage, tmp_path):
    source = a_store_file(tmp_path / "store.db")
    moved = moving.copy(source, storage)
    assert moved.whole and moved.stores == {1: 1, 2: 2} and moved.visits == 1_500
    assert files(storage) == files(source)
    assert files(storage)[0].count(b"\r\n") == 1_501
    # Ids came as they were, and new rows follow on from them.
    store_id = catalog.list_stores(storage)[0]["id"]
    ana = catalog.add_associate(storage, store_id, "New Hire", actor="test")
    assert ana == 5
    visits.create_visit(storage, new_id(), store_id, ana, "warm")
    assert peek(storage)["visits"].count == 1_501
    # The copy is in the destination's audit, with where it came from.
    (after,) = peek(storage).execute("SELECT after FROM audit WHERE action = 'copy'").fetchone()
    assert str(source.path) in after


def test_and_back_out_into_a_file_of_its_own(storage, tmp_path):
    source = a_store_file(tmp_path / "store.db")
    moving.copy(source, storage)
    out = Storage(tmp_path / "out.db")
    moving.copy(storage, out)
    assert files(out) == files(source)


def test_one_store_joins_a_database_that_has_others_renumbered(storage, shop, tmp_path):
    source = a_store_file(tmp_path / "store.db")
    before = files(storage)
    moved = moving.copy(source, storage, "Demo Store 2")
    (new_id_of_store,) = moved.stores.values()
    assert not moved.whole and new_id_of_store != shop["store"] and moved.visits > 500
    # The shop already there is as it was, and the newcomer's files are its own.
    shop_only = ExportSelection(store_ids=(shop["store"],), include_voided=True)
    assert files(storage, shop_only)[0] == before[0]
    theirs = files(source, ExportSelection(store_ids=(2,), include_voided=True))
    ours = files(storage, ExportSelection(store_ids=(new_id_of_store,), include_voided=True))
    assert ours[0] == theirs[0]

    def without_ids(followups: bytes) -> list[bytes]:  # follow-up ids are the destination's
        return [line.partition(b",")[2] for line in followups.split(b"\r\n")]

    assert without_ids(ours[2]) == without_ids(theirs[2]) and len(without_ids(ours[2])) > 20
    # Reasons matched by name: no list entry was doubled.
    names = [r["name"] for r in catalog.list_reasons(storage, "reason")]
    assert len(names) == len(set(names))


def test_a_store_that_has_visits_is_not_merged_into_unless_told(storage, tmp_path):
    source = a_store_file(tmp_path / "store.db")
    moving.copy(source, storage, "Demo Store 1")
    before = files(storage)
    with pytest.raises(ValidationError, match=r"already has [0-9,]+ visits\. Add --merge"):
        moving.copy(source, storage, "Demo Store 1")
    assert files(storage) == before
    # A later file of the same store: --merge adds only the visits it lacks.
    later = Storage(tmp_path / "store.db")
    visits.create_visit(later, "late-visit-1", 1, 1, "warm")
    moved = moving.copy(later, storage, "Demo Store 1", merge=True)
    assert (
        moved.visits
        == peek(later).execute("SELECT count(*) FROM visits WHERE store_id = 1").fetchone()[0]
    )
    again = moving.copy(later, storage, "Demo Store 1", merge=True)  # nothing new
    assert again.visits == moved.visits


def test_a_copy_that_does_not_add_up_saves_nothing(storage, tmp_path, monkeypatch):
    source = a_store_file(tmp_path / "store.db")
    real_rebuild = moving.derived.rebuild

    def lose_a_voided_visit_then_rebuild(db, store_ids=None):  # a copy that went wrong
        db.execute(
            "DELETE FROM visits WHERE id = (SELECT min(id) FROM visits"
            " WHERE voided_at IS NULL AND id NOT IN (SELECT visit_id FROM followups)"
            " AND id NOT IN (SELECT visit_id FROM visit_codes)"
            " AND id NOT IN (SELECT visit_id FROM visit_returns)"
            " AND id NOT IN (SELECT original_visit_id FROM visit_returns))"
        )
        return real_rebuild(db, store_ids)

    monkeypatch.setattr(moving.derived, "rebuild", lose_a_voided_visit_then_rebuild)
    with pytest.raises(StorageError, match="does not add up"):
        moving.copy(source, storage)
    assert catalog.list_stores(storage) == []
    assert peek(storage)["visits"].count == 0


def test_the_command_says_what_it_did_and_refuses_in_one_sentence(storage, tmp_path, capsys):
    source = a_store_file(tmp_path / "store.db", stores=1)
    assert main(["copy", "--from", str(source.path), "--to", storage.address]) == 0
    said = capsys.readouterr().out
    assert "Copied 1 store(s) (as it was: 1→1) with 1,500 visits" in said
    assert "rollups rebuilt and checked" in said
    cases = [
        (["--from", str(tmp_path / "none.db")], "There is no database at"),
        (["--from", storage.address], "are the same database"),
        (["--from", str(source.path), "--store", "Nowhere"], "no one store 'Nowhere'"),
    ]
    for args, message in cases:
        assert main(["copy", *args, "--to", storage.address]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
