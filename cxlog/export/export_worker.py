"""What a helper process of a large export does: build chunks of visits CSV
lines from its own snapshot (#6). The parent's side is cxlog.export.export_pool.

SQLite formatting is CPU-bound and one connection uses one core. Threads do
not help: two connections in one process ran no faster than one (SQLite's
global allocator mutex), while two processes ran in half the time. So a large
CLI export starts helper processes — fresh ones, never forked (an SQLite
connection must not cross a fork) — that import only cxlog.export.csvlines.

Two ways to run one (cxlog.export.export_pool measures both):

``python -m cxlog.export.export_worker`` (``main``/``serve``), our own pool:

The conversation, over stdin/stdout, one pickled message each way at a time:
  parent → {"path", "timeout"}         worker → ("connected",)
  parent → "begin"                     worker → ("begun",)  (snapshot taken)
  parent → (lookups, include_voided, chunk size)
  parent → start rowid …               worker → ("chunk", count), then the lines raw
  parent → None                        worker exits
Any failure is sent as ("error", sentence) and the worker exits. The lines
travel as raw bytes, not pickled: no extra copy of a chunk on either side.

A worker of ``concurrent.futures.ProcessPoolExecutor`` (``pool_*``
functions): one connection per process, opened by the initializer; the
snapshot is taken by a task that waits for the parent's go on a queue, so each
worker takes exactly one; chunk tasks carry the lookups, installed once.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sqlite3
import struct
import sys
from typing import BinaryIO

from cxlog.export import csvlines

_LENGTH = struct.Struct("!Q")


def send(stream: BinaryIO, message: object) -> None:
    send_raw(stream, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def send_raw(stream: BinaryIO, data: bytes) -> None:
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def receive_raw(stream: BinaryIO) -> bytes:
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        raise EOFError
    (length,) = _LENGTH.unpack(header)
    data = stream.read(length)
    if len(data) < length:
        raise EOFError
    return data


def receive(stream: BinaryIO) -> object:
    """The next message; EOFError when the other side has gone."""
    # Only ever our own parent or child on the other end of the pipe.
    return pickle.loads(receive_raw(stream))


def serve(inbox: BinaryIO, outbox: BinaryIO) -> None:
    job = receive(inbox)
    conn = sqlite3.connect(job["path"], timeout=job["timeout"], isolation_level=None)
    try:
        send(outbox, ("connected",))
        if receive(inbox) != "begin":
            return
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM stores").fetchone()  # takes the snapshot
        send(outbox, ("begun",))
        lookups, include_voided, size = receive(inbox)
        csvlines.install(conn, lookups)
        conn.text_factory = bytes
        sql = csvlines.chunk_sql(include_voided, lookups)
        while (start := receive(inbox)) is not None:
            lines, count = csvlines.read_chunk(conn, sql, start, size)
            send(outbox, ("chunk", count))
            send_raw(outbox, lines)
    finally:
        conn.close()


# --- as a worker of concurrent.futures.ProcessPoolExecutor -------------------------

_pool: dict = {}  # this worker's connection, queues and installed lookups


def pool_connect(path: str, timeout: float, ready, go) -> None:
    """The pool's initializer: one connection per worker process, and the
    parent's two queues (cxlog/export/export_pool.py, StandardPool)."""
    _pool["conn"] = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    _pool["ready"], _pool["go"] = ready, go


def pool_ready() -> int:
    """A task that only proves this worker process is up."""
    return os.getpid()


def pool_begin(wait: float) -> int:
    """Take this worker's snapshot, tell the parent, then wait for its go: a
    worker held here cannot take a second begin task."""
    conn = _pool["conn"]
    conn.execute("BEGIN")
    conn.execute("SELECT count(*) FROM stores").fetchone()  # takes the snapshot
    _pool["ready"].put(os.getpid())
    _pool["go"].get(timeout=wait)  # queue.Empty: the parent went away
    return 0


def pool_chunk(
    lookups: csvlines.Lookups, include_voided: bool, start: int, size: int
) -> tuple[bytes, int]:
    conn = _pool["conn"]
    if _pool.get("lookups") != (lookups, include_voided):
        csvlines.install(conn, lookups)
        conn.text_factory = bytes
        _pool["lookups"] = (lookups, include_voided)
        _pool["sql"] = csvlines.chunk_sql(include_voided, lookups)
    return csvlines.read_chunk(conn, _pool["sql"], start, size)


def main() -> int:
    inbox, outbox = sys.stdin.buffer, sys.stdout.buffer
    try:
        serve(inbox, outbox)
    except EOFError:
        return 0  # the parent went away: nothing left to do
    except Exception as exc:  # told to the parent as a sentence, never lost
        with contextlib.suppress(OSError):  # the parent may be gone already
            send(outbox, ("error", f"{type(exc).__name__}: {exc}"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
