"""Many tablets at once through the public store API (issue #2)."""

import threading

from cxlog.visits import visits
from tests.conftest import new_id
from tests.helpers.peek import peek

THREADS, PER_THREAD = 8, 500


def _run_threads(target, args_per_thread):
    errors: list[BaseException] = []

    def wrapped(*args):
        try:
            target(*args)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=a) for a in args_per_thread]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer thread hung"
    return errors


def test_8_threads_x_500_creations_keep_every_row_and_duplicates_change_nothing(storage, shop):
    ids = [[new_id() for _ in range(PER_THREAD)] for _ in range(THREADS)]
    associates = [shop["ana"], shop["ben"]]

    def create_all(chunk, associate_id):
        for vid in chunk:
            visits.create_visit(storage, vid, shop["store"], associate_id, "warm")

    errors = _run_threads(create_all, [(ids[i], associates[i % 2]) for i in range(THREADS)])
    assert errors == []
    db = peek(storage)
    assert db["visits"].count == THREADS * PER_THREAD

    # 1,000 duplicate creations of ids that exist, from 4 threads at once.
    duplicates = [ids[i][:250] for i in range(4)]
    created_flags: list[bool] = []

    def recreate(chunk):
        for vid in chunk:
            created_flags.append(
                visits.create_visit(storage, vid, shop["store"], shop["ana"], "missed")[1]
            )

    errors = _run_threads(recreate, [(chunk,) for chunk in duplicates])
    assert errors == []
    assert len(created_flags) == 1000 and not any(created_flags)
    assert db["visits"].count == 4000
    assert (
        db.execute("SELECT count(*) FROM visits WHERE first_engagement='missed'").fetchone()[0] == 0
    )
    assert (
        db.execute(
            "SELECT count(*) FROM audit WHERE action='create' AND entity='visit'"
        ).fetchone()[0]
        == 4000
    )
    if storage.engine == "sqlite":  # PostgreSQL has no such check of its own files
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
