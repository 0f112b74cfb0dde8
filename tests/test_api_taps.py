"""The tap and shift API on the real server (issues #10, #11): the shift
cookie, and hostile requests answered with a 4xx and one sentence while the
database stays as it was."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit

import pytest

from cxlog.access import access
from cxlog.storage import settings
from cxlog.stores import catalog
from tests.conftest import new_id, set_up
from tests.e2e import harness
from tests.helpers.peek import peek


@pytest.fixture(scope="module")
def server(tmp_path_factory, password_hashes):
    folder = tmp_path_factory.mktemp("api")
    storage, store = set_up(folder / "cxlog.db", password_hashes)
    ana = catalog.add_associate(storage, store, "Ana", actor="test")
    ben = catalog.add_associate(storage, store, "Ben", actor="test")
    other = catalog.create_store(storage, "Other Shop", "Europe/London")
    zoe = catalog.add_associate(storage, other, "Zoe", actor="test")
    with harness.streamlit_server(storage.path, log=folder / "server.log") as url:
        yield {"url": url, "storage": storage, "ana": ana, "ben": ben, "zoe": zoe}


def call(server, method, path, body=None, *, cookie=None, headers=None, raw=None):
    parts = urlsplit(server["url"])
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    sent = {"Content-Type": "application/json", **(headers or {})}
    if cookie:
        sent["Cookie"] = cookie
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    try:
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        text = response.read()
    finally:
        conn.close()
    try:
        answer = json.loads(text)
    except ValueError:
        answer = text
    return response.status, answer, response.headers


def sign_in(server, who: str) -> str:
    status, answer, headers = call(server, "POST", "/api/v1/shifts", {"associate_id": server[who]})
    assert status == 200, answer
    cookies = headers.get_all("set-cookie")
    return "; ".join(c.split(";")[0] for c in cookies)


def batch(by: int, vid: str | None = None, **extra) -> dict:
    now = int(time.time() * 1000)
    vid = vid or new_id()
    return {
        "sent_at": now,
        "taps": [
            {"id": new_id(), "visit": vid, "kind": "start", "at": now, "by": by, **extra}
            | {"engagement": "warm"}
        ],
    }


def snapshot(server) -> dict:
    db = peek(server["storage"])
    return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("visits", "taps")}


def test_the_shift_cookie_is_httponly_strict_and_never_in_the_answer(server):
    status, answer, headers = call(
        server, "POST", "/api/v1/shifts", {"associate_id": server["ana"]}
    )
    assert (status, answer) == (200, {"ok": True, "name": "Ana", "store": "Corner Shop"})
    cookies = {c.split("=")[0]: c.lower() for c in headers.get_all("set-cookie")}
    assert set(cookies) == {"cxlog_shift", "cxlog_device"}
    for text in cookies.values():
        assert "httponly" in text and "samesite=strict" in text and "path=/" in text
    assert "max-age=43200" in cookies["cxlog_shift"]


def test_taps_and_board_with_a_shift(server):
    cookie = sign_in(server, "ana")
    body = batch(server["ana"])
    status, answer, _ = call(server, "POST", "/api/v1/taps", body, cookie=cookie)
    assert status == 200 and answer["taps"][0]["ok"] is True
    vid = body["taps"][0]["visit"]
    assert answer["visits"][vid]["engagement"] == "warm"
    status, board, _ = call(server, "GET", "/api/v1/open-visits?since=", cookie=cookie)
    assert status == 200 and board["changed"] is True
    assert vid in [v["id"] for v in board["open"]]
    status, same, _ = call(
        server, "GET", f"/api/v1/open-visits?since={board['version']}", cookie=cookie
    )
    assert (status, same) == (200, {"version": board["version"], "changed": False, "lang": None})


def test_not_you_ends_the_shift_for_every_holder_of_the_cookie(server):
    cookie = sign_in(server, "ben")
    status, _, headers = call(server, "DELETE", "/api/v1/shifts", cookie=cookie)
    assert status == 200
    assert "cxlog_shift=" in headers.get("set-cookie")  # cleared on this device
    # A copy of the cookie (another device, a replay) is refused at its next tap.
    status, answer, _ = call(server, "POST", "/api/v1/taps", batch(server["ben"]), cookie=cookie)
    assert status == 401 and "Not you?" in answer["error"]


def test_a_wrong_pin_starts_no_shift(server):
    storage = server["storage"]
    settings.set_setting(storage, settings.PIN_REQUIRED, "1", actor="test")
    try:
        access.set_pin(storage, server["ben"], "2468", actor="test")
        status, answer, headers = call(
            server, "POST", "/api/v1/shifts", {"associate_id": server["ben"], "pin": "1111"}
        )
        assert status == 403 and "PIN is not right" in answer["error"]
        assert headers.get("set-cookie") is None
        status, _, _ = call(
            server, "POST", "/api/v1/shifts", {"associate_id": server["ben"], "pin": "2468"}
        )
        assert status == 200
    finally:
        settings.set_setting(storage, settings.PIN_REQUIRED, "0", actor="test")


def test_hostile_requests_get_a_sentence_and_change_nothing(server):
    ana = sign_in(server, "ana")
    zoe = sign_in(server, "zoe")
    known = batch(server["ana"])
    assert call(server, "POST", "/api/v1/taps", known, cookie=ana)[0] == 200
    vid, first = known["taps"][0]["visit"], known["taps"][0]
    now = int(time.time() * 1000)
    closing = {"id": new_id(), "visit": vid, "kind": "no_purchase", "at": now, "by": server["ana"]}
    nasty = "'; DROP TABLE visits;--\x00\u202e<script>"
    cases = [
        ("bad JSON", {"raw": b"{not json"}, ana, 400),
        # Issue #25: these answered 500 with a traceback in the log.
        ("30,000 nested lists", {"raw": b"[" * 30_000 + b"]" * 30_000}, ana, 400),
        ("a 5,000-digit number", {"raw": b'{"sent_at": ' + b"9" * 5_000 + b"}"}, ana, 400),
        ("10 MB body", {"raw": b"[" + b"0," * 5_000_000 + b"0]"}, ana, 413),
        (
            "10,000 taps",
            {"body": {"sent_at": now, "taps": [first] * 10_000}},
            ana,
            413,
        ),
        ("no shift", {"body": batch(server["ana"])}, None, 401),
        ("forged shift", {"body": batch(server["ana"])}, "cxlog_shift=1.AAAAAAAAAAAAAAAAAAAA", 401),
        (
            "wrong store",
            {"body": {"sent_at": now, "taps": [closing | {"by": server["zoe"]}]}},
            zoe,
            403,
        ),
        (
            "tap id reused with different content",
            {"body": {"sent_at": now, "taps": [first | {"engagement": "missed"}]}},
            ana,
            409,
        ),
        (
            "unknown visit",
            {
                "body": {
                    "sent_at": now,
                    "taps": [
                        {
                            "id": new_id(),
                            "visit": new_id(),
                            "kind": "no_purchase",
                            "at": now,
                            "by": server["ana"],
                        }
                    ],
                }
            },
            ana,
            404,
        ),
        (
            "another site",
            {"body": batch(server["ana"]), "headers": {"Origin": "http://evil.example"}},
            ana,
            403,
        ),
    ]
    for field in ("id", "visit", "kind", "at", "by", "engagement"):
        cases.append(
            (
                f"hostile {field}",
                {"body": {"sent_at": now, "taps": [first | {field: nasty}]}},
                ana,
                400,
            )
        )
    cases.append(("hostile sent_at", {"body": {"sent_at": nasty, "taps": [first]}}, ana, 400))
    before = snapshot(server)
    for name, request, cookie, expected in cases:
        status, answer, _ = call(
            server,
            "POST",
            "/api/v1/taps",
            request.get("body"),
            cookie=cookie,
            headers=request.get("headers"),
            raw=request.get("raw"),
        )
        assert status == expected, (name, status, answer)
        assert isinstance(answer, dict) and set(answer) == {"error"}, name
        sentence = answer["error"]
        assert sentence.endswith(".") and "Traceback" not in sentence and "\n" not in sentence
    assert snapshot(server) == before
    assert call(server, "GET", "/api/v1/open-visits", cookie=None)[0] == 401
    db = peek(server["storage"])
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT outcome FROM visits WHERE id = ?", [vid]).fetchone()[0] is None


def test_a_shift_cookie_works_only_with_the_device_it_was_started_on(server):
    """Issue #25: a copy of the shift cookie without its device cookie (another
    device, a replay) logged visits."""
    cookies = sign_in(server, "ana")
    shift = next(c for c in cookies.split("; ") if c.startswith("cxlog_shift="))
    other_device = sign_in(server, "ben").split("; ")
    other = next(c for c in other_device if c.startswith("cxlog_device="))
    for cookie in (shift, f"{shift}; {other}"):
        status, answer, _ = call(
            server, "POST", "/api/v1/taps", batch(server["ana"]), cookie=cookie
        )
        assert status == 401 and "started on another device" in answer["error"], cookie
        status, _, _ = call(server, "GET", "/api/v1/open-visits", cookie=cookie)
        assert status == 401
    status, answer, _ = call(server, "POST", "/api/v1/taps", batch(server["ana"]), cookie=cookies)
    assert status == 200 and all(t["ok"] for t in answer["taps"])
