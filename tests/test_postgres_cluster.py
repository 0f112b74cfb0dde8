"""The tests' own PostgreSQL (#27, first step): a throwaway cluster started as
an unprivileged user on a Unix socket in pytest's temporary folder, reached
through psycopg, and stopped by its process id."""

from __future__ import annotations

import os

import psycopg
import pytest

from tests.helpers import postgres

pytestmark = pytest.mark.first_pass  # uses both engines itself


@pytest.fixture(scope="module")
def pg(pg_template):
    """The worker's own cluster (tests/conftest.py): one start per worker."""
    running, _ = pg_template
    return running


def test_a_throwaway_cluster_answers_on_its_socket(pg):
    with psycopg.connect(pg.url) as conn:
        version = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()[0]
        user = conn.execute("SELECT current_user").fetchone()[0]
    assert version >= 150000
    assert user == postgres.USER
    assert str(pg.socket) in pg.url and pg.socket.is_relative_to(pg.folder)


def test_it_runs_as_an_unprivileged_user(pg):
    owner = (pg.data / "PG_VERSION").stat().st_uid
    assert owner != 0 if os.geteuid() == 0 else owner == os.geteuid()


def test_it_is_stopped_by_its_process_id(tmp_path):
    with postgres.cluster(tmp_path / "pg") as running:
        pid = running.pid
        os.kill(pid, 0)  # alive
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
