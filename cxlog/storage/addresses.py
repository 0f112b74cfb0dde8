"""What ``CXLOG_DB`` and ``--db`` name: a SQLite file's path, or a
PostgreSQL server's address (``postgresql://…``, #27)."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from cxlog.core.errors import StorageError
from cxlog.language.words import _

_ADDRESS = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
POSTGRES_SCHEMES = ("postgresql", "postgres")


def is_address(where: str | os.PathLike[str]) -> bool:
    """True for a server's address (``scheme://…``), false for a file path."""
    return bool(_ADDRESS.match(str(where)))


def is_postgres(where: str | os.PathLike[str]) -> bool:
    return is_address(where) and urlsplit(str(where)).scheme in POSTGRES_SCHEMES


def shown(address: str) -> str:
    """An address as a message may show it: any password replaced."""
    parts = urlsplit(address)
    if parts.password is None:
        return address
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def refuse_unknown(where: str) -> None:
    """A server address cxlog cannot open gets a sentence, not a folder
    named after its scheme holding a new, empty SQLite file."""
    if is_address(where) and not is_postgres(where):
        raise StorageError(
            _(
                "{address} is an address cxlog cannot open: give a SQLite file's path or a"
                " PostgreSQL address ({example}) in CXLOG_DB or --db."
            ).format(address=shown(where), example="postgresql://user@host/database")
        )
