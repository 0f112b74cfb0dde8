"""Secrets: PIN and password rules and their salted scrypt hashes (whose
password is whose: cxlog/access/accounts.py)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

from cxlog.core.errors import ValidationError
from cxlog.language import formats
from cxlog.language.words import _

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
        raise ValidationError(_("A PIN is 4 to 8 digits."))
    return pin


def check_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            _("A password needs at least {n} characters.").format(
                n=formats.number(MIN_PASSWORD_LENGTH)
            )
        )
    if len(password) > 200:
        raise ValidationError(_("A password can be at most 200 characters long."))
    if "\x00" in password:
        raise ValidationError(_("A password cannot contain a NUL character."))
    if any(unicodedata.category(ch) == "Cs" for ch in password):
        raise ValidationError(_("The password contains a character that cannot be stored."))
    return password
