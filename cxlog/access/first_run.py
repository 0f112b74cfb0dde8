"""First run: only the person at the server can claim a new cxlog.

While no owner password exists, a one-time setup code is kept in the settings
table; the server prints it on its console when it starts (cxlog/serve.py) and
``python -m cxlog setup-code`` prints it again. The setup page asks for it. The
claim — store, timezone, owner password, code used up — is one transaction:
two browsers racing end with one owner, the other gets a sentence.
"""

from __future__ import annotations

import hmac
import os
import secrets
from datetime import datetime

from cxlog.access import accounts, lockout
from cxlog.access.accounts import first_run
from cxlog.access.credentials import check_password, hash_secret
from cxlog.core import model
from cxlog.core.errors import ValidationError
from cxlog.core.roles import OWNER
from cxlog.language.words import N_, _
from cxlog.storage.db import Storage, audit
from cxlog.storage.settings import get_setting
from cxlog.stores.catalog import insert_store

SETUP_CODE = "setup_code"
JUST_SET_UP = N_("cxlog was just set up from another device: sign in with the owner's account.")


def _digits(code: object) -> str:
    return "".join(ch for ch in code if ch.isdigit()) if isinstance(code, str) else ""


def setup_code(storage: Storage) -> str | None:
    """The one-time code, made on first use ("1234 5678"); None once set up."""
    if not first_run(storage):
        return None
    fresh = f"{secrets.randbelow(10**8):08d}"
    with storage.write() as db:
        db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [SETUP_CODE, fresh],
        )
    code = get_setting(storage, SETUP_CODE)
    return None if code is None else f"{code[:4]} {code[4:]}"


def claim(
    storage: Storage,
    *,
    code: object,
    login: object = OWNER,
    store_name: object,
    timezone: object,
    password: object,
    password_again: object,
    client: str | None,
    now: datetime | None = None,
) -> None:
    """Set up cxlog: the first store (unless one exists), the owner's account
    (``login``, the name they sign in with), the code used up. Raises
    ValidationError with a sentence if refused."""
    if not first_run(storage):
        raise ValidationError(_("cxlog is already set up: sign in with the owner's account."))
    name_to_sign_in = accounts.check_login(login)
    if password != password_again:
        raise ValidationError(_("The two passwords differ; type them again."))
    hashed = hash_secret(check_password(password))
    name = model.clean_text(store_name, "store name")
    zone = model.timezone_name(timezone)
    typed = _digits(code)
    if not typed:
        raise ValidationError(
            _(
                "Type the setup code printed on the server's console (or run "
                "`{command}` on the server)."
            ).format(command="python -m cxlog setup-code")
        )

    def right_code() -> bool:
        stored = get_setting(storage, SETUP_CODE)
        return stored is not None and hmac.compare_digest(stored, typed)

    try:
        lockout.checked_attempt(storage, "setup", "setup", right_code, client=client, now=now)
    except ValidationError:
        if not first_run(storage):  # another browser won the race meanwhile
            raise ValidationError(_(JUST_SET_UP)) from None
        raise
    with storage.write() as db:
        taken = list(db.query("SELECT 1 FROM accounts WHERE role = ? LIMIT 1", [OWNER]))
        used = db.execute(
            "DELETE FROM settings WHERE key = ? AND value = ?", [SETUP_CODE, typed]
        ).rowcount
        if taken or not used:
            raise ValidationError(_(JUST_SET_UP))
        if not list(db.query("SELECT 1 FROM stores LIMIT 1")):
            insert_store(db, name, zone, OWNER)
        actor = accounts.actor_text(OWNER, name_to_sign_in)
        accounts.insert_account(db, name_to_sign_in, OWNER, hashed, (), actor=actor)
        audit(db, actor, "first_run", "account", name_to_sign_in)


def default_timezone(browser_zone: str | None) -> str:
    """The zone the setup form starts on: the browser's, else this server's, else UTC."""
    known = model.timezones()
    for zone in (browser_zone, os.environ.get("TZ", "").lstrip(":"), _system_zone()):
        if zone and zone in known:
            return zone
    return "UTC"


def _system_zone() -> str | None:
    # /etc/localtime is a link into the zoneinfo tree on Linux and macOS.
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return None
    _before, sep, zone = target.partition("zoneinfo/")
    return zone if sep else None
