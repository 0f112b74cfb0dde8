"""Named accounts (issue #28): each manager and owner signs in with their own
name and password, sees the stores of their account, and every change to an
account is audited with who made it. Also the upgrade of a database from
before accounts, and the console's door (``python -m cxlog account``)."""

from __future__ import annotations

import io
import json
import shutil
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from cxlog.access import accounts, lockout, sessions
from cxlog.cli import main
from cxlog.core.errors import NotFoundError, ValidationError
from cxlog.core.model import from_utc_text, utc_now
from cxlog.core.roles import MANAGER, OWNER
from cxlog.storage.db import Storage
from cxlog.stores import catalog

FIXTURES = Path(__file__).parent / "fixtures"
BEFORE_ACCOUNTS = FIXTURES / "made_by_main_c64ea9f.sqlite3"


@pytest.fixture
def chain(storage) -> dict:
    """Two stores, an owner, a store manager of the first and an area manager of both."""
    north = catalog.create_store(storage, "North", "Europe/London")
    south = catalog.create_store(storage, "South", "Europe/Paris")
    olive = accounts.add(storage, "Olive", OWNER, "olive-pass-1", actor="setup")
    mia = accounts.add(storage, "Mia", MANAGER, "mia-pass-01", [north], actor="owner:Olive")
    ara = accounts.add(storage, "ara@example.com", MANAGER, "ara-pass-1", [north, south], actor="t")
    return {
        "storage": storage,
        "north": north,
        "south": south,
        "olive": olive,
        "mia": mia,
        "ara": ara,
    }


def audit_rows(storage, action: str) -> list[dict]:
    with storage.read() as db:
        return list(
            db.query(
                "SELECT actor, entity_id, before, after FROM audit"
                " WHERE entity = 'account' AND action = ? ORDER BY id",
                [action],
            )
        )


def test_each_account_sees_its_own_stores(chain):
    storage = chain["storage"]
    olive, mia, ara = (accounts.get(storage, chain[k]) for k in ("olive", "mia", "ara"))
    assert olive.stores is None and olive.sees(chain["south"]) and olive.sees(999)
    assert mia.stores == (chain["north"],)
    assert mia.sees(chain["north"]) and not mia.sees(chain["south"])
    for crafted in (str(chain["south"]), None, True, [chain["north"]], 1.0):
        assert not mia.sees(crafted)  # only a real id of one of her stores
    assert ara.stores == tuple(sorted((chain["north"], chain["south"])))
    assert mia.actor == "manager:Mia"


def test_names_match_without_case_or_unicode_form_and_are_taken_once(chain):
    storage = chain["storage"]
    assert accounts.find(storage, "  MIA ")["id"] == chain["mia"]
    assert accounts.find(storage, "ARA@EXAMPLE.COM")["id"] == chain["ara"]
    with pytest.raises(ValidationError, match="already an account named"):
        accounts.add(storage, "mia", MANAGER, "another-pass", [chain["south"]], actor="t")
    # "ﬁ" (one ligature character) is "fi" once normalised.
    accounts.add(storage, "Fiona", MANAGER, "fiona-pass", [chain["south"]], actor="t")
    assert accounts.find(storage, "ﬁona")["login"] == "Fiona"
    for bad in ("", "   ", "a\x00b", "x" * 81):
        with pytest.raises(ValidationError):
            accounts.add(storage, bad, OWNER, "long enough", actor="t")


def test_a_manager_needs_real_stores(chain):
    storage = chain["storage"]
    for stores in ([], None, [999], [chain["north"], 999], ["1"], [True]):
        with pytest.raises(ValidationError):
            accounts.add(storage, "Nobody", MANAGER, "long enough", stores, actor="t")
    assert accounts.find(storage, "Nobody") is None


def test_sign_in_is_per_account_and_says_nothing_of_which_names_exist(chain):
    storage = chain["storage"]
    mia = accounts.check_sign_in(storage, "mia", "mia-pass-01", client="10.0.0.5")
    assert (mia.id, mia.role, mia.stores) == (chain["mia"], MANAGER, (chain["north"],))
    with pytest.raises(ValidationError) as wrong_password:
        accounts.check_sign_in(storage, "Mia", "nope-nope", client="10.0.0.6")
    with pytest.raises(ValidationError) as no_such_name:
        accounts.check_sign_in(storage, "Nobody", "nope-nope", client="10.0.0.6")
    assert (
        str(wrong_password.value)
        == str(no_such_name.value)
        == ("That password is not right. 4 more tries before a lock.")
    )
    with pytest.raises(ValidationError, match="Type your sign-in name"):
        accounts.check_sign_in(storage, " ", "mia-pass-01", client="10.0.0.6")


def test_a_lock_is_per_account(chain):
    storage = chain["storage"]
    now = utc_now()
    for _ in range(5):
        with pytest.raises(ValidationError):
            accounts.check_sign_in(storage, "Mia", "wrong-wrong", client="10.0.0.9", now=now)
    with pytest.raises(ValidationError, match="locked"):
        accounts.check_sign_in(storage, "Mia", "mia-pass-01", client="10.0.0.9", now=now)
    # Another account on the same device is not locked by Mia's lock.
    accounts.check_sign_in(storage, "Olive", "olive-pass-1", client="10.0.0.9", now=now)
    assert lockout.locked_until(storage, accounts.who("mia"), "10.0.0.9", now=now)
    assert not lockout.locked_until(storage, accounts.who("olive"), "10.0.0.9", now=now)


def test_the_owner_scopes_resets_and_retires_and_each_change_is_audited(chain):
    storage = chain["storage"]
    mia = accounts.get(storage, chain["mia"])
    token, _ = sessions.start(storage, mia, device="phone", client="10.0.0.5")
    other, _ = sessions.start(storage, mia, device="tablet", client="10.0.0.6")
    # Scope: her next check sees the new stores.
    accounts.set_scope(storage, mia.id, MANAGER, [chain["south"]], actor="owner:Olive")
    assert sessions.check(storage, token).account.stores == (chain["south"],)
    row = audit_rows(storage, "scope")[-1]
    assert row["actor"] == "owner:Olive"
    assert json.loads(row["before"]) == {"role": MANAGER, "stores": [chain["north"]]}
    assert json.loads(row["after"]) == {"role": MANAGER, "stores": [chain["south"]]}
    # Her own change keeps this session; every other one ends.
    accounts.set_password(storage, mia.id, "mia-pass-02", actor=mia.actor, keep_session=token)
    assert sessions.check(storage, token).account.id == mia.id
    assert sessions.check(storage, other).account is None
    # The owner's reset keeps none of hers.
    accounts.set_password(storage, mia.id, "mia-pass-03", actor="owner:Olive")
    assert sessions.check(storage, token).account is None
    assert [r["actor"] for r in audit_rows(storage, "set_password")] == [
        "manager:Mia",
        "owner:Olive",
    ]
    again, _ = sessions.start(storage, accounts.get(storage, mia.id), device="d", client="x")
    accounts.retire(storage, mia.id, actor="owner:Olive")
    assert sessions.check(storage, again).account is None
    with pytest.raises(ValidationError, match="not right"):
        accounts.check_sign_in(storage, "Mia", "mia-pass-03", client="10.0.0.5")
    with pytest.raises(NotFoundError):
        sessions.start(storage, accounts.get(storage, mia.id), device="d", client="x")
    assert audit_rows(storage, "retire")[0]["actor"] == "owner:Olive"
    # Retired accounts leave the list but keep their name taken.
    assert "Mia" not in [a["login"] for a in accounts.list_accounts(storage)]
    with pytest.raises(ValidationError, match="already"):
        accounts.add(storage, "Mia", MANAGER, "mia-pass-04", [chain["north"]], actor="t")
    for change in (
        lambda: accounts.retire(storage, mia.id, actor="t"),
        lambda: accounts.set_password(storage, mia.id, "whatever-1", actor="t"),
        lambda: accounts.set_scope(storage, mia.id, OWNER, actor="t"),
    ):
        with pytest.raises(ValidationError, match="retired"):
            change()
    with pytest.raises(NotFoundError):
        accounts.retire(storage, 999, actor="t")


def test_there_is_always_an_owner(chain):
    storage = chain["storage"]
    with pytest.raises(ValidationError, match="at least one owner"):
        accounts.retire(storage, chain["olive"], actor="owner:Olive")
    with pytest.raises(ValidationError, match="at least one owner"):
        accounts.set_scope(storage, chain["olive"], MANAGER, [chain["north"]], actor="t")
    accounts.set_scope(storage, chain["ara"], OWNER, actor="owner:Olive")
    assert accounts.get(storage, chain["ara"]).stores is None
    accounts.retire(storage, chain["olive"], actor="owner:ara@example.com")
    assert not accounts.first_run(storage)


def test_an_account_with_its_role_changed_sees_it_at_its_next_check(chain):
    storage = chain["storage"]
    token, _ = sessions.start(
        storage, accounts.get(storage, chain["ara"]), device="d", client="10.0.0.5"
    )
    accounts.set_scope(storage, chain["ara"], OWNER, actor="owner:Olive")
    assert sessions.check(storage, token).role == OWNER
    assert sessions.check(storage, token).account.stores is None


def test_a_session_idles_out_per_account(chain):
    storage = chain["storage"]
    now = utc_now()
    mia = accounts.get(storage, chain["mia"])
    token, _ = sessions.start(storage, mia, device="d", client="10.0.0.5", now=now)
    assert sessions.check(storage, token, now=now + timedelta(minutes=29)).account == mia
    late = sessions.check(storage, token, now=now + timedelta(minutes=60))
    assert late.account is None and late.ended == "idle"


@pytest.mark.sqlite
def test_a_database_from_before_accounts_upgrades_with_no_one_locked_out(tmp_path):
    """Made by main at c64ea9f (tests/fixtures/make_main_fixture.py): one
    owner and one manager password, an open manager session, a device known
    for the manager, 124 audit rows."""
    path = tmp_path / "cxlog.db"
    shutil.copy(BEFORE_ACCOUNTS, path)
    storage = Storage(path)
    with storage.read() as db:
        audit_before = [tuple(r) for r in db.execute("SELECT * FROM audit ORDER BY id")]
    storage.migrate()
    assert_upgraded(storage, audit_before)


def assert_upgraded(storage, audit_before: list[tuple]) -> None:
    """What the upgrade of the fixture must give, on either engine."""
    # Everyone signs in as before, typing the role's name as the account's.
    owner = accounts.check_sign_in(storage, "owner", "owner-pass-1", client="10.0.0.2")
    manager = accounts.check_sign_in(storage, "Manager", "manager-pass-1", client="10.0.0.2")
    assert owner.role == OWNER and owner.stores is None
    stores = tuple(s["id"] for s in catalog.list_stores(storage))
    assert manager.role == MANAGER and manager.stores == stores == (1, 2)
    # The open session stays open (checked a minute after its last use: the
    # fixture's clock, not today's), and the manager's known device stays known.
    with storage.read() as db:
        (seen,) = db.execute("SELECT last_seen_at FROM role_sessions").fetchone()
    check = sessions.check(storage, "m" * 43, now=from_utc_text(seen) + timedelta(minutes=1))
    assert check.account is not None and check.account.id == manager.id
    assert lockout.known(storage, accounts.who("manager"), "known-device")
    with storage.read() as db:
        audit_after = [tuple(r) for r in db.execute("SELECT * FROM audit ORDER BY id")]
        keys = {r[0] for r in db.execute("SELECT key FROM settings")}
    # The trail is intact: every row as it was, then one row per account made.
    assert audit_after[: len(audit_before)] == audit_before and len(audit_before) == 124
    made = audit_after[len(audit_before) :]
    assert [(r[2], r[3], r[4]) for r in made[:2]] == [("system", "create", "account")] * 2
    assert not {k for k in keys if k.startswith(("password_hash:", "credential_version:"))}


@pytest.mark.first_pass  # uses both engines itself
def test_a_postgresql_database_from_before_accounts_upgrades_too(tmp_path, pg_template):
    """The same fixture's rows in a PostgreSQL database at its schema (every
    migration before i28_accounts), then upgraded by PostgreSQL's bodies."""
    from cxlog.storage import migrations, transfer
    from cxlog.storage.postgres import PostgresStorage, close_pools

    running, _ = pg_template
    storage = PostgresStorage(running.database(f"before{uuid.uuid4().hex[:8]}"))
    registered = migrations.migrations.registered
    names = [name for name, _ in registered]
    try:
        migrations.migrations.registered = registered[: names.index("i28_accounts")]
        storage.migrate()
    finally:
        migrations.migrations.registered = registered
    shutil.copy(BEFORE_ACCOUNTS, tmp_path / "made_by_main.db")
    source = Storage(tmp_path / "made_by_main.db")
    with source.read() as src, storage.write() as dst:
        assert "accounts" not in transfer.tables(src, dst)
        transfer.copy_all(src, dst)
        audit_before = [tuple(r) for r in dst.execute("SELECT * FROM audit ORDER BY id")]
    try:
        storage.migrate()
        with storage.read() as db:
            applied = {r[0] for r in db.execute("SELECT name FROM _sqlite_migrations")}
        assert {"i28_accounts", "i28_store_lists"} <= applied
        assert_upgraded(storage, audit_before)
    finally:
        close_pools()


def run_cli(args: list[str], password: str | None = None, monkeypatch=None) -> int:
    if password is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(args)


def test_the_console_adds_lists_and_resets_accounts(chain, monkeypatch, capsys):
    storage = chain["storage"]
    db = ["--db", storage.address]
    add = ["account", "add", "Nell", "--store", "South", "--password-stdin", *db]
    assert run_cli(add, "nell-pass-1", monkeypatch) == 0
    nell = accounts.check_sign_in(storage, "nell", "nell-pass-1", client="local")
    assert (nell.role, nell.stores) == (MANAGER, (chain["south"],))
    reset = ["account", "reset", "Olive", "--password-stdin", *db]
    assert run_cli(reset, "olive-pass-2", monkeypatch) == 0
    accounts.check_sign_in(storage, "Olive", "olive-pass-2", client="local")
    assert audit_rows(storage, "set_password")[-1]["actor"] == "cli"
    capsys.readouterr()
    assert main(["account", "list", *db]) == 0
    listed = capsys.readouterr().out
    assert "Olive\towner\tevery store" in listed and "Nell\tmanager" in listed
    # Mistakes: one sentence, status 2, nothing changed.
    for args, said in (
        (["account", "add", "Nina", "--password-stdin", *db], "at least one --store"),
        (["account", "reset", "Nobody", "--password-stdin", *db], "no account named"),
        (["account", "add", "Nina", "--store", "Nowhere", "--password-stdin", *db], "Nowhere"),
        (["account", "add", "--password-stdin", *db], "Name the account"),
    ):
        assert run_cli(args, "nina-pass-1", monkeypatch) == 2
        assert said in capsys.readouterr().err
    assert (
        run_cli(
            ["account", "add", "Nina", "--store", "1", "--password-stdin", *db],
            "short",
            monkeypatch,
        )
        == 2
    )
    assert "at least 8" in capsys.readouterr().err
    assert accounts.find(storage, "Nina") is None
