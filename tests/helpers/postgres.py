"""The tests' PostgreSQL (#27): the throwaway cluster of
cxlog/storage/local_postgres.py, or a skip where the machine has none. Without
the binaries the tests skip, unless ``CXLOG_REQUIRE_POSTGRES`` is set (CI
sets it), which makes them fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxlog.storage.local_postgres import DATABASE, USER, Cluster, binaries, running

__all__ = ["DATABASE", "USER", "Cluster", "binaries", "cluster", "require"]

REQUIRED = "CXLOG_REQUIRE_POSTGRES"


def require() -> Path:
    """The binaries, or skip (fail when CXLOG_REQUIRE_POSTGRES is set)."""
    bindir = binaries()
    if bindir is None:
        message = "PostgreSQL 15+ server binaries (initdb, pg_ctl) are not installed"
        if os.environ.get(REQUIRED):
            pytest.fail(f"{message}, and {REQUIRED} is set")
        pytest.skip(message)
    return bindir


@contextlib.contextmanager
def own_folder() -> Iterator[Path]:
    """A folder for a cluster outside pytest's temporary folders: a pytest
    session that starts beside this one makes their common root 0700 again,
    and the cluster's user (nobody, as root) then cannot reach its data.
    Removed on the way out."""
    folder = Path(tempfile.mkdtemp(prefix="cxlog-pg-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def cluster(folder: Path) -> Iterator[Cluster]:
    """A started cluster in ``folder``, stopped on the way out."""
    with running(folder, require()) as started:
        yield started
