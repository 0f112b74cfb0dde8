"""Manager/owner sessions, the sign-in throttle and the first run (#11), without Streamlit."""

from __future__ import annotations

import os
import stat
import threading
import time
from datetime import timedelta

import pytest

from cxlog.access import accounts, credentials, first_run, lockout, sessions
from cxlog.core.errors import ValidationError
from cxlog.core.model import utc_now
from cxlog.core.roles import MANAGER, OWNER
from cxlog.storage.db import Storage
from cxlog.stores import catalog
from tests.conftest import account_of


@pytest.fixture
def passwords(storage):
    catalog.create_store(storage, "Corner Shop", "Europe/London")
    accounts.add_or_reset(storage, OWNER, OWNER, "owner-pass-1", actor="test")
    accounts.add_or_reset(storage, MANAGER, MANAGER, "manager-pass-1", actor="test")
    return storage


def test_only_the_hash_of_a_session_token_is_stored(passwords):
    token, claim = sessions.start(
        passwords, account_of(passwords, MANAGER), device="Chrome on Android", client="10.0.0.5"
    )
    with passwords.read() as db:
        rows = list(db.query("SELECT * FROM role_sessions"))
    text = repr(rows)
    assert token not in text and claim not in text
    assert rows[0]["role"] == MANAGER and rows[0]["device"] == "Chrome on Android"
    assert sessions.check(passwords, token).role == MANAGER


def test_a_claim_swaps_the_token_once_and_only_within_a_minute(passwords):
    now = utc_now()
    token, claim = sessions.start(
        passwords, account_of(passwords, OWNER), device="d", client="local", now=now
    )
    cookie = sessions.claim(passwords, claim, now=now + timedelta(seconds=5))
    assert cookie and cookie != token
    assert sessions.check(passwords, cookie, now=now).role == OWNER
    assert sessions.check(passwords, token, now=now).role is None  # the tab's token is spent
    assert sessions.claim(passwords, claim, now=now) is None  # one use only
    _, late = sessions.start(
        passwords, account_of(passwords, OWNER), device="d", client="local", now=now
    )
    assert sessions.claim(passwords, late, now=now + timedelta(seconds=61)) is None
    assert sessions.claim(passwords, "x" * 30, now=now) is None


def test_idle_limit_sign_out_and_settings_end_sessions(passwords):
    now = utc_now()
    a, _ = sessions.start(
        passwords, account_of(passwords, MANAGER), device="a", client="10.0.0.5", now=now
    )
    b, _ = sessions.start(
        passwords, account_of(passwords, MANAGER), device="b", client="10.0.0.6", now=now
    )
    c, _ = sessions.start(
        passwords, account_of(passwords, OWNER), device="c", client="local", now=now
    )
    # Used after 20 minutes, A stays; B, untouched for 31, has idled out (30 by default).
    assert sessions.check(passwords, a, now=now + timedelta(minutes=20)).role == MANAGER
    idle = sessions.check(passwords, b, now=now + timedelta(minutes=31))
    assert idle.role is None and idle.ended == "idle"
    assert sessions.check(passwords, b, now=now).role is None  # ended for good
    sessions.end(passwords, a)
    assert sessions.check(passwords, a, now=now).role is None
    d, _ = sessions.start(passwords, account_of(passwords, MANAGER), device="d", client="10.0.0.7")
    listed = {s["device"] for s in sessions.active(passwords)}
    assert listed == {"c", "d"}
    mine = sessions.check(passwords, c).session_id
    assert sessions.end_all(passwords, actor=OWNER, except_id=mine) == 1
    assert sessions.check(passwords, d).role is None
    assert sessions.check(passwords, c).role == OWNER


def test_a_changed_password_ends_that_roles_other_sessions(passwords):
    mine, _ = sessions.start(
        passwords, account_of(passwords, MANAGER), device="mine", client="10.0.0.5"
    )
    other, _ = sessions.start(
        passwords, account_of(passwords, MANAGER), device="other", client="10.0.0.6"
    )
    owner, _ = sessions.start(
        passwords, account_of(passwords, OWNER), device="owner", client="local"
    )
    manager = account_of(passwords, MANAGER).id
    accounts.set_password(passwords, manager, "manager-pass-2", actor=MANAGER, keep_session=mine)
    assert sessions.check(passwords, mine).role == MANAGER
    assert sessions.check(passwords, other).role is None
    assert sessions.check(passwords, owner).role == OWNER
    # An owner changing the manager password keeps no manager session.
    accounts.set_password(passwords, manager, "manager-pass-3", actor=OWNER)
    assert sessions.check(passwords, mine).role is None
    # A session made before a change by another route (version bump) is refused too.
    late, _ = sessions.start(
        passwords, account_of(passwords, MANAGER), device="late", client="10.0.0.5"
    )
    with passwords.write() as db:
        db.execute("UPDATE accounts SET credential_version = 99 WHERE login = 'manager'")
    assert sessions.check(passwords, late).ended == "password"


def test_parallel_guesses_get_at_most_five_hash_checks_per_lock(passwords, monkeypatch):
    """8 streams of wrong passwords from one device for 20 s (issue #11; the
    first lock lasts 5 minutes, so all of it is one lock window): the lock is
    checked and the try counted before hashing, so no more than 5 hashes run."""
    hashed = []
    real = accounts.verify_secret

    def counting(secret, stored):
        hashed.append(secret)
        return real(secret, stored)

    monkeypatch.setattr(accounts, "verify_secret", counting)
    refused_while_locked = []
    start = time.monotonic()
    stop = start + 20
    last_try = []

    def stream(n: int) -> None:
        for i in range(2_500):  # bounded; the clock ends it sooner
            if time.monotonic() > stop:
                return
            try:
                accounts.check_sign_in(passwords, OWNER, f"guess-{n}-{i}", client="10.0.0.66")
            except ValidationError as exc:
                refused_while_locked.append("locked" in str(exc))
            last_try.append(time.monotonic())
            time.sleep(0.01)  # a guesser's pace, not a busy loop

    threads = [threading.Thread(target=stream, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert max(last_try) - start > 19  # the streams really ran for 20 s
    assert len(hashed) == 5
    assert refused_while_locked.count(True) >= len(refused_while_locked) - 5
    # The right password from the locked device is refused, without hashing.
    with pytest.raises(ValidationError, match="locked"):
        accounts.check_sign_in(passwords, OWNER, "owner-pass-1", client="10.0.0.66")
    assert len(hashed) == 5
    # The server's own screen and another device still sign in.
    accounts.check_sign_in(passwords, OWNER, "owner-pass-1", client=lockout.LOCAL)
    accounts.check_sign_in(passwords, OWNER, "owner-pass-1", client="10.0.0.7")


def test_a_stranger_is_locked_longer_each_time_and_many_addresses_lock_the_role(passwords):
    now = utc_now()

    def wrong(client: str, at) -> str:
        with pytest.raises(ValidationError) as refused:
            accounts.check_sign_in(passwords, MANAGER, "nope-nope", client=client, now=at)
        return str(refused.value)

    for _ in range(5):
        message = wrong("10.0.0.66", now)
    assert "locked for 5 minutes" in message
    later = now + timedelta(minutes=6)
    for _ in range(5):
        message = wrong("10.0.0.66", later)
    assert "locked for 10 minutes" in message  # doubled for the same device
    # 20 tries from many addresses in the window lock the role for every
    # device but the server's own screen. 10 were counted above already.
    for n in range(10):
        wrong(f"10.0.1.{n}", later)
    with pytest.raises(ValidationError, match="locked"):
        accounts.check_sign_in(passwords, MANAGER, "manager-pass-1", client="10.0.0.9", now=later)
    accounts.check_sign_in(passwords, MANAGER, "manager-pass-1", client=lockout.LOCAL, now=later)


def test_setup_needs_the_code_and_racing_browsers_make_one_owner(storage):
    code = first_run.setup_code(storage)
    assert code == first_run.setup_code(storage) and len(code.replace(" ", "")) == 8
    fields = {
        "store_name": "Main Street",
        "timezone": "Europe/Paris",
        "password": "owner-pass-1",
        "password_again": "owner-pass-1",
        "client": "10.0.0.5",
    }
    with pytest.raises(ValidationError, match="setup code printed"):
        first_run.claim(storage, code="", **fields)
    wrong = "0" * 8 if code.replace(" ", "") != "0" * 8 else "1" * 8
    with pytest.raises(ValidationError, match="setup code is not right"):
        first_run.claim(storage, code=wrong, **fields)
    results = []

    def claim(n: int) -> None:
        try:
            first_run.claim(
                storage,
                code=code,
                **{**fields, "password": f"owner-pass-{n}", "password_again": f"owner-pass-{n}"},
            )
            results.append(n)
        except ValidationError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1 and len(results) == 4
    losers = [r for r in results if not isinstance(r, int)]
    assert all("already set up" in r or "just set up" in r for r in losers), losers
    with storage.read() as db:
        assert db.execute("SELECT count(*) FROM stores").fetchone()[0] == 1
        assert db.execute("SELECT value FROM settings WHERE key='setup_code'").fetchone() is None
    assert credentials.verify_secret(
        f"owner-pass-{winners[0]}", accounts.find(storage, OWNER)["password_hash"]
    )
    assert first_run.setup_code(storage) is None
    with pytest.raises(ValidationError, match="already set up"):
        first_run.claim(storage, code=code, **fields)


def test_setup_timezone_defaults_to_the_browser_then_the_server(monkeypatch):
    assert first_run.default_timezone("America/Chicago") == "America/Chicago"
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert first_run.default_timezone(None) == "Asia/Tokyo"
    assert first_run.default_timezone("Not/AZone") == "Asia/Tokyo"


def test_a_new_database_and_its_folder_are_owner_only(tmp_path):
    storage = Storage(tmp_path / "data" / "cxlog.db")
    storage.migrate()
    reader = storage.connect()  # an open connection keeps the WAL in place
    reader.execute("SELECT count(*) FROM settings").fetchone()
    with storage.write() as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('x', 'y')")
    mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)  # noqa: E731
    assert mode(tmp_path / "data") == 0o700
    files = sorted(p.name for p in (tmp_path / "data").iterdir())
    assert files == ["cxlog.db", "cxlog.db-shm", "cxlog.db-wal"]
    assert {name: mode(tmp_path / "data" / name) for name in files} == dict.fromkeys(files, 0o600)
    reader.conn.close()


def test_an_upgraded_database_readable_by_others_is_made_owner_only_at_start(tmp_path):
    """Issue #25: a database an older cxlog left 0644 stayed 0644."""
    mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)  # noqa: E731
    path = tmp_path / "shop" / "cxlog.db"
    Storage(path).migrate()
    with Storage(path).write() as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('x', 'y')")
    os.chmod(path.parent, 0o755)
    for name in ("cxlog.db", "cxlog.db-wal", "cxlog.db-shm"):
        (path.parent / name).touch()
        os.chmod(path.parent / name, 0o644)
    Storage(path).migrate()  # what every start does
    files = sorted(p.name for p in path.parent.iterdir())
    assert {name: mode(path.parent / name) for name in files} == dict.fromkeys(files, 0o600)
    assert mode(path.parent) == 0o755  # an existing database's folder is left as it is
    os.chmod(path, 0o444)  # read-only by its owner's choice: it stays so
    Storage(path).make_owner_only()
    assert mode(path) == 0o400


def test_a_new_database_in_a_shared_folder_leaves_the_folder_alone(tmp_path):
    """Issue #25: a new database in a sticky 1777 folder (like /tmp) chmodded
    that folder to 0700, breaking it for every other user of the machine."""
    mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)  # noqa: E731
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    Storage(shared / "cxlog.db").migrate()
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o1777
    assert mode(shared / "cxlog.db") == 0o600
    # A folder of this user's that is not shared is made owner-only, as is one
    # cxlog makes itself.
    own = tmp_path / "own"
    own.mkdir(mode=0o755)
    os.chmod(own, 0o755)
    Storage(own / "cxlog.db").migrate()
    assert mode(own) == 0o700
