"""Associates' access: PINs (shifts live in cxlog/access/shifts.py).

Passwords, hashing and their rules live in cxlog/access/credentials.py, the settings
store in cxlog/storage/settings.py, manager/owner sessions in cxlog/access/sessions.py, the
throttle in cxlog/access/lockout.py, roles in cxlog/core/roles.py and the page table in
cxlog/web/navigation.py.
"""

from __future__ import annotations

from datetime import datetime

from cxlog.access import lockout
from cxlog.access.credentials import check_pin, hash_secret, verify_secret
from cxlog.core import actors
from cxlog.core.errors import ValidationError
from cxlog.language.words import _
from cxlog.storage import settings
from cxlog.storage.db import Storage
from cxlog.stores.catalog import set_associate_pin_hash

# --- associate PINs -------------------------------------------------------------


def pin_asked(storage: Storage, associate_id: int) -> bool:
    """Whether signing in as this associate takes a PIN: their store's rule
    (its own, else the chain's; issue #28)."""
    with storage.read() as db:
        rows = list(db.query("SELECT store_id FROM associates WHERE id = ?", [associate_id]))
    return settings.pin_required(storage, rows[0]["store_id"] if rows else None)


def check_associate_pin(
    storage: Storage,
    associate_id: int,
    pin: object,
    *,
    client: str | None = None,
    device: str | None = None,
    now: datetime | None = None,
) -> None:
    """An associate's PIN, counted before the hash is checked (cxlog/access/lockout.py):
    per device, and per associate over unknown devices. ``client`` is the
    request's address, ``device`` its device cookie: a device on which an
    associate of the store signed in before (a store tablet) is not locked by
    a stranger's wrong PINs (issue #25), and a right PIN makes it one."""
    with storage.read() as db:
        rows = list(
            db.query("SELECT name, pin_hash, store_id FROM associates WHERE id = ?", [associate_id])
        )
    if not rows:
        raise ValidationError(_("That associate does not exist."))
    stored, store_id = rows[0]["pin_hash"], rows[0]["store_id"]
    if stored is None:
        raise ValidationError(
            _("No PIN is set for {name} yet; ask a manager.").format(name=rows[0]["name"])
        )
    who = actors.associate(associate_id)
    lockout.checked_attempt(
        storage,
        who,
        "PIN",
        lambda: isinstance(pin, str) and verify_secret(pin, stored),
        client=client,
        device=device if lockout.known(storage, who, device, store_id=store_id) else None,
        now=now,
    )
    lockout.remember(storage, who, device, store_id=store_id, now=now)


def set_pin(storage: Storage, associate_id: int, pin: str | None, *, actor: str) -> None:
    """Set (4–8 digits) or clear an associate's PIN; only its hash is stored."""
    pin_hash = None if pin is None else hash_secret(check_pin(pin))
    set_associate_pin_hash(storage, associate_id, pin_hash, actor=actor)
