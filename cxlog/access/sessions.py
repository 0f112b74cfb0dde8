"""Manager and owner sessions that last across page loads.

A session is a row of ``role_sessions``: only the SHA-256 of its random token
is stored, with its account (cxlog/access/accounts.py), when it started and was
last used, the device it was made on and the account's credential version at
the time. The browser holds the
token in an HttpOnly, SameSite=Strict cookie set by ``POST
/api/v1/sessions/claim`` (cxlog/server/api/sessions.py); the page reads it on each
page load.

The sign-in itself happens in the page (a Streamlit form, so the password never
passes through page JavaScript), which cannot set a cookie. It gets a one-time
*claim* code, valid for a minute, that the browser posts to the route; the
route swaps the session's token for a new one that only the cookie carries
(so a copied Streamlit session id is worth nothing once the page reloads).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cxlog.access import accounts
from cxlog.access.accounts import Account
from cxlog.core.errors import NotFoundError
from cxlog.core.model import from_utc_text, to_utc_text, utc_now
from cxlog.core.roles import OWNER
from cxlog.core.tokens import token_hash
from cxlog.language.words import _
from cxlog.storage.db import Storage, audit
from cxlog.storage.settings import idle_minutes_in, longest_idle_minutes_in

COOKIE = "cxlog_session"
COOKIE_MAX_AGE = 30 * 24 * 3600  # the browser keeps it; the server's idle limit ends it
CLAIM_LIFETIME = timedelta(minutes=1)
# last_seen is written at most this often, not on every rerun of a page.
TOUCH_EVERY = timedelta(seconds=30)


def _plausible(token: object) -> bool:
    return isinstance(token, str) and 20 <= len(token) <= 100


@dataclass(frozen=True)
class Check:
    """What a token is worth now: the account (and its role), or why not
    (``ended`` says idle etc.)."""

    account: Account | None
    session_id: int | None = None
    ended: str | None = None  # "idle" when this check ended it for idling
    idle_minutes: int | None = None  # the idle time that ended it

    @property
    def role(self) -> str | None:
        return self.account.role if self.account else None


def start(
    storage: Storage, account: Account, *, device: str, client: str, now: datetime | None = None
) -> tuple[str, str]:
    """A new session for an account whose password was just checked.
    Returns (token, claim code): the token for this page's own use until the
    cookie arrives, the claim code for the browser to trade for the cookie."""
    now = now or utc_now()
    token, claim = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    with storage.write() as db:
        rows = list(
            db.query(
                "SELECT credential_version FROM accounts WHERE id = ? AND retired_at IS NULL",
                [account.id],
            )
        )
        if not rows:
            raise NotFoundError(_("That account does not exist."))
        db.execute(
            "INSERT INTO role_sessions (token_hash, role, created_at, last_seen_at, device,"
            " client, credential_version, claim_hash, claim_expires_at, account_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                token_hash(token),
                account.role,
                to_utc_text(now),
                to_utc_text(now),
                device[:80],
                client[:60],
                rows[0]["credential_version"],
                token_hash(claim),
                to_utc_text(now + CLAIM_LIFETIME),
                account.id,
            ],
        )
        audit(
            db,
            account.actor,
            "session_start",
            "role_sessions",
            account.id,
            after={"device": device[:80]},
        )
    return token, claim


def claim(storage: Storage, code: object, *, now: datetime | None = None) -> str | None:
    """Trade a one-time claim code for the session's new token (the cookie's);
    None when the code is unknown, used or expired, or the session has ended."""
    if not _plausible(code):
        return None
    now_text = to_utc_text(now or utc_now())
    token = secrets.token_urlsafe(32)
    with storage.write() as db:
        cursor = db.execute(
            "UPDATE role_sessions SET token_hash = ?, claim_hash = NULL, claim_expires_at = NULL"
            " WHERE claim_hash = ? AND claim_expires_at > ? AND ended_at IS NULL",
            [token_hash(token), token_hash(code), now_text],
        )
        if cursor.rowcount != 1:
            return None
    return token


def check(storage: Storage, token: object, *, now: datetime | None = None) -> Check:
    """The account a token holds now. A session past the idle limit, made
    before its account's password changed, or of a retired account, is ended
    here and holds none. The account's role and stores are read on every
    check: a change in Settings reaches its sessions at their next page load."""
    if not _plausible(token):
        return Check(None)
    now = now or utc_now()
    with storage.read() as db:
        rows = list(
            db.query(
                "SELECT s.id, s.last_seen_at, s.credential_version, a.id AS account_id,"
                " a.login, a.role, a.credential_version AS current_version, a.retired_at"
                " FROM role_sessions s JOIN accounts a ON a.id = s.account_id"
                " WHERE s.token_hash = ? AND s.ended_at IS NULL",
                [token_hash(token)],
            )
        )
        row = rows[0] if rows else None
        stores = accounts.scope_of(db, row["account_id"], row["role"]) if row else None
        # Its stores' shortest idle time (#28: a store may set its own).
        idle = idle_minutes_in(db, stores) if row else 0
    if row is None:
        return Check(None)
    last_seen = from_utc_text(row["last_seen_at"])
    if now - last_seen > timedelta(minutes=idle):
        _end(storage, row["id"], now, reason="idle")
        return Check(None, row["id"], ended="idle", idle_minutes=idle)
    if row["retired_at"] or row["credential_version"] != row["current_version"]:
        _end(storage, row["id"], now, reason="password_changed")
        return Check(None, row["id"], ended="password")
    if now - last_seen >= TOUCH_EVERY:
        with storage.write() as db:
            db.execute(
                "UPDATE role_sessions SET last_seen_at = ? WHERE id = ? AND ended_at IS NULL",
                [to_utc_text(now), row["id"]],
            )
    account = Account(row["account_id"], row["login"], row["role"], stores)
    return Check(account, row["id"])


def _end(storage: Storage, session_id: int, now: datetime, *, reason: str, actor: str = "") -> bool:
    with storage.write() as db:
        cursor = db.execute(
            "UPDATE role_sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
            [to_utc_text(now), session_id],
        )
        if cursor.rowcount:
            audit(
                db,
                actor or "system",
                "session_end",
                "role_sessions",
                session_id,
                after={"reason": reason},
            )
    return bool(cursor.rowcount)


def end(storage: Storage, token: object, *, now: datetime | None = None) -> None:
    """Sign out: the session ends on the server, whoever else holds its token."""
    if not _plausible(token):
        return
    with storage.read() as db:
        rows = list(
            db.query(
                "SELECT s.id, a.role, a.login FROM role_sessions s"
                " JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?",
                [token_hash(token)],
            )
        )
    if rows:
        actor = accounts.actor_text(rows[0]["role"], rows[0]["login"])
        _end(storage, rows[0]["id"], now or utc_now(), reason="sign_out", actor=actor)


def _seen(seen_by: Account | None) -> tuple[str, list]:
    """The sessions a signed-in account sees and ends in Settings: the
    owner's everyone's, a manager's their own (``seen_by`` None: all)."""
    if seen_by is None or seen_by.role == OWNER:
        return "", []
    return " AND s.account_id = ?", [seen_by.id]


def end_session(
    storage: Storage, session_id: int, *, actor: str, seen_by: Account | None = None
) -> None:
    """Settings → Access: end one listed session."""
    where, args = _seen(seen_by)
    with storage.read() as db:
        mine = list(
            db.query(f"SELECT 1 FROM role_sessions s WHERE s.id = ?{where}", [session_id, *args])
        )
    if not mine or not _end(
        storage, session_id, utc_now(), reason="ended_in_settings", actor=actor
    ):
        raise NotFoundError(_("That session has already ended."))


def end_all(
    storage: Storage, *, actor: str, except_id: int | None = None, seen_by: Account | None = None
) -> int:
    """Settings → Access, "sign out everywhere": end every session ``seen_by``
    sees (``_seen``) but the one given; returns how many ended."""
    where, args = _seen(seen_by)
    with storage.write() as db:
        cursor = db.execute(
            "UPDATE role_sessions SET ended_at = ? WHERE ended_at IS NULL AND id != ?"
            f" AND id IN (SELECT s.id FROM role_sessions s WHERE 1 = 1{where})",
            [to_utc_text(utc_now()), except_id or -1, *args],
        )
        audit(
            db,
            actor,
            "session_end_all",
            "role_sessions",
            seen_by.id if seen_by and seen_by.role != OWNER else "*",
            after={"ended": cursor.rowcount},
        )
    return cursor.rowcount


def active(
    storage: Storage, *, now: datetime | None = None, seen_by: Account | None = None
) -> list[dict]:
    """Sessions still open and within the idle limit, most recently used
    first, with their account's name (``login``); ``seen_by``: only those
    that account sees (``_seen``)."""
    now = now or utc_now()
    where, args = _seen(seen_by)
    with storage.read() as db:
        # A session past its own (shorter) idle time is ended at its next use.
        oldest = to_utc_text(now - timedelta(minutes=longest_idle_minutes_in(db)))
        return list(
            db.query(
                "SELECT s.id, a.role, a.login, s.created_at, s.last_seen_at, s.device, s.client"
                " FROM role_sessions s JOIN accounts a ON a.id = s.account_id"
                f" WHERE s.ended_at IS NULL AND s.last_seen_at >= ?{where}"
                " ORDER BY s.last_seen_at DESC",
                [oldest, *args],
            )
        )


def device_label(user_agent: str | None) -> str:
    """A short description of a browser ("Chrome on Android") from its User-Agent."""
    ua = user_agent or ""
    system = next(
        (
            name
            for key, name in (
                ("iPad", "iPad"),
                ("iPhone", "iPhone"),
                ("Android", "Android"),
                ("Windows", "Windows"),
                ("Mac OS", "Mac"),
                ("CrOS", "ChromeOS"),
                ("Linux", "Linux"),
            )
            if key in ua
        ),
        "unknown system",
    )
    browser = next(
        (
            name
            for key, name in (
                ("Edg/", "Edge"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Chromium/", "Chromium"),
                ("Safari/", "Safari"),
            )
            if key in ua
        ),
        "a browser",
    )
    return f"{browser} on {system}"
