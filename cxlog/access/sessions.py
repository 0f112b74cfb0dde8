"""Manager and owner sessions that last across page loads.

A session is a row of ``role_sessions``: only the SHA-256 of its random token
is stored, with the role, when it started and was last used, the device it was
made on and the role's credential version at the time. The browser holds the
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

from cxlog.access.credentials import credential_version
from cxlog.core.errors import NotFoundError
from cxlog.core.model import from_utc_text, to_utc_text, utc_now
from cxlog.core.roles import MANAGER, OWNER, ROLES
from cxlog.core.tokens import token_hash
from cxlog.storage.db import Storage, audit
from cxlog.storage.settings import idle_minutes

COOKIE = "cxlog_session"
COOKIE_MAX_AGE = 30 * 24 * 3600  # the browser keeps it; the server's idle limit ends it
CLAIM_LIFETIME = timedelta(minutes=1)
# last_seen is written at most this often, not on every rerun of a page.
TOUCH_EVERY = timedelta(seconds=30)


def _plausible(token: object) -> bool:
    return isinstance(token, str) and 20 <= len(token) <= 100


@dataclass(frozen=True)
class Check:
    """What a token is worth now: the role, or why not (``ended`` says idle etc.)."""

    role: str | None
    session_id: int | None = None
    ended: str | None = None  # "idle" when this check ended it for idling


def start(
    storage: Storage, role: str, *, device: str, client: str, now: datetime | None = None
) -> tuple[str, str]:
    """A new session for a role whose password was just checked.
    Returns (token, claim code): the token for this page's own use until the
    cookie arrives, the claim code for the browser to trade for the cookie."""
    if role not in ROLES:
        raise NotFoundError(f"Unknown role {role!r}.")
    now = now or utc_now()
    token, claim = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    version = credential_version(storage, role)
    with storage.write() as db:
        db.execute(
            "INSERT INTO role_sessions (token_hash, role, created_at, last_seen_at, device,"
            " client, credential_version, claim_hash, claim_expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                token_hash(token),
                role,
                to_utc_text(now),
                to_utc_text(now),
                device[:80],
                client[:60],
                version,
                token_hash(claim),
                to_utc_text(now + CLAIM_LIFETIME),
            ],
        )
        audit(db, role, "session_start", "role_sessions", role, after={"device": device[:80]})
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
    """The role a token holds now. A session past the idle limit, or made
    before its role's password changed, is ended here and holds none."""
    if not _plausible(token):
        return Check(None)
    now = now or utc_now()
    with storage.read() as db:
        rows = list(
            db.query(
                "SELECT id, role, last_seen_at, credential_version FROM role_sessions"
                " WHERE token_hash = ? AND ended_at IS NULL",
                [token_hash(token)],
            )
        )
    if not rows:
        return Check(None)
    row = rows[0]
    last_seen = from_utc_text(row["last_seen_at"])
    if now - last_seen > timedelta(minutes=idle_minutes(storage)):
        _end(storage, row["id"], now, reason="idle")
        return Check(None, row["id"], ended="idle")
    if row["credential_version"] != credential_version(storage, row["role"]):
        _end(storage, row["id"], now, reason="password_changed")
        return Check(None, row["id"], ended="password")
    if now - last_seen >= TOUCH_EVERY:
        with storage.write() as db:
            db.execute(
                "UPDATE role_sessions SET last_seen_at = ? WHERE id = ? AND ended_at IS NULL",
                [to_utc_text(now), row["id"]],
            )
    return Check(row["role"], row["id"])


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
            db.query("SELECT id, role FROM role_sessions WHERE token_hash = ?", [token_hash(token)])
        )
    if rows:
        _end(storage, rows[0]["id"], now or utc_now(), reason="sign_out", actor=rows[0]["role"])


def roles_seen_by(role: str) -> tuple[str, ...]:
    """Whose sessions a signed-in role sees and ends in Settings: the owner's
    everyone's, a manager's the managers'."""
    return ROLES if role == OWNER else (MANAGER,)


def end_session(storage: Storage, session_id: int, *, actor: str) -> None:
    """Settings → Access: end one listed session."""
    if not _end(storage, session_id, utc_now(), reason="ended_in_settings", actor=actor):
        raise NotFoundError("That session has already ended.")


def end_all(
    storage: Storage, *, actor: str, except_id: int | None = None, seen_by: str | None = None
) -> int:
    """Settings → Access: end every session (``seen_by``: those that role may
    see, ``roles_seen_by``) but the one given; returns how many ended."""
    ended = ROLES if seen_by is None else roles_seen_by(seen_by)
    role = None if set(ended) == set(ROLES) else ended[0]
    with storage.write() as db:
        cursor = db.execute(
            "UPDATE role_sessions SET ended_at = ? WHERE ended_at IS NULL AND id != ?"
            f" AND role IN ({', '.join('?' * len(ended))})",
            [to_utc_text(utc_now()), except_id or -1, *ended],
        )
        audit(
            db,
            actor,
            "session_end_all",
            "role_sessions",
            role or "*",
            after={"ended": cursor.rowcount},
        )
    return cursor.rowcount


def active(
    storage: Storage, *, now: datetime | None = None, seen_by: str | None = None
) -> list[dict]:
    """Sessions still open and within the idle limit, most recently used
    first; ``seen_by``: only those that role may see (``roles_seen_by``)."""
    now = now or utc_now()
    oldest = to_utc_text(now - timedelta(minutes=idle_minutes(storage)))
    with storage.read() as db:
        rows = db.query(
            "SELECT id, role, created_at, last_seen_at, device, client FROM role_sessions"
            " WHERE ended_at IS NULL AND last_seen_at >= ? ORDER BY last_seen_at DESC",
            [oldest],
        )
        shown = ROLES if seen_by is None else roles_seen_by(seen_by)
        return [r for r in rows if r["role"] in shown]


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
