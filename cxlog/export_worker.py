"""A helper process of a large export: builds chunks of visits CSV lines (#6).

SQLite formatting is CPU-bound and one connection uses one core. Threads do
not help: two connections in one process ran no faster than one (SQLite's
global allocator mutex), while two processes ran in half the time. So a large
CLI export starts ``python -m cxlog.export_worker`` processes — fresh ones,
never forked (an SQLite connection must not cross a fork) — that import only
cxlog.csvlines, and hands each every other chunk.

The conversation, over stdin/stdout, one pickled message each way at a time:
  parent → {"path", "timeout"}         worker → ("connected",)
  parent → "begin"                     worker → ("begun",)  (snapshot taken)
  parent → (lookups, include_voided, chunk size)
  parent → start rowid …               worker → ("chunk", count), then the lines raw
  parent → None                        worker exits
Any failure is sent as ("error", sentence) and the worker exits. The lines
travel as raw bytes, not pickled: no extra copy of a chunk on either side.
"""

from __future__ import annotations

import contextlib
import pickle
import sqlite3
import struct
import sys
from typing import BinaryIO

from cxlog import csvlines

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
        sql = csvlines.chunk_sql(include_voided, lookups.radix)
        while (start := receive(inbox)) is not None:
            lines, count = csvlines.read_chunk(conn, sql, start, size)
            send(outbox, ("chunk", count))
            send_raw(outbox, lines)
    finally:
        conn.close()


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
