"""A throwaway PostgreSQL on this machine (#27): a cluster of PostgreSQL 15 or
newer from the machine's server binaries, on a Unix socket in a folder of
its own, stopped by its process id. The tests give each worker one, the
benchmarks start their own, and anyone can try a chain's storage on it.

PostgreSQL refuses to run as root. As root (CI), the cluster belongs to the
unprivileged ``nobody`` and is started through ``runuser``; its folder's
ancestors are opened for traversal only (0711: nobody can list them), which
PostgreSQL needs to reach its data and socket.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

USER = "nobody"
DATABASE = "cxlog"
START_TIMEOUT_S = 60


def binaries() -> Path | None:
    """The newest PostgreSQL server binaries (15 or newer) on this machine."""
    found = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        version = Path(initdb).parent.parent.name
        if version.isdigit() and int(version) >= 15:
            found.append((int(version), Path(initdb).parent))
    if not found and (on_path := shutil.which("initdb")):
        found.append((0, Path(on_path).parent))
    return max(found)[1] if found else None


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", USER, "--", *command] if os.geteuid() == 0 else command


def _open_for_traversal(folder: Path) -> None:
    """Let the cluster's owner reach ``folder`` through its ancestors (x only)."""
    if os.geteuid() != 0:
        return
    for part in [folder, *folder.parents]:
        if part == Path("/"):
            break
        mode = part.stat().st_mode & 0o777
        if not mode & 0o001:
            os.chmod(part, mode | 0o011)


class Cluster:
    """One running cluster; ``url`` is what CXLOG_DB takes."""

    def __init__(self, folder: Path, bindir: Path, *, durable: bool = False) -> None:
        self.folder = folder
        self.bindir = bindir
        self.data = folder / "data"
        self.socket = folder / "socket"
        self.port = 5432
        self.pid: int | None = None
        # Tests need no durability (fsync off: faster); benchmarks keep it, as a
        # chain's server does, so figures compare with SQLite's synchronous=FULL.
        self.durable = durable

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@/{DATABASE}?host={self.socket}&port={self.port}"

    def database(self, name: str, template: str | None = None) -> str:
        """A new database on this cluster, empty or a copy of ``template``
        (a file-level copy: ~0.1 s whatever the schema); returns its URL."""
        # FILE_COPY: a small database copies in 19 ms, against 43 through the WAL.
        copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        import psycopg  # here: a store on SQLite never loads it

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.url.replace(f"/{DATABASE}?", f"/{name}?")

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            _as_owner([str(self.bindir / command[0]), *command[1:]]),
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"{command[0]} failed: {done.stderr or done.stdout}")

    def start(self) -> None:
        """Start the cluster; a folder that already holds one (the
        benchmarks keep theirs between runs) is started as it is."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.socket.mkdir(exist_ok=True)
        _open_for_traversal(self.folder)
        if os.geteuid() == 0:
            shutil.chown(self.folder, USER)
            shutil.chown(self.socket, USER)
        made = not (self.data / "PG_VERSION").exists()
        if made:
            self._run("initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8")
        options = f"-k {self.socket} -c listen_addresses='' -p {self.port}"
        if not self.durable:
            options += " -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "log"),
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "start",
        )
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        if made:
            self._run(
                "createdb", "-h", str(self.socket), "-p", str(self.port), "-U", USER, DATABASE
            )

    def stop(self) -> None:
        """Stop the postmaster by its process id: a fast shutdown (an
        immediate one for a cluster that is not durable: its data is never
        read again, and the checkpoint of a test session's hundreds of
        databases took up to 20 s), then a kill if it has not gone within
        ten seconds."""
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGINT if self.durable else signal.SIGQUIT)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                os.kill(self.pid, 0)
                time.sleep(0.05)
            os.kill(self.pid, signal.SIGKILL)
        self.pid = None


@contextlib.contextmanager
def running(folder: Path, bindir: Path, *, durable: bool = False) -> Iterator[Cluster]:
    """A started cluster in ``folder``, stopped on the way out."""
    started = Cluster(folder, bindir, durable=durable)
    try:
        started.start()
        yield started
    finally:
        started.stop()
