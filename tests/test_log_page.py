"""The Log page through AppTest (issues #3, #10, #11): the page only draws the
tap pad with its data; taps go to the API (tests/test_taps.py,
tests/test_api_taps.py) and the pad itself is driven in Chromium
(tests/e2e/test_log_browser.py)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from cxlog.access import access, shifts
from cxlog.core.errors import StorageError
from cxlog.storage import settings
from cxlog.stores import catalog
from cxlog.visits import visits
from tests.conftest import new_id
from tests.helpers.pages import device, pad_data


@pytest.fixture
def db_env(app_env):
    return app_env


def cookie_for(storage, associate_id: int) -> str:
    return shifts.start(storage, associate_id, shifts.new_device_id())


def test_without_a_shift_the_pad_asks_who_is_logging(db_env, shop, monkeypatch):
    catalog.set_associate_active(db_env, shop["ben"], False, actor="manager")
    hostile = catalog.add_associate(db_env, shop["store"], "<b>Zed</b> [x](y)", actor="test")
    at = device(monkeypatch, db_env)
    assert not at.exception
    data = pad_data(at)
    # The pad's words in the page's language, and what chose it (#29):
    # tests/test_language_choice.py.
    assert data.pop("words")["lang"] == "en"
    assert (data.pop("lang_source"), data.pop("browser_lang")) == ("browser", "en")
    assert data == {
        "mode": "who",
        "api": "/api/v1",
        # Active ones only, by name; exactly as typed (the pad shows text).
        "people": [
            {"id": hostile, "name": "<b>Zed</b> [x](y)"},
            {"id": shop["ana"], "name": "Ana"},
        ],
        "pin_required": False,
    }
    settings.set_setting(db_env, settings.PIN_REQUIRED, "1", actor="manager")
    assert pad_data(device(monkeypatch, db_env))["pin_required"] is True


def test_on_shift_the_pad_gets_the_lists_and_the_board(db_env, shop, monkeypatch):
    first, second = new_id(), new_id()
    visits.create_visit(db_env, first, shop["store"], shop["ben"], "warm")
    visits.create_visit(db_env, second, shop["store"], shop["ana"], "neutral")
    closed = new_id()
    visits.create_visit(db_env, closed, shop["store"], shop["ana"], "missed")
    visits.record_no_purchase(db_env, closed, actor=f"associate:{shop['ana']}")
    at = device(monkeypatch, db_env, cookie_for(db_env, shop["ana"]))
    assert not at.exception
    data = pad_data(at)
    assert data["mode"] == "log"
    assert data["me"] == {"id": shop["ana"], "name": "Ana", "store": "Corner Shop"}
    assert data["timezone"] == "Europe/London"
    assert [r["name"] for r in data["reasons"]] == [
        "Gift",
        "Replace or upgrade",
        "Specific item",
        "Browsing",
        "Service or return",
        "Not learned",
    ]
    assert [r["id"] for r in data["no_sale"]] == list(shop["no_sale"].values())
    board = data["board"]
    assert {v["id"]: v["by"] for v in board["open"]} == {first: "Ben", second: "Ana"}
    assert (board["today_count"], [v["id"] for v in board["today"]]) == (1, [closed])
    assert board["today"][0]["outcome"] == "no_purchase"
    # The closed card's "Follow-up" offers the Follow-ups page's words (#15).
    assert data["followup"] == {
        "due": [
            {"id": "tomorrow", "name": "Tomorrow"},
            {"id": "in_3_days", "name": "In 3 days"},
            {"id": "in_a_week", "name": "In a week"},
        ],
        "channels": [
            {"id": "call", "name": "Call"},
            {"id": "text", "name": "Text"},
            {"id": "email", "name": "E-mail"},
            {"id": "in_store", "name": "In store"},
        ],
        "default_channel": "call",
    }


def test_the_team_line_joins_the_board_from_the_tenth_closed_visit(db_env, shop, monkeypatch):
    """Issue #14: today's warm rate against the goal and today's focus, as
    plain text (the pad draws text as text: no Markdown escapes)."""
    from cxlog.calendar import localday
    from cxlog.coaching import goals
    from cxlog.core.model import utc_now

    for i in range(10):
        vid = new_id()
        visits.create_visit(db_env, vid, shop["store"], shop["ana"], "warm" if i < 6 else "neutral")
        visits.record_no_purchase(db_env, vid, actor="test")
        if i == 8:
            data = pad_data(device(monkeypatch, db_env, cookie_for(db_env, shop["ana"])))
            assert data["board"]["team_line"] is None  # 9 closed
    goals.set_goals(db_env, shop["store"], warm_rate_percent=70, actor="test")
    focus = goals.add_behaviour(db_env, "Ask *what* it's for", actor="test")
    today = localday.local_date(utc_now(), ZoneInfo("Europe/London"))
    goals.set_focus(db_env, shop["store"], today, focus, actor="test")
    data = pad_data(device(monkeypatch, db_env, cookie_for(db_env, shop["ana"])))
    assert data["board"]["team_line"] == (
        "Team today: warm rate 60% (goal 70%) · focus: Ask *what* it's for"
    )


@pytest.mark.parametrize("end", ["not_you", "deactivated", "pin"])
def test_an_ended_shift_asks_who_is_logging_again(db_env, shop, monkeypatch, end):
    cookie = cookie_for(db_env, shop["ana"])
    if end == "not_you":
        shifts.end(db_env, cookie)
    elif end == "deactivated":
        catalog.set_associate_active(db_env, shop["ana"], False, actor="manager")
    else:
        access.set_pin(db_env, shop["ana"], "2468", actor="manager")
    assert pad_data(device(monkeypatch, db_env, cookie))["mode"] == "who"


def test_a_store_without_associates_gets_guidance(db_env, shop, monkeypatch):
    for who in ("ana", "ben"):
        catalog.set_associate_active(db_env, shop[who], False, actor="manager")
    at = device(monkeypatch, db_env)
    assert not at.exception
    assert "No associates yet" in at.info[0].value
    assert pad_data(at) is None


def test_a_failed_read_is_a_sentence_not_a_stack_trace(db_env, shop, monkeypatch):
    cookie = cookie_for(db_env, shop["ana"])

    def gone(*args, **kwargs):
        raise StorageError("The database file x cannot be opened.")

    for name in ("open_visits", "closed_since"):  # the board's two reads (#25)
        with monkeypatch.context() as patch:
            patch.setattr(visits, name, gone)
            at = device(patch, db_env, cookie)
            assert not at.exception, name
            assert any("cannot be opened" in e.value for e in at.error), name
            assert pad_data(at) is None  # no pad that would pretend to save
    assert pad_data(device(monkeypatch, db_env, cookie))["mode"] == "log"
