"""Secrets and shifts: PIN and password hashing, the per-device shift token,
and the store-wide settings that control them."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import datetime, timedelta

from cxlog.db import Storage, audit
from cxlog.errors import ValidationError
from cxlog.model import from_utc_text, to_utc_text, utc_now

SHIFT_LENGTH = timedelta(hours=12)
# scrypt cost: ~65 ms per check here — slow enough to make guessing expensive,
# quick enough for one PIN entry per shift.
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}
_PIN = re.compile(r"^[0-9]{4,8}$")

PIN_REQUIRED = "pin_required"
IDLE_MINUTES = "manager_idle_minutes"
DEFAULT_IDLE_MINUTES = 30

ASSOCIATE, MANAGER, OWNER = "associate", "manager", "owner"
ROLES: tuple[str, ...] = (MANAGER, OWNER)  # the roles that sign in with a password
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=5)
MIN_PASSWORD_LENGTH = 8


# (page file, menu title, icon, role needed). Every page is registered with
# st.navigation so a direct URL reaches the page's own sign-in; the menu shows
# only what the session's role may use.
PAGES: tuple[tuple[str, str, str, str], ...] = (
    ("pages/log.py", "Log", "👋", "associate"),
    ("pages/followups.py", "Follow-ups", "📞", "associate"),  # issue #15
    ("pages/dashboard.py", "Dashboard", "📊", "manager"),
    ("pages/huddle.py", "Huddle", "📣", "manager"),  # issue #14
    ("pages/visits.py", "Visits", "🗂️", "manager"),
    ("pages/settings.py", "Settings", "⚙️", "manager"),
    ("pages/export.py", "Export", "⬇️", "owner"),
)


def menu(role: str | None) -> list[str]:
    """The page titles the navigation shows for a role, sign-in/out last."""
    titles = [title for _, title, _, needed in PAGES if allows(role, needed)]
    return [*titles, "Sign out" if role else "Manager sign-in"]


def allows(role: str | None, needed: str) -> bool:
    """Owner may do everything a manager may; a manager what an associate may."""
    rank = {None: 0, ASSOCIATE: 0, MANAGER: 1, OWNER: 2}
    return rank.get(role, 0) >= rank[needed]


def hash_secret(secret: str) -> str:
    """A salted scrypt hash, self-describing: scrypt$n$r$p$salt$hash."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        secret.encode(), salt=salt, maxmem=64 * 1024 * 1024, dklen=32, **_SCRYPT
    )
    return "scrypt${n}${r}${p}${salt}${digest}".format(
        salt=salt.hex(), digest=digest.hex(), **_SCRYPT
    )


def verify_secret(secret: str, stored: str | None) -> bool:
    """Constant-time comparison against a stored hash; False for anything malformed."""
    if not stored or not isinstance(secret, str):
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(
            secret.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 * 1024 * 1024,
            dklen=32,
        )
    except (ValueError, UnicodeEncodeError):
        return False
    return hmac.compare_digest(candidate, bytes.fromhex(digest))


def check_pin(pin: str) -> str:
    if not isinstance(pin, str) or not _PIN.match(pin):
        raise ValidationError("A PIN is 4 to 8 digits.")
    return pin


# --- settings -----------------------------------------------------------------


def get_setting(storage: Storage, key: str, default: str | None = None) -> str | None:
    with storage.read() as db:
        rows = list(db.query("SELECT value FROM settings WHERE key = ?", [key]))
    return rows[0]["value"] if rows else default


def set_setting(storage: Storage, key: str, value: str, *, actor: str) -> None:
    with storage.write() as db:
        rows = list(db.query("SELECT value FROM settings WHERE key = ?", [key]))
        before = rows[0]["value"] if rows else None
        db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )
        audit(db, actor, "setting", "settings", key, before={key: before}, after={key: value})


def pin_required(storage: Storage) -> bool:
    return get_setting(storage, PIN_REQUIRED, "0") == "1"


# --- shifts -------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_shift(storage: Storage, associate_id: int, *, now: datetime | None = None) -> str:
    """Open a shift for an associate on this device; returns the token for the URL."""
    now = now or utc_now()
    token = secrets.token_urlsafe(18)
    with storage.write() as db:
        rows = list(db.query("SELECT active FROM associates WHERE id = ?", [associate_id]))
        if not rows or not rows[0]["active"]:
            raise ValidationError("That associate cannot log visits; ask a manager.")
        db.execute(
            "INSERT INTO shifts (token_hash, associate_id, started_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            [_token_hash(token), associate_id, to_utc_text(now), to_utc_text(now + SHIFT_LENGTH)],
        )
        audit(db, f"associate:{associate_id}", "start_shift", "associate", associate_id)
    return token


def shift_associate(storage: Storage, token: object, *, now: datetime | None = None) -> dict | None:
    """The active associate a shift token belongs to, or None (expired, ended, bad)."""
    if not isinstance(token, str) or not 8 <= len(token) <= 64:
        return None
    now_text = to_utc_text(now or utc_now())
    with storage.read() as db:
        rows = list(
            db.query(
                "SELECT a.id, a.store_id, a.name, s.name AS store_name, s.timezone"
                " FROM shifts sh JOIN associates a ON a.id = sh.associate_id"
                " JOIN stores s ON s.id = a.store_id"
                " WHERE sh.token_hash = ? AND sh.ended_at IS NULL AND sh.expires_at > ?"
                " AND a.active = 1",
                [_token_hash(token), now_text],
            )
        )
    return rows[0] if rows else None


def end_shift(storage: Storage, token: str) -> None:
    with storage.write() as db:
        db.execute(
            "UPDATE shifts SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
            [to_utc_text(utc_now()), _token_hash(token)],
        )


# --- manager and owner passwords ----------------------------------------------


def _password_key(role: str) -> str:
    if role not in ROLES:
        raise ValidationError(f"Unknown role {role!r}.")
    return f"password_hash:{role}"


def check_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > 200:
        raise ValidationError("A password can be at most 200 characters long.")
    if "\x00" in password:
        raise ValidationError("A password cannot contain a NUL character.")
    if any(unicodedata.category(ch) == "Cs" for ch in password):
        raise ValidationError("The password contains a character that cannot be stored.")
    return password


def set_password(storage: Storage, role: str, password: str, *, actor: str) -> None:
    key = _password_key(role)
    hashed = hash_secret(check_password(password))
    with storage.write() as db:
        db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, hashed],
        )
        # Never the hash itself in the audit trail.
        audit(db, actor, "set_password", "settings", role)


def has_password(storage: Storage, role: str) -> bool:
    return get_setting(storage, _password_key(role)) is not None


def first_run(storage: Storage) -> bool:
    """True until the owner has set a password: nothing else is shown before."""
    return not has_password(storage, OWNER)


def locked_until(storage: Storage, role: str, *, now: datetime | None = None) -> datetime | None:
    now = now or utc_now()
    with storage.read() as db:
        rows = list(db.query("SELECT locked_until FROM sign_in_failures WHERE role = ?", [role]))
    if rows and rows[0]["locked_until"]:
        until = from_utc_text(rows[0]["locked_until"])
        if until > now:
            return until
    return None


def sign_in(storage: Storage, role: str, password: object, *, now: datetime | None = None) -> None:
    """Check a role's password; raises ValidationError with the reason if refused.

    Five wrong tries lock the role out on this server for five minutes.
    """
    _check_with_lockout(
        storage,
        role,
        role,
        password,
        get_setting(storage, _password_key(role)),
        now=now or utc_now(),
    )


def check_associate_pin(
    storage: Storage, associate_id: int, pin: object, *, now: datetime | None = None
) -> None:
    """An associate's PIN, with the same 5-tries / 5-minutes lockout per associate."""
    with storage.read() as db:
        rows = list(db.query("SELECT name, pin_hash FROM associates WHERE id = ?", [associate_id]))
    if not rows:
        raise ValidationError("That associate does not exist.")
    if rows[0]["pin_hash"] is None:
        raise ValidationError(f"No PIN is set for {rows[0]['name']} yet; ask a manager.")
    _check_with_lockout(
        storage, f"associate:{associate_id}", "PIN", pin, rows[0]["pin_hash"], now=now or utc_now()
    )


def _check_with_lockout(
    storage: Storage, who: str, what: str, secret: object, stored: str | None, *, now: datetime
) -> None:
    until = locked_until(storage, who, now=now)
    if until is not None:
        minutes = max(1, round((until - now).total_seconds() / 60))
        raise ValidationError(
            f"Too many wrong tries: {what} sign-in is locked for {minutes} more minute"
            f"{'s' if minutes != 1 else ''}."
        )
    if isinstance(secret, str) and verify_secret(secret, stored):
        with storage.write() as db:
            db.execute("DELETE FROM sign_in_failures WHERE role = ?", [who])
            audit(db, who, "sign_in", "settings", who)
        return
    with storage.write() as db:
        rows = list(
            db.query("SELECT failures, locked_until FROM sign_in_failures WHERE role = ?", [who])
        )
        failures = 1
        if rows and not rows[0]["locked_until"]:
            failures = rows[0]["failures"] + 1
        lock = to_utc_text(now + LOCKOUT) if failures >= MAX_FAILURES else None
        db.execute(
            "INSERT INTO sign_in_failures (role, failures, locked_until) VALUES (?, ?, ?)"
            " ON CONFLICT (role) DO UPDATE SET failures = excluded.failures,"
            " locked_until = excluded.locked_until",
            [who, failures, lock],
        )
        audit(db, "unknown", "sign_in_failed", "settings", who, after={"failures": failures})
    if lock:
        raise ValidationError(f"Too many wrong tries: {what} sign-in is locked for 5 minutes.")
    left = MAX_FAILURES - failures
    raise ValidationError(
        f"That {'password' if what != 'PIN' else 'PIN'} is not right. {left} more "
        f"tr{'ies' if left != 1 else 'y'} before a 5-minute lock."
    )


def idle_minutes(storage: Storage) -> int:
    value = get_setting(storage, IDLE_MINUTES, str(DEFAULT_IDLE_MINUTES))
    return int(value) if value and value.isdigit() else DEFAULT_IDLE_MINUTES


def set_pin(storage: Storage, associate_id: int, pin: str | None, *, actor: str) -> None:
    """Set (4–8 digits) or clear an associate's PIN; only its hash is stored."""
    from cxlog.catalog import set_associate_pin_hash

    pin_hash = None if pin is None else hash_secret(check_pin(pin))
    set_associate_pin_hash(storage, associate_id, pin_hash, actor=actor)


def set_idle_minutes(storage: Storage, minutes: object, *, actor: str) -> None:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 5 <= minutes <= 480:
        raise ValidationError("The idle time must be a whole number of minutes from 5 to 480.")
    set_setting(storage, IDLE_MINUTES, str(minutes), actor=actor)
