"""Secrets that are handed out and looked up again (session, claim, shift
and download tokens, device ids): the database keeps only their SHA-256, so a
copy of the file signs nobody in. Passwords and PINs are not tokens: they are
salted and stretched (cxlog.access.credentials)."""

from __future__ import annotations

import hashlib


def token_hash(token: str) -> str:
    """The stored form of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()
