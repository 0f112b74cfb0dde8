"""The follow-up and return-visit routes the tap pad will call (issue #15),
driven through the ASGI app itself (no server process, no extra library)."""

from __future__ import annotations

import json

import pytest
from starlette.applications import Starlette

from cxlog.access import shifts
from cxlog.followups import followups
from cxlog.server import api
from cxlog.stores import catalog
from cxlog.visits import visits
from tests.conftest import new_id
from tests.helpers import asgi
from tests.helpers.peek import peek


def call(method: str, path: str, body=None, *, shift=None, origin=None, raw=None):
    """One request to cxlog's API routes; returns (status, JSON). ``shift`` is
    (token, device): the device's HttpOnly shift and device cookies."""
    payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    cookie = None
    if shift:
        token, device = shift
        cookie = f"{shifts.SHIFT_COOKIE}={token}; {shifts.DEVICE_COOKIE}={device}"
    status, _, data = asgi.request(
        Starlette(routes=api.routes()),
        method,
        path,
        cookie=cookie,
        body=payload,
        headers={"origin": origin} if origin else None,
    )
    return status, json.loads(data)


@pytest.fixture
def env(storage, shop, monkeypatch):
    monkeypatch.setenv("CXLOG_DB", storage.address)
    device = shifts.new_device_id()
    token = shifts.start(storage, shop["ana"], device)
    vid = new_id()
    visits.create_visit(storage, vid, shop["store"], shop["ana"], "warm")
    visits.record_no_purchase(storage, vid, actor="test")
    return {"shift": (token, device), "visit": vid, **shop, "storage": storage}


def followup_rows(storage) -> list[dict]:
    return list(peek(storage).query("SELECT * FROM followups"))


def test_promise_result_and_list_through_the_api(env):
    status, made = call(
        "POST",
        "/api/v1/followups",
        {"visit_id": env["visit"], "due": "tomorrow", "channel": "text"},
        shift=env["shift"],
        origin="http://127.0.0.1:8501",
    )
    assert status == 201 and made["created"] is True
    assert made["channel"] == "text" and len(made["code"]) == 5
    # The outbox sending the same promise again: 200, the same follow-up.
    status, again = call(
        "POST",
        "/api/v1/followups",
        {"visit_id": env["visit"], "due": "tomorrow", "channel": "text"},
        shift=env["shift"],
    )
    assert (status, again["id"], again["created"]) == (200, made["id"], False)
    status, listed = call("GET", "/api/v1/followups", shift=env["shift"])
    assert status == 200 and [r["code"] for r in listed["upcoming"]] == [made["code"]]
    assert listed["today"] == [] and listed["local_date"] < made["due_on"]
    status, done = call(
        "POST",
        f"/api/v1/followups/{made['id']}/result",
        {"result": "bought", "units": 3, "amount_cents": 1250},
        shift=env["shift"],
    )
    assert status == 200 and (done["result"], done["units"], done["amount_cents"]) == (
        "bought",
        3,
        1250,
    )
    status, twice = call(
        "POST",
        f"/api/v1/followups/{made['id']}/result",
        {"result": "bought", "units": 3},
        shift=env["shift"],
    )
    assert status == 422 and "already done" in twice["error"]
    assert len(followup_rows(env["storage"])) == 1


def test_snooze_and_return_through_the_api(env):
    item, _ = followups.promise(
        env["storage"], env["visit"], "tomorrow", "call", associate_id=env["ana"]
    )
    status, moved = call(
        "POST",
        f"/api/v1/followups/{item['id']}/snooze",
        {"until": "in_a_week"},
        shift=env["shift"],
    )
    assert status == 200 and moved["snoozes"] == 1
    back = new_id()
    visits.create_visit(env["storage"], back, env["store"], env["ana"], "neutral")
    status, link = call(
        "POST", f"/api/v1/visits/{back}/return", {"code": item["code"]}, shift=env["shift"]
    )
    assert status == 201 and link["original_visit_id"] == env["visit"]
    status, link = call(
        "POST", f"/api/v1/visits/{back}/return", {"code": item["code"]}, shift=env["shift"]
    )
    assert status == 200 and link["created"] is False


@pytest.mark.parametrize(
    ("case", "status", "words"),
    [
        ("no_shift", 401, "No one is signed in on this device"),
        ("ended_shift", 401, "ended with \u201cNot you?\u201d"),
        ("other_origin", 403, "another site"),
        ("not_json", 400, "not valid JSON"),
        ("nested_deep", 400, "not JSON this server can read"),  # issue #25: was 500
        ("huge_number", 400, "not JSON this server can read"),
        ("not_object", 400, "JSON object"),
        ("unknown_visit", 404, "not in this store"),
        ("other_store_shift", 404, "not in this store"),
        ("bad_channel", 422, "channel must be"),
        ("unknown_followup", 404, "not in this store's list"),
        ("unknown_code", 404, "has the code"),
    ],
)
def test_hostile_requests_answer_one_sentence_and_change_nothing(env, case, status, words):
    storage = env["storage"]
    shift, origin, raw = env["shift"], None, None
    path, body = (
        "/api/v1/followups",
        {"visit_id": env["visit"], "due": "tomorrow", "channel": "call"},
    )
    if case == "no_shift":
        shift = None
    elif case == "ended_shift":
        shifts.end(storage, shift[0])
    elif case == "other_origin":
        origin = "http://evil.example"
    elif case == "not_json":
        raw = b"{not json"
    elif case == "nested_deep":
        raw = b"[" * 30_000 + b"]" * 30_000
    elif case == "huge_number":
        raw = b'{"due": ' + b"7" * 5_000 + b"}"
    elif case == "not_object":
        body = ["tomorrow"]
    elif case == "unknown_visit":
        body["visit_id"] = new_id()
    elif case == "other_store_shift":
        far = catalog.create_store(storage, "Far Shop", "America/New_York")
        cleo = catalog.add_associate(storage, far, "Cleo", actor="t")
        device = shifts.new_device_id()
        shift = (shifts.start(storage, cleo, device), device)
    elif case == "bad_channel":
        body["channel"] = "+44 7700 900123"
    elif case == "unknown_followup":
        path, body = "/api/v1/followups/999/result", {"result": "reached"}
    elif case == "unknown_code":
        path, body = f"/api/v1/visits/{env['visit']}/return", {"code": "QQQQQ"}
    got_status, got = call("POST", path, body, shift=shift, origin=origin, raw=raw)
    assert got_status == status and words in got["error"]
    assert set(got) == {"error"} and "Traceback" not in got["error"]
    assert followup_rows(storage) == []


def test_code_look_ups_are_throttled_and_answer_alike_whether_a_code_exists(env):
    """Issue #25: 300 guesses took under 2 s with no lock, and on a visit
    already linked a code of the store answered 422, an unknown code 404."""
    storage = env["storage"]
    first, second, back = new_id(), new_id(), new_id()
    for vid in (first, second):
        visits.create_visit(storage, vid, env["store"], env["ben"], "warm")
        visits.record_no_purchase(storage, vid, actor="test")
    codes = [followups.visit_code(storage, vid, env["store"]) for vid in (first, second)]
    visits.create_visit(storage, back, env["store"], env["ana"], "warm")
    path = f"/api/v1/visits/{back}/return"
    assert call("POST", path, {"code": codes[0]}, shift=env["shift"])[0] == 201
    # Linked already: a code of the store and a code of no visit, one answer.
    existing = call("POST", path, {"code": codes[1]}, shift=env["shift"])
    unknown = call(
        "POST", path, {"code": "QQQQQ" if "QQQQQ" not in codes else "WWWWW"}, shift=env["shift"]
    )
    assert existing == unknown
    assert existing[0] == 422 and "already marked as the return" in existing[1]["error"]
    # Guessing: the burst, then a wait (per associate and per address).
    answers = [call("POST", path, {"code": f"G{i:04d}"}, shift=env["shift"])[0] for i in range(20)]
    assert answers.count(429) >= 20 - followups.CODE_LOOKUP_BURST
    status, body = call("POST", path, {"code": "ZZZZZ"}, shift=env["shift"])
    assert status == 429 and "wait" in body["error"]
