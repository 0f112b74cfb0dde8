"""Lockouts a stranger cannot use against the store (issue #25).

On 18f9694 five wrong PINs from anyone locked that associate on every device
(doubling up to a day), and four addresses × five wrong passwords locked the
owner out of every tablet: over a simulated day with a new address every five
tries, the owner's tablet was locked 1,345 of 1,440 minutes. Clocks are
injected; hashes are not computed (the counters are what is tested)."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest

from cxlog.access import access, accounts, lockout
from cxlog.core import roles
from cxlog.core.errors import ValidationError
from cxlog.core.model import utc_now
from tests.conftest import account_of

TABLET = "10.0.0.50"
TABLET_DEVICE = "tablet-device-cookie-0001"


def test_a_strangers_wrong_pins_slow_the_stranger_not_the_stores_tablet(storage, shop):
    access.set_pin(storage, shop["ana"], "2468", actor="manager")
    now = utc_now()
    # Ana signed in on the store's tablet once: a known device for the store.
    access.check_associate_pin(
        storage, shop["ana"], "2468", client=TABLET, device=TABLET_DEVICE, now=now
    )
    for _ in range(4):
        with pytest.raises(ValidationError, match="PIN is not right"):
            access.check_associate_pin(storage, shop["ana"], "0000", client="10.0.0.66", now=now)
    with pytest.raises(ValidationError, match="locked for 5 minutes"):
        access.check_associate_pin(storage, shop["ana"], "0000", client="10.0.0.66", now=now)
    # The stranger's own device cookies change nothing: unknown is unknown.
    with pytest.raises(ValidationError, match="locked"):
        access.check_associate_pin(
            storage, shop["ana"], "2468", client="10.0.0.66", device="made-up-0001", now=now
        )
    # The store's tablet: Ana signs in as ever.
    access.check_associate_pin(
        storage, shop["ana"], "2468", client=TABLET, device=TABLET_DEVICE, now=now
    )
    # Twenty addresses × a few tries: every unknown device is slowed for Ana
    # (the cap on guesses), her tablet still is not.
    for i in range(20):
        with contextlib.suppress(ValidationError):
            access.check_associate_pin(storage, shop["ana"], "0000", client=f"10.1.0.{i}", now=now)
    with pytest.raises(ValidationError, match="locked"):
        access.check_associate_pin(storage, shop["ana"], "2468", client="10.2.0.1", now=now)
    access.check_associate_pin(
        storage, shop["ana"], "2468", client=TABLET, device=TABLET_DEVICE, now=now
    )
    # A known tablet that fails itself locks itself only.
    for _ in range(5):
        with pytest.raises(ValidationError):
            access.check_associate_pin(
                storage, shop["ana"], "1111", client=TABLET, device=TABLET_DEVICE, now=now
            )
    assert lockout.locked_until(
        storage, f"associate:{shop['ana']}", TABLET, device=TABLET_DEVICE, now=now
    )


def test_a_simulated_day_of_rotating_addresses_leaves_the_owners_tablet_open(storage):
    """The re-test's day: a stranger tries five wrong passwords from a new
    address every minute for 24 h; the owner's tablet (where the owner signed
    in before) asks every minute whether it may sign in."""
    start = utc_now()
    checks = {"attacker": 0}

    def guess() -> bool:
        checks["attacker"] += 1
        return False

    lockout.remember(storage, roles.OWNER, TABLET_DEVICE, now=start)  # signed in there before
    locked_minutes = 0
    for minute in range(24 * 60):
        now = start + timedelta(minutes=minute)
        address = f"10.9.{minute // 250}.{minute % 250}"
        for _ in range(5):
            with contextlib.suppress(ValidationError):
                lockout.checked_attempt(
                    storage, roles.OWNER, "owner", guess, client=address, now=now
                )
        if lockout.locked_until(storage, roles.OWNER, TABLET, device=TABLET_DEVICE, now=now):
            locked_minutes += 1
        if minute % 120 == 0:  # the owner signs in on the tablet now and then
            lockout.checked_attempt(
                storage,
                roles.OWNER,
                "owner",
                lambda: True,
                client=TABLET,
                device=TABLET_DEVICE,
                now=now,
            )
    assert locked_minutes == 0
    # The stranger's guesses stay bounded: 20 per lock of the unknown devices,
    # each lock twice as long as the one before, up to an hour.
    assert checks["attacker"] <= 600, checks
    print(
        f"simulated day: owner's tablet locked {locked_minutes} min, {checks['attacker']} guesses"
    )


def test_a_sign_in_makes_its_browser_a_known_device(app_env, monkeypatch):
    """The claim that sets the session cookie also gives the browser a device
    cookie (if it had none) and remembers it for the role."""
    import json

    from starlette.applications import Starlette

    from cxlog.access import sessions, shifts
    from cxlog.server import api
    from tests.helpers import asgi

    storage = app_env
    _, code = sessions.start(
        storage, account_of(storage, roles.MANAGER), device="laptop", client="10.0.0.7"
    )
    body = json.dumps({"claim": code}).encode()
    status, headers, _ = asgi.request(
        Starlette(routes=api.routes()), "POST", "/api/v1/sessions/claim", body=body
    )
    assert status == 200
    cookies = dict(line.split(";")[0].split("=", 1) for line in headers["set-cookie"].split("\n"))
    device = cookies[shifts.DEVICE_COOKIE]
    assert "HttpOnly" in headers["set-cookie"] and sessions.COOKIE in cookies
    assert device and lockout.known(storage, accounts.who(roles.MANAGER), device)
    assert not lockout.known(storage, accounts.who(roles.OWNER), device)
