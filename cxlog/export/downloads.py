"""Exports and backups served once, to the session that asked (issue #25).

The Export page no longer hands files to Streamlit's download button, whose
``/media/…`` address served the file to anyone holding the link, without a
cookie, after sign-out and after the tab closed. Instead "Prepare" records
what was asked for — the kind of file and the choices, never the file — under
a random one-time id, tied to the owner's session, for ``LIFETIME``. The
browser fetches ``GET /api/v1/downloads/<id>`` (cxlog/server/api/downloads.py) with
its session cookie; the file is made then, once, with ``Cache-Control:
no-store``. A used, expired or unknown id, or a request without that live
session, gets a sentence and no file.

Only the id's SHA-256 is stored (like session tokens), and what is kept is in
the database, not in a server process.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cxlog.access import sessions
from cxlog.access.accounts import Account
from cxlog.core import roles, routes
from cxlog.core.errors import CxlogError, NotFoundError
from cxlog.core.model import to_utc_text, utc_now
from cxlog.core.tokens import token_hash
from cxlog.export import export, followups_csv, summary
from cxlog.export.export import ExportSelection
from cxlog.language import words
from cxlog.language.words import _
from cxlog.storage import backup
from cxlog.storage.db import Storage, audit

LIFETIME = timedelta(minutes=1)
ROUTE = routes.api("/downloads")
BACKUP = "backup"
# The CSV files the Export page offers, each made from a selection.
CSV_MAKERS: dict[str, Callable[..., bytes]] = {
    "visits": export.visits_csv,
    "summary": summary.summary_csv,
    "followups": followups_csv.followups_csv,  # issue #15
}


class DownloadRefused(CxlogError):
    """No file: ``status`` is the HTTP status, the message says what to do."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class File:
    name: str
    media_type: str
    data: bytes


def offer(
    storage: Storage,
    session_id: int,
    kind: str,
    file_name: str,
    choices: dict,
    *,
    now: datetime | None = None,
) -> str:
    """Record a file the owner asked for; returns the one-time id for its link."""
    if kind not in CSV_MAKERS and kind != BACKUP:
        raise NotFoundError(_("There is no {kind} download.").format(kind=repr(kind)))
    now = now or utc_now()
    token = secrets.token_urlsafe(24)
    with storage.write() as db:
        db.execute(
            "DELETE FROM downloads WHERE expires_at < ?", [to_utc_text(now - LIFETIME)]
        )  # old offers, used or not, are worth nothing
        db.execute(
            "INSERT INTO downloads (id_hash, session_id, kind, file_name, choices, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                token_hash(token),
                session_id,
                kind,
                file_name,
                json.dumps(choices, sort_keys=True, default=str),
                to_utc_text(now),
                to_utc_text(now + LIFETIME),
            ],
        )
    return token


def csv_choices(selection: ExportSelection, for_excel: bool) -> dict:
    """What a CSV download is made from, as plain JSON. ``lang``: the language
    of the page that asked, which the summary's Excel variant writes its
    numbers for (the file is made later, by the download's own request)."""
    return {
        "first_day": selection.first_day.isoformat() if selection.first_day else None,
        "last_day": selection.last_day.isoformat() if selection.last_day else None,
        "store_ids": list(selection.store_ids),
        "include_voided": selection.include_voided,
        "for_excel": for_excel,
        "lang": words.current(),
    }


def take(
    storage: Storage, token: object, session_token: object, *, now: datetime | None = None
) -> dict:
    """The offer behind ``token``, used up now, if the request carries the live
    session that asked for it and that session's account still sees what it
    holds (a manager: CSV files of their own stores, issue #28; a backup:
    the owner only); else DownloadRefused with a sentence."""
    now = now or utc_now()
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise DownloadRefused(404, _("There is no such download; prepare the file again."))
    check = sessions.check(storage, session_token, now=now)
    account = check.account
    if account is None or not roles.allows(account.role, roles.MANAGER):
        raise DownloadRefused(
            403, _("Downloads need you signed in on this browser; sign in and prepare again.")
        )
    with storage.write() as db:
        rows = db.execute(
            "SELECT kind, file_name, choices, session_id, expires_at FROM downloads"
            " WHERE id_hash = ? AND used_at IS NULL",
            [token_hash(token)],
        ).fetchall()
        if not rows or rows[0][3] != check.session_id:
            raise DownloadRefused(
                404,
                _("This download link was used already or is not yours; prepare the file again."),
            )
        kind, file_name, choices, _session, expires_at = rows[0]
        if not _sees(account, kind, json.loads(choices)):
            raise DownloadRefused(404, _("There is no such download; prepare the file again."))
        if expires_at <= to_utc_text(now):
            raise DownloadRefused(
                410, _("This download link expired after a minute; prepare again.")
            )
        db.execute(
            "UPDATE downloads SET used_at = ? WHERE id_hash = ?",
            [to_utc_text(now), token_hash(token)],
        )
        audit(db, account.actor, "download", "downloads", kind, after={"file": file_name})
    return {"kind": kind, "file_name": file_name, "choices": json.loads(choices)}


def _sees(account: Account, kind: str, choices: dict) -> bool:
    """Whether the account may have this file now: the owner any; a manager a
    CSV of stores all of which are still theirs (never "every store")."""
    if account.role == roles.OWNER:
        return True
    if kind == BACKUP:
        return False
    wanted = choices.get("store_ids") or []
    return bool(wanted) and all(account.sees(s) for s in wanted)


def make(storage: Storage, offer_row: dict) -> File:
    """The file itself, made now from what was asked for."""
    kind, choices = offer_row["kind"], offer_row["choices"]
    if kind == BACKUP:
        data, _taken = backup.backup_bytes(storage)
        return File(offer_row["file_name"], "application/vnd.sqlite3", data)
    selection = ExportSelection(
        first_day=date.fromisoformat(choices["first_day"]) if choices["first_day"] else None,
        last_day=date.fromisoformat(choices["last_day"]) if choices["last_day"] else None,
        store_ids=tuple(choices["store_ids"]),
        include_voided=choices["include_voided"],
    )
    # An offer made before #29 has no "lang": the current language's then.
    with words.using(choices.get("lang") or words.current()):
        data = CSV_MAKERS[kind](storage, selection, for_excel=choices["for_excel"])
    return File(offer_row["file_name"], "text/csv; charset=utf-8", data)
