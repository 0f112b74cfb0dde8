"""Helper processes for a large export, the parent's side (#6, #16).

A large visits CSV is built in rowid chunks by helper processes, each on its
own core, all reading the same snapshot: the parent holds the write lock for
the few milliseconds it takes them all to begin, so no tablet commits in
between (tablets wait, they do not fail). Chunk i comes back in order.

Two pools with one interface (``begin``, ``prepare``, ``chunks``, ``stop``):

- ``HelperProcesses``: our own, ``python -m cxlog.export.export_worker`` processes
  over pipes; chunks travel as raw bytes.
- ``StandardPool``: ``concurrent.futures.ProcessPoolExecutor`` (spawn); chunks
  travel pickled.

``POOL`` chooses; ``bench/export_1m.py`` measures both side by side
(``export_pool_ratio_standard_vs_own``) and docs/stack-facts.md keeps the
figures that decided it.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import queue
import subprocess
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Protocol

import cxlog
from cxlog.core.errors import StorageError
from cxlog.export import csvlines, export_worker
from cxlog.export.export_worker import receive, receive_raw, send
from cxlog.language.words import _
from cxlog.storage.db import BUSY_TIMEOUT_MS

OWN, STANDARD = "own", "standard"
POOL = OWN  # see the module docstring and docs/stack-facts.md "Export"

# How long a helper may take to start and take its snapshot.
START_SECONDS = 30.0


class Pool(Protocol):
    def __enter__(self) -> Pool: ...
    def __exit__(self, *exc: object) -> None: ...
    def begin(self) -> None: ...
    def prepare(self, lookups: csvlines.Lookups, include_voided: bool, size: int) -> None: ...
    def chunks(self, starts: range) -> Iterator[tuple[bytes, int]]: ...
    def stop(self) -> None: ...


def start(n: int, path: Path, kind: str | None = None) -> Pool:
    """``n`` helper processes connected to the database at ``path``."""
    return (StandardPool if (kind or POOL) == STANDARD else HelperProcesses)(n, path)


def _stopped(process: subprocess.Popen) -> StorageError:
    return StorageError(
        _("An export helper process stopped unexpectedly (exit {code}).").format(
            code=process.poll()
        )
    )


class HelperProcesses:
    """Our own pool: ``python -m cxlog.export.export_worker`` processes, stopped by
    pid on the way out."""

    def __init__(self, n: int, path: Path) -> None:
        # The package's folder first on the path: the helpers import cxlog
        # wherever the export was started from.
        root = str(Path(cxlog.__file__).resolve().parent.parent)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
        }
        self.processes: list[subprocess.Popen] = []
        try:
            for _ in range(n):
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "cxlog.export.export_worker"],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL,
                        env=env,
                    )
                )
            for process in self.processes:
                self._send(process, {"path": str(path), "timeout": BUSY_TIMEOUT_MS / 1000})
            self._expect("connected")
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> HelperProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _reply(self, process: subprocess.Popen) -> tuple:
        try:
            message = receive(process.stdout)
        except EOFError:
            raise _stopped(process) from None
        if message[0] == "error":
            raise StorageError(
                _("The export failed in a helper process ({why}).").format(why=message[1])
            )
        return message

    def _send(self, process: subprocess.Popen, message: object) -> None:
        try:
            send(process.stdin, message)
        except OSError:  # it has stopped: its last words say why, if it left any
            self._reply(process)
            raise StorageError(_("An export helper process stopped unexpectedly.")) from None

    def _raw(self, process: subprocess.Popen) -> bytes:
        try:
            return receive_raw(process.stdout)
        except EOFError:
            raise _stopped(process) from None

    def _expect(self, word: str) -> None:
        for process in self.processes:
            message = self._reply(process)
            if message[0] != word:
                raise StorageError(
                    _("An export helper process answered {word}.").format(word=repr(message[0]))
                )

    def begin(self) -> None:
        for process in self.processes:
            self._send(process, "begin")
        self._expect("begun")

    def prepare(self, lookups: csvlines.Lookups, include_voided: bool, size: int) -> None:
        for process in self.processes:
            self._send(process, (lookups, include_voided, size))

    def chunks(self, starts: range) -> Iterator[tuple[bytes, int]]:
        """Chunk i from helper i mod n, in order; two requests ahead each."""
        n = len(self.processes)
        pending: deque[subprocess.Popen] = deque()
        queue = iter(enumerate(starts))
        for i, start_at in itertools.islice(queue, 2 * n):
            self._send(self.processes[i % n], start_at)
            pending.append(self.processes[i % n])
        while pending:
            process = pending.popleft()
            _, count = self._reply(process)
            lines = self._raw(process)
            following = next(queue, None)
            if following is not None:
                i, start_at = following
                self._send(self.processes[i % n], start_at)
                pending.append(self.processes[i % n])
            yield lines, count

    def stop(self) -> None:
        """Closing both pipes ends a helper: one waiting for work reads the end
        of its input, one writing a chunk nobody will read gets a broken pipe."""
        for process in self.processes:
            for stream in (process.stdin, process.stdout):
                with contextlib.suppress(OSError, ValueError):
                    stream.close()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.processes = []


class StandardPool:
    """The standard library's pool (``ProcessPoolExecutor``, spawned workers)."""

    def __init__(self, n: int, path: Path) -> None:
        context = multiprocessing.get_context("spawn")  # a connection must not cross a fork
        self.n = n
        # A worker that has its snapshot says so on `ready`, then waits for a
        # token on `go`: held there, it cannot take a second begin task. Plain
        # queues, not a multiprocessing Barrier: a Barrier whose wait timed out
        # hung the parent for good in Condition.notify (seen under load).
        self.ready, self.go = context.Queue(), context.Queue()
        self.executor = ProcessPoolExecutor(
            n,
            mp_context=context,
            initializer=export_worker.pool_connect,
            initargs=(str(path), BUSY_TIMEOUT_MS / 1000, self.ready, self.go),
        )
        self.job: tuple[csvlines.Lookups, bool, int] | None = None

    def __enter__(self) -> StandardPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _result(self, future: Future) -> tuple:
        try:
            return future.result(timeout=START_SECONDS * 10)
        except BrokenProcessPool:
            raise StorageError(_("An export helper process stopped unexpectedly.")) from None
        except queue.Empty:
            raise StorageError(_("An export helper process did not begin in time.")) from None
        except Exception as exc:  # a helper's own failure, as a sentence
            raise StorageError(
                _("The export failed in a helper process ({why}).").format(
                    why=f"{type(exc).__name__}: {exc}"
                )
            ) from None

    def begin(self) -> None:
        # Start every worker first (a spawn is a new interpreter: seconds on a
        # busy machine), so the wait below, while the parent holds the write
        # lock, is only for the snapshots.
        started = [self.executor.submit(export_worker.pool_ready) for _ in range(self.n)]
        for future in started:
            self._result(future)
        begun = [
            self.executor.submit(export_worker.pool_begin, START_SECONDS) for _ in range(self.n)
        ]
        try:
            for _ in range(self.n):
                self.ready.get(timeout=START_SECONDS)
        except queue.Empty:
            for future in begun:  # a helper's own failure says more than the timeout
                if future.done():
                    self._result(future)
            raise StorageError(_("An export helper process did not begin in time.")) from None
        finally:
            for _ in range(self.n):  # every waiting helper goes on (or gives up)
                self.go.put(True)
        for future in begun:
            self._result(future)

    def prepare(self, lookups: csvlines.Lookups, include_voided: bool, size: int) -> None:
        self.job = (lookups, include_voided, size)

    def chunks(self, starts: range) -> Iterator[tuple[bytes, int]]:
        """In order; at most two chunks per helper asked for ahead."""
        if self.job is None:
            raise StorageError(_("The export helpers were not prepared."))
        lookups, include_voided, size = self.job

        def ask(start_at: int) -> Future:
            try:
                return self.executor.submit(
                    export_worker.pool_chunk, lookups, include_voided, start_at, size
                )
            except BrokenProcessPool:
                raise StorageError(_("An export helper process stopped unexpectedly.")) from None

        queue = iter(starts)
        pending = deque(ask(start_at) for start_at in itertools.islice(queue, 2 * self.n))
        while pending:
            lines, count = self._result(pending.popleft())
            following = next(queue, None)
            if following is not None:
                pending.append(ask(following))
            yield lines, count

    def stop(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        for q in (self.ready, self.go):
            q.close()
            q.join_thread()
