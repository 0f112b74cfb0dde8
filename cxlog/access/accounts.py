"""Named accounts (issue #28): each manager and owner signs in with their own
name and password, and sees only the stores the account is scoped to.

An account is a row of ``accounts``: a sign-in name (any text — a first name,
a nickname, an e-mail address; matched without regard to case or Unicode
form), a role (``owner``: every store; ``manager``: the stores listed in
``account_stores``, one for a store manager, several for an area manager),
the salted scrypt hash of its password and a credential version that a
password reset or a retirement bumps, ending the account's sessions. Retired
accounts stay (the audit trail names them) but never sign in again.

A database from before #28 had one manager and one owner password; its
upgrade (migration ``i28_accounts``) made them accounts named ``manager``
and ``owner`` with the same passwords, the manager's scoped to every store
there was, so everyone signs in as before by typing that name.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from cxlog.access import lockout
from cxlog.access.credentials import check_password, hash_secret, verify_secret
from cxlog.core.errors import NotFoundError, ValidationError
from cxlog.core.model import clean_text, to_utc_text, utc_now
from cxlog.core.roles import OWNER, ROLES
from cxlog.core.tokens import token_hash
from cxlog.language.words import _
from cxlog.storage.db import Storage, audit
from cxlog.stores import catalog

MAX_LOGIN_LENGTH = 80


@dataclass(frozen=True)
class Account:
    """Who is signed in: the account, its role and the stores it may see
    (``stores`` None: every store, the owner's scope)."""

    id: int
    login: str
    role: str
    stores: tuple[int, ...] | None

    @property
    def actor(self) -> str:
        """How the audit trail names this account's changes: ``manager:Alice``."""
        return actor_text(self.role, self.login)

    def sees(self, store_id: object) -> bool:
        """Whether this account may see the store (an id from anywhere:
        a URL, a form, a JSON body)."""
        if self.stores is None:
            return True
        return (
            isinstance(store_id, int) and not isinstance(store_id, bool) and store_id in self.stores
        )


def actor_text(role: str, login: str) -> str:
    return f"{role}:{login}"


def login_key(login: object) -> str:
    """What a typed sign-in name is matched by: NFKC, trimmed, case-folded,
    so "Alice", "alice " and "ALICE" are one account."""
    if not isinstance(login, str):
        return ""
    return unicodedata.normalize("NFKC", login).strip().casefold()


def check_login(login: object) -> str:
    return clean_text(login, "sign-in name", MAX_LOGIN_LENGTH)


def _check_role(role: object) -> str:
    if role not in ROLES:
        raise ValidationError(_("An account is a manager or an owner."))
    return role  # type: ignore[return-value]


def _check_stores(db, role: str, store_ids: object) -> tuple[int, ...]:
    """A manager's stores: at least one, each existing; the owner's: none listed."""
    if role == OWNER:
        return ()
    if not isinstance(store_ids, (list, tuple, set, frozenset)) or not store_ids:
        raise ValidationError(_("Pick at least one store for a manager."))
    ids = sorted({s for s in store_ids if isinstance(s, int) and not isinstance(s, bool)})
    if len(ids) != len(set(store_ids)):
        raise ValidationError(_("A store in the list does not exist."))
    found = {
        r["id"]
        for r in db.query(f"SELECT id FROM stores WHERE id IN ({','.join('?' * len(ids))})", ids)
    }
    if found != set(ids):
        raise ValidationError(_("A store in the list does not exist."))
    return tuple(ids)


def insert_account(
    db,
    login: str,
    role: str,
    hashed: str,
    store_ids: tuple[int, ...],
    *,
    actor: str,
) -> int:
    """Inside the caller's transaction: a new account (name already checked)."""
    key = login_key(login)
    if list(db.query("SELECT 1 FROM accounts WHERE login_key = ?", [key])):
        raise ValidationError(
            _("There is already an account named {name}; pick another name.").format(
                name=repr(login)
            )
        )
    cursor = db.execute(
        "INSERT INTO accounts (login, login_key, role, password_hash, credential_version,"
        " created_at) VALUES (?, ?, ?, ?, 1, ?) RETURNING id",
        [login, key, role, hashed, to_utc_text(utc_now())],
    )
    account_id = cursor.fetchone()[0]
    db.executemany(
        "INSERT INTO account_stores (account_id, store_id) VALUES (?, ?)",
        [(account_id, s) for s in store_ids],
    )
    audit(
        db,
        actor,
        "create",
        "account",
        account_id,
        after={"login": login, "role": role, "stores": list(store_ids)},
    )
    return account_id


def add(
    storage: Storage,
    login: object,
    role: object,
    password: object,
    store_ids: object = (),
    *,
    actor: str,
) -> int:
    """Settings → Accounts, or ``python -m cxlog account add``: a new account."""
    name = check_login(login)
    role = _check_role(role)
    hashed = hash_secret(check_password(password))
    with storage.write() as db:
        stores = _check_stores(db, role, store_ids)
        return insert_account(db, name, role, hashed, stores, actor=actor)


def _row(db, account_id: object) -> dict:
    rows = (
        list(db.query("SELECT * FROM accounts WHERE id = ?", [account_id]))
        if isinstance(account_id, int)
        else []
    )
    if not rows:
        raise NotFoundError(_("That account does not exist."))
    return rows[0]


def find(storage: Storage, login: object) -> dict | None:
    """The account a typed name signs in as (retired ones included), or None."""
    key = login_key(login)
    with storage.read() as db:
        rows = list(db.query("SELECT * FROM accounts WHERE login_key = ?", [key]))
    return rows[0] if rows else None


def get(storage: Storage, account_id: int) -> Account:
    with storage.read() as db:
        row = _row(db, account_id)
        return _account(db, row)


def _account(db, row: dict) -> Account:
    return Account(row["id"], row["login"], row["role"], scope_of(db, row["id"], row["role"]))


def scope_of(db, account_id: int, role: str) -> tuple[int, ...] | None:
    """Inside a read: the stores an account sees (None: every store)."""
    if role == OWNER:
        return None
    return tuple(
        r["store_id"]
        for r in db.query(
            "SELECT store_id FROM account_stores WHERE account_id = ? ORDER BY store_id",
            [account_id],
        )
    )


def list_accounts(storage: Storage, *, include_retired: bool = False) -> list[dict]:
    """Every account, owners first, with its stores' ids (``stores``)."""
    with storage.read() as db:
        rows = list(
            db.query(
                "SELECT id, login, role, created_at, retired_at FROM accounts"
                + ("" if include_retired else " WHERE retired_at IS NULL")
                + " ORDER BY CASE role WHEN 'owner' THEN 0 ELSE 1 END, login_key"
            )
        )
        links = list(db.query("SELECT account_id, store_id FROM account_stores ORDER BY store_id"))
    for row in rows:
        row["stores"] = [link["store_id"] for link in links if link["account_id"] == row["id"]]
    return rows


def first_run(storage: Storage) -> bool:
    """True until an owner account exists: nothing else is shown before."""
    with storage.read() as db:
        rows = list(
            db.query(
                "SELECT 1 FROM accounts WHERE role = ? AND retired_at IS NULL LIMIT 1", [OWNER]
            )
        )
    return not rows


def _end_sessions(db, account_id: int, keep: str = "") -> None:
    db.execute(
        "UPDATE role_sessions SET ended_at = ? WHERE account_id = ? AND ended_at IS NULL"
        " AND token_hash != ?",
        [to_utc_text(utc_now()), account_id, keep],
    )


def set_password(
    storage: Storage,
    account_id: int,
    password: object,
    *,
    actor: str,
    keep_session: str | None = None,
) -> None:
    """A new password (the owner's reset, or one's own change). Every other
    session of the account ends now; ``keep_session`` (the token of the
    person changing their own password) stays signed in."""
    hashed = hash_secret(check_password(password))
    kept = token_hash(keep_session) if keep_session else ""
    with storage.write() as db:
        row = _row(db, account_id)
        if row["retired_at"]:
            raise ValidationError(
                _("{name} is retired; add a new account instead.").format(name=row["login"])
            )
        version = row["credential_version"] + 1
        db.execute(
            "UPDATE accounts SET password_hash = ?, credential_version = ? WHERE id = ?",
            [hashed, version, account_id],
        )
        _end_sessions(db, account_id, kept)
        db.execute(
            "UPDATE role_sessions SET credential_version = ? WHERE token_hash = ?"
            " AND account_id = ?",
            [version, kept, account_id],
        )
        # Never the hash itself in the audit trail.
        audit(db, actor, "set_password", "account", account_id, after={"login": row["login"]})


def set_scope(
    storage: Storage, account_id: int, role: object, store_ids: object = (), *, actor: str
) -> None:
    """The owner changes what an account is: owner, or manager of these stores.
    Its sessions see the new scope at their next page load."""
    role = _check_role(role)
    with storage.write() as db:
        row = _row(db, account_id)
        if row["retired_at"]:
            raise ValidationError(_("{name} is retired.").format(name=row["login"]))
        stores = _check_stores(db, role, store_ids)
        before = _account(db, row)
        if row["role"] == OWNER and role != OWNER:
            _keep_an_owner(db, account_id)
        db.execute("UPDATE accounts SET role = ? WHERE id = ?", [role, account_id])
        db.execute("DELETE FROM account_stores WHERE account_id = ?", [account_id])
        db.executemany(
            "INSERT INTO account_stores (account_id, store_id) VALUES (?, ?)",
            [(account_id, s) for s in stores],
        )
        audit(
            db,
            actor,
            "scope",
            "account",
            account_id,
            before={"role": before.role, "stores": list(before.stores or ())},
            after={"role": role, "stores": list(stores)},
        )


def _keep_an_owner(db, account_id: int) -> None:
    others = list(
        db.query(
            "SELECT 1 FROM accounts WHERE role = ? AND retired_at IS NULL AND id != ? LIMIT 1",
            [OWNER, account_id],
        )
    )
    if not others:
        raise ValidationError(
            _("cxlog needs at least one owner: make another account owner first.")
        )


def retire(storage: Storage, account_id: int, *, actor: str) -> None:
    """The account never signs in again; its sessions end now. Its name stays
    taken (the audit trail names it)."""
    with storage.write() as db:
        row = _row(db, account_id)
        if row["retired_at"]:
            raise ValidationError(_("{name} is already retired.").format(name=row["login"]))
        if row["role"] == OWNER:
            _keep_an_owner(db, account_id)
        db.execute(
            "UPDATE accounts SET retired_at = ?, credential_version = credential_version + 1"
            " WHERE id = ?",
            [to_utc_text(utc_now()), account_id],
        )
        _end_sessions(db, account_id)
        audit(db, actor, "retire", "account", account_id, after={"login": row["login"]})


def who(login: object) -> str:
    """The sign-in throttle's name for attempts at a typed sign-in name: an
    existing account and a made-up name are throttled alike, so the lock
    tells a stranger nothing about which names exist."""
    return f"login:{login_key(login)[:MAX_LOGIN_LENGTH]}"


def check_sign_in(
    storage: Storage,
    login: object,
    password: object,
    *,
    client: str | None,
    device: str | None = None,
    now: datetime | None = None,
) -> Account:
    """A sign-in name and password, throttled per device and per name
    (cxlog/access/lockout.py); the account, or ValidationError with the reason.
    ``device`` is the browser's device cookie: a device where this account
    signed in before keeps its way in while strangers fail elsewhere."""
    if not login_key(login):
        raise ValidationError(_("Type your sign-in name."))
    row = find(storage, login)
    stored = row["password_hash"] if row and not row["retired_at"] else None
    name = who(login)
    lockout.checked_attempt(
        storage,
        name,
        row["login"] if row else lockout.SOME_NAME,
        # A wrong name costs a hash check like a wrong password: no timing tells
        # a stranger which names exist.
        lambda: isinstance(password, str) and verify_secret(password, stored or _decoy()),
        client=client,
        device=device if lockout.known(storage, name, device) else None,
        now=now,
    )
    if row is None or stored is None:  # the decoy matched: a made-up name never signs in
        raise ValidationError(_("That name and password do not match an account."))
    lockout.remember(storage, name, device, now=now)
    with storage.read() as db:
        return _account(db, row)


@cache
def _decoy() -> str:
    """A hash no typed password matches (a NUL is refused in every password):
    checked in place of a missing account's, so a wrong name takes as long as
    a wrong password."""
    return hash_secret("\x00not a password\x00")


def every_store(storage: Storage) -> list[int]:
    """Every store's id: the scope a manager of the whole chain is given."""
    return [s["id"] for s in catalog.list_stores(storage)]


def add_or_reset(
    storage: Storage,
    login: str,
    role: str,
    password: str,
    store_ids: object = None,
    *,
    actor: str,
) -> Account:
    """The account named ``login`` with this password: reset when it exists
    (its role and stores as they are), else added (a manager's ``store_ids``
    default to every store). The server console's door and the benchmarks'."""
    row = find(storage, login)
    if row is None:
        stores = every_store(storage) if store_ids is None else store_ids
        return get(storage, add(storage, login, role, password, stores, actor=actor))
    set_password(storage, row["id"], password, actor=actor)
    return get(storage, row["id"])
