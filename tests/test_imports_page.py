"""The Imports page and the dashboard's coverage views through AppTest (#13)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from streamlit.testing.v1 import AppTest

from cxlog.calendar import localday
from cxlog.core.model import to_utc_text, utc_now
from cxlog.coverage import traffic
from cxlog.numbers import derived
from tests.conftest import as_role, new_id
from tests.helpers.pages import open_page


def page(name: str, role: str = "manager") -> AppTest:
    at = open_page(f"pages/{name}")
    at.default_timeout = 30
    return as_role(at, role)


def shown(text: str) -> str:
    """Markdown as a person reads it: escapes and word joiners gone."""
    return text.replace("\\", "").replace("\u2060", "")


def stored_hours(storage) -> int:
    with storage.read() as db:
        return db.execute("SELECT count(*) FROM traffic_hours").fetchone()[0]


def test_upload_refuses_a_bad_file_then_imports_a_good_one(app_env, shop):
    yesterday = localday.today("Europe/London", utc_now()) - timedelta(days=1)
    at = page("imports.py")
    at.run()
    assert not at.exception
    assert at.button(key="imports-go").disabled  # nothing uploaded yet
    bad = f"start,in\n{yesterday} 10:00,12\n{yesterday} 11:00,many\n"
    at.file_uploader(key="imports-file-traffic").upload("door.csv", bad.encode(), "text/csv")
    at.run()
    at.button(key="imports-go").click().run()
    error = shown(at.error[0].value)
    assert "door.csv was not imported** (nothing was saved): 1 line(s) need fixing" in error
    assert "- Line 3: the entries (in) must be a whole number of 0 or more, not 'many'." in error
    assert stored_hours(app_env) == 0

    good = f"start,in\n{yesterday} 10:00,12\n{yesterday} 11:00,8\n"
    at.file_uploader(key="imports-file-traffic").upload("door.csv", good.encode(), "text/csv")
    at.run()
    at.button(key="imports-go").click().run()
    assert not at.error
    assert shown(at.success[0].value).startswith("Imported 2 hours of traffic for Corner Shop")
    assert stored_hours(app_env) == 2
    # The last 30 days: 20 visitors, nothing logged → 0% and the warning.
    assert [m.value for m in at.metric][:1] == ["0%"]
    assert "Corner Shop logged 0% of 20 visitors (threshold 70%)" in at.warning[0].value
    table = at.table[0].value
    assert list(table["Visitors"]) == ["20"] and list(table["Coverage"]) == ["0%"]

    # Counter settings: saved, and they change the numbers (12-5 + 8-5 = 10).
    at.checkbox(key="imports-two-way").check()
    at.number_input(key="imports-staff").set_value(5.0)
    at.number_input(key="imports-threshold").set_value(50)
    at.button[-1].click().run()  # the form's submit button
    assert traffic.counter_settings(app_env)[shop["store"]] == traffic.CounterSettings(
        True, 5.0, 0.5
    )
    assert "0% of 10 visitors (threshold 50%)" in at.warning[0].value


def test_imports_and_counter_settings_are_audited_as_who_signed_in(app_env, shop):
    """Issue #25: the owner's imports were audited as "manager"."""
    yesterday = localday.today("Europe/London", utc_now()) - timedelta(days=1)
    at = page("imports.py", "owner")
    at.run()
    good = f"start,in\n{yesterday} 10:00,12\n"
    at.file_uploader(key="imports-file-traffic").upload("door.csv", good.encode(), "text/csv")
    at.run()
    at.button(key="imports-go").click().run()
    at.checkbox(key="imports-two-way").check()
    at.button[-1].click().run()
    with app_env.read() as db:
        actors = db.execute(
            "SELECT entity, actor FROM audit WHERE entity IN ('traffic', 'traffic_settings')"
            " ORDER BY id"
        ).fetchall()
    assert [tuple(a) for a in actors] == [
        ("traffic", "owner:owner"),
        ("traffic_settings", "owner:owner"),
    ]


def test_dashboard_shows_coverage_tiles_heat_and_warning(app_env, shop):
    """1–19 Nov 2026, London (GMT). 25 closed visits on Tue 10 Nov 12:xx (10
    bought 2 units each); the counter saw 40 that hour → 62.5% < 70%. POS: 12
    transactions, 30 units that day → 30%, 2.50 units per transaction."""
    rows = []
    for i in range(25):
        at = to_utc_text(datetime(2026, 11, 10, 12, i, tzinfo=UTC))
        bought = i < 10
        rows.append(
            {
                "id": new_id(),
                "store_id": shop["store"],
                "associate_id": shop["ana"],
                "started_at": at,
                "updated_at": at,
                "closed_at": at,
                "first_engagement": "warm",
                "outcome": "purchased" if bought else "no_purchase",
                "units": 2 if bought else None,
            }
        )
    with app_env.write() as db:
        db.insert_rows("visits", rows)
        # Written behind cxlog's back: recount the dashboard's rollups (#12).
        derived.rebuild(db)
    query = {"period": "custom", "from": "2026-11-01", "to": "2026-11-19"}
    at = page("dashboard.py")
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "Logging coverage" not in labels  # no counter data: no tile, no warning
    assert not at.warning

    traffic.import_file(
        app_env, "traffic", shop["store"], "start,in\n2026-11-10 12:00,40\n", actor="t"
    )
    traffic.import_file(
        app_env, "pos", shop["store"], "date,transactions,units\n2026-11-10,12,30\n", actor="t"
    )
    at = page("dashboard.py")
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Logging coverage"] == "62%"  # 25 / 40 = 62.5%, shown to 0 places
    assert tiles["POS conversion"] == "30.0%"  # 12 / 40
    assert tiles["Units per transaction"] == "2.50"  # 30 / 12
    captions = [c.value for c in at.caption]
    assert "25 logged of 40 visitors · 1 counter hours" in captions
    assert "12 transactions over 1 days · logged conversion 40.0%" in captions  # 10 / 25
    assert "POS · logged units per sale 2.00" in captions
    assert "Corner Shop logged 62% of 40 visitors (threshold 70%)" in at.warning[0].value
    headers = [h.value for h in at.subheader]
    assert "Logging coverage, hour × weekday" in headers
    assert any("1 of 1 weekday-hours are under 70% logged" in m.value for m in at.markdown)
    assert date(2026, 11, 10).weekday() == 1  # the Tue row of the grid
