"""Secrets: PIN and password rules, their salted scrypt hashes, and the
manager and owner passwords with the version that ends older sessions."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import datetime

from cxlog.access import lockout
from cxlog.core.errors import ValidationError
from cxlog.core.model import to_utc_text, utc_now
from cxlog.core.roles import MANAGER, OWNER, ROLES
from cxlog.core.tokens import token_hash
from cxlog.storage.db import Storage, audit
from cxlog.storage.settings import get_setting, put_setting

# scrypt cost: ~65 ms per check here — slow enough to make guessing expensive,
# quick enough for one PIN entry per shift.
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}
_PIN = re.compile(r"^[0-9]{4,8}$")
MIN_PASSWORD_LENGTH = 8


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


def password_key(role: str) -> str:
    if role not in ROLES:
        raise ValidationError(f"Unknown role {role!r}.")
    return f"password_hash:{role}"


def version_key(role: str) -> str:
    return f"credential_version:{role}"


def password_hash(storage: Storage, role: str) -> str | None:
    return get_setting(storage, password_key(role))


def has_password(storage: Storage, role: str) -> bool:
    return password_hash(storage, role) is not None


def first_run(storage: Storage) -> bool:
    """True until the owner has set a password: nothing else is shown before."""
    return not has_password(storage, OWNER)


def credential_version(storage: Storage, role: str) -> int:
    """Bumped by every password change: a session made before it is no longer valid."""
    value = get_setting(storage, version_key(role), "0")
    return int(value) if value and value.isdigit() else 0


def check_role_password(
    storage: Storage,
    role: str,
    password: object,
    *,
    client: str | None,
    device: str | None = None,
    now: datetime | None = None,
) -> None:
    """A manager's or the owner's password at sign-in, throttled per device and
    per role (cxlog/access/lockout.py); raises ValidationError with the reason if
    refused. ``device`` is the browser's device cookie: a device where this
    role signed in before keeps its way in while strangers fail elsewhere,
    and a right password makes it such a device."""
    stored = password_hash(storage, role)
    lockout.checked_attempt(
        storage,
        role,
        role,
        lambda: isinstance(password, str) and verify_secret(password, stored),
        client=client,
        device=device if lockout.known(storage, role, device) else None,
        now=now,
    )
    lockout.remember(storage, role, device, now=now)


def store_password_hash(db, role: str, hashed: str) -> int:
    """Inside the caller's transaction: the new hash and the next credential
    version, which every session of the role made before no longer carries."""
    put_setting(db, password_key(role), hashed)
    rows = list(db.query("SELECT value FROM settings WHERE key = ?", [version_key(role)]))
    version = (int(rows[0]["value"]) if rows and rows[0]["value"].isdigit() else 0) + 1
    put_setting(db, version_key(role), str(version))
    return version


def passwords_set_by(role: str) -> list[str]:
    """Whose password a signed-in role may set: a manager the managers', the
    owner both."""
    return [MANAGER, OWNER] if role == OWNER else [MANAGER]


def set_password(
    storage: Storage, role: str, password: str, *, actor: str, keep_session: str | None = None
) -> None:
    """Change a role's password. Every other session of that role ends now;
    ``keep_session`` (the token of the person making the change, if they hold
    that role) stays signed in."""
    key = password_key(role)
    hashed = hash_secret(check_password(password))
    kept = token_hash(keep_session) if keep_session else ""
    with storage.write() as db:
        version = store_password_hash(db, role, hashed)
        db.execute(
            "UPDATE role_sessions SET ended_at = ? WHERE role = ? AND ended_at IS NULL"
            " AND token_hash != ?",
            [to_utc_text(utc_now()), role, kept],
        )
        db.execute(
            "UPDATE role_sessions SET credential_version = ? WHERE token_hash = ? AND role = ?",
            [version, kept, role],
        )
        # Never the hash itself in the audit trail.
        audit(db, actor, "set_password", "settings", key.split(":")[1])
