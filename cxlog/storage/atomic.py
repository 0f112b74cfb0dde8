"""Writing a file all or nothing: beside its target, then renamed into place.

The export, the summary and the backup all promise that a failed or
interrupted run never leaves half a file where a good one was expected, and
never replaces a good one. They all go through ``replacing``: the new file is
made under a hidden ``.NAME.*.partial`` name in the target's folder (a rename
is atomic only within one file system), flushed to disk with ``fsync``, given
its permissions, then renamed over the target. On any failure the partial file
(and SQLite's ``-wal``/``-shm`` beside it, for a backup) is removed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TypeVar

from cxlog.core.errors import ValidationError
from cxlog.language.words import _

T = TypeVar("T")

# Bytes of Python-side buffering for a streamed file: few large writes.
BUFFER = 1 << 20


def check_target(target: Path, what: str = "file") -> Path:
    """The target as a Path, or a sentence saying why it cannot be written."""
    target = Path(target)
    if target.is_dir():
        text = (
            _("{path} is a folder; give a backup file name to write.")
            if what == "backup file"
            else _("{path} is a folder; give a file name to write.")
        )
        raise ValidationError(text.format(path=target))
    if not target.parent.is_dir():
        raise ValidationError(_("The folder {path} does not exist.").format(path=target.parent))
    return target


@contextmanager
def replacing(target: Path, *, mode: int = 0o644, what: str = "file") -> Iterator[Path]:
    """Yield a fresh empty path beside ``target``; when the block ends without
    an error, that file is synced, given ``mode`` and renamed over ``target``.

    An OSError (full disk, no permission) becomes a ValidationError sentence;
    any failure leaves ``target`` as it was and no partial file behind.
    """
    target = check_target(target, what)
    try:
        handle, name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".partial", dir=target.parent
        )
        os.close(handle)
    except OSError as exc:
        raise ValidationError(
            _("Cannot write to {path}: {problem}.").format(path=target.parent, problem=exc.strerror)
        ) from None
    partial = Path(name)
    try:
        yield partial
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(partial, mode)
        os.replace(partial, target)
    except OSError as exc:
        raise ValidationError(
            _("Cannot write {path}: {problem}.").format(path=target, problem=exc.strerror)
        ) from None
    finally:
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)


def write_file(target: Path, write: Callable[[BinaryIO], T], *, mode: int = 0o644) -> T:
    """Stream a file through ``write(out)`` all or nothing; return what it returns."""
    with replacing(target, mode=mode) as partial, open(partial, "wb", buffering=BUFFER) as out:
        result = write(out)
    return result
