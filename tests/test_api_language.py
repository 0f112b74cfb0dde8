"""The API's language per request, money and the summary's Excel variant in
the reader's language (issue #29).

The catalogs are still empty, so where a translated sentence is wanted a
fake French catalog stands in for the real one."""

from __future__ import annotations

import io
import json
from datetime import date

import pandas as pd
import pytest
from babel.support import NullTranslations
from starlette.applications import Starlette
from starlette.requests import Request

from cxlog.access import shifts
from cxlog.core import money
from cxlog.core.errors import ValidationError
from cxlog.export import downloads, summary
from cxlog.export.export import ExportSelection
from cxlog.language import words
from cxlog.server import api
from cxlog.server.api import common
from cxlog.storage import settings
from cxlog.visits import taps
from tests.conftest import utc
from tests.helpers import asgi
from tests.helpers.rows import seed

FRENCH = {
    "The request is not valid JSON.": "La requête n'est pas du JSON valide.",
    "There is no such API address; update the app on this device.": (
        "Cette adresse d'API n'existe pas ; mettez l'application à jour sur cet appareil."
    ),
    "That visit reference is not valid; reload the page and tap again.": (
        "Cette référence de visite n'est pas valide ; rechargez la page et touchez à nouveau."
    ),
}


class _FakeFrench(NullTranslations):
    def gettext(self, message: str) -> str:
        return FRENCH.get(message, message)


@pytest.fixture
def french(monkeypatch):
    """A French catalog holding the few sentences above."""
    real = words.translations
    monkeypatch.setattr(
        words, "translations", lambda lang: _FakeFrench() if lang == "fr" else real(lang)
    )


def request_with(*, cookies: dict[str, str] | None = None, accept: str | None = None) -> Request:
    headers = []
    if cookies:
        headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()))
    if accept is not None:
        headers.append((b"accept-language", accept.encode()))
    return Request({"type": "http", "method": "GET", "path": "/api/v1/x", "headers": headers})


def shift_cookie(storage, shop) -> tuple[str, str]:
    device = shifts.new_device_id()
    return shifts.start(storage, shop["ana"], device), device


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"),
        ("de-DE", "de"),
        ("ja, es;q=0.4, en;q=0.3", "es"),
        ("en;q=0.2, de;q=0.9", "de"),
        ("es;q=0, fr;q=0.1", "fr"),
        ("ja, zh", None),
        ("", None),
        (None, None),
        ("fr;q=nonsense, de", "de"),
    ],
)
def test_the_browser_s_languages_are_heard_in_their_order(header, lang):
    assert common.heard_language(header) == lang


def test_a_request_s_language_device_then_store_then_browser_then_english(storage, shop):
    cookie, _device = shift_cookie(storage, shop)
    store = shop["store"]

    def chosen(**kw) -> str:
        return common.language_of(request_with(**kw), storage)

    # Nothing fixed anywhere: the browser's, else English.
    assert chosen(accept="de-AT,de;q=0.9") == "de"
    assert chosen() == "en"
    assert chosen(accept="ja") == "en"
    # The chain fixes one: a request without a shift (an owner's download) takes it.
    settings.set_language(storage, "es", actor="owner")
    assert chosen(accept="de") == "es"
    assert chosen(cookies={shifts.SHIFT_COOKIE: cookie}, accept="de") == "es"
    # The store fixes its own: a device on shift there takes it.
    settings.set_store_language(storage, store, "fr", actor="owner")
    assert chosen(cookies={shifts.SHIFT_COOKIE: cookie}, accept="de") == "fr"
    assert chosen(accept="de") == "es"  # no shift: the chain's
    # The device's own choice beats them all; one cxlog does not speak is ignored.
    assert chosen(cookies={words.DEVICE_COOKIE: "de", shifts.SHIFT_COOKIE: cookie}) == "de"
    both = {words.DEVICE_COOKIE: "xx", shifts.SHIFT_COOKIE: cookie}
    assert chosen(cookies=both) == "fr"
    # A hostile shift cookie only falls back to the chain's.
    assert chosen(cookies={shifts.SHIFT_COOKIE: "99999.nope"}) == "es"
    assert chosen(cookies={shifts.SHIFT_COOKIE: "x" * 500}) == "es"


def test_the_language_is_read_once_per_request(storage, shop, monkeypatch):
    reads = []
    real = settings.store_language

    def counted(*args):
        reads.append(args)
        return real(*args)

    monkeypatch.setattr(settings, "store_language", counted)
    request = request_with(accept="fr")
    assert common.language_of(request, storage) == "fr"
    assert common.language_of(request, storage) == "fr"
    assert len(reads) == 1


def test_a_storage_in_trouble_leaves_the_browser_s_language(monkeypatch):
    class Broken:
        def one_connection(self, **kw):
            raise OSError("gone")

    assert common.language_of(request_with(accept="es"), Broken()) == "es"


def call(method, path, *, cookie=None, body=b"", headers=None):
    """One request to the API routes; a query string after "?" is sent as one."""
    path, _mark, query = path.partition("?")
    app = Starlette(routes=api.routes())

    async def with_query(scope, receive, send):
        await app({**scope, "query_string": query.encode()}, receive, send)

    status, _headers, data = asgi.request(
        with_query, method, path, cookie=cookie, body=body, headers=headers
    )
    return status, json.loads(data)


def test_refusals_come_in_the_request_s_language(app_env, french):
    # On the event loop, before the body is read (ApiError.later) …
    device_fr = f"{words.DEVICE_COOKIE}=fr"
    status, answer = call("POST", "/api/v1/followups", cookie=device_fr, body=b"{nope")
    assert (status, answer) == (400, {"error": FRENCH["The request is not valid JSON."]})
    # … in a plain route …
    status, answer = call("GET", "/api/v1/nowhere", cookie=device_fr)
    assert status == 404 and answer["error"].startswith("Cette adresse")
    # … and from the browser's language alone.
    status, answer = call("GET", "/api/v1/nowhere", headers={"accept-language": "fr-FR"})
    assert status == 404 and answer["error"].startswith("Cette adresse")
    # English stays the code's own words.
    status, answer = call("POST", "/api/v1/followups", body=b"{nope")
    assert answer == {"error": "The request is not valid JSON."}


def test_a_store_s_language_reaches_a_tap_s_answer(app_env, shop, french):
    """A tap refused inside the batch (a ValidationError in cxlog.core.model),
    in the store's language: the work runs in it on its worker thread."""
    settings.set_store_language(app_env, shop["store"], "fr", actor="owner")
    token, device = shift_cookie(app_env, shop)
    cookie = f"{shifts.SHIFT_COOKIE}={token}; {shifts.DEVICE_COOKIE}={device}"
    tap = {"id": "12345678", "visit": "x", "kind": "no_purchase", "at": 1, "by": shop["ana"]}
    bad = {"sent_at": 1_800_000_000_000, "taps": [tap]}
    status, answer = call("POST", "/api/v1/taps", cookie=cookie, body=json.dumps(bad).encode())
    assert status == 400
    assert (
        answer["error"]
        == FRENCH["That visit reference is not valid; reload the page and tap again."]
    )


def test_the_board_carries_the_store_s_language(app_env, shop):
    token, device = shift_cookie(app_env, shop)
    cookie = f"{shifts.SHIFT_COOKIE}={token}; {shifts.DEVICE_COOKIE}={device}"
    status, board = call("GET", "/api/v1/open-visits", cookie=cookie)
    assert status == 200 and board["changed"] is True and board["lang"] is None
    version = board["version"]
    # The chain's language, then the store's own: the unchanged answer says so.
    settings.set_language(app_env, "de", actor="owner")
    status, same = call("GET", f"/api/v1/open-visits?since={version}", cookie=cookie)
    assert same == {"version": version, "changed": False, "lang": "de"}
    settings.set_store_language(app_env, shop["store"], "es", actor="owner")
    status, same = call("GET", f"/api/v1/open-visits?since={version}", cookie=cookie)
    assert same["lang"] == "es"
    assert taps.board(app_env, shop["store"], "Europe/London")["lang"] == "es"
    settings.set_store_language(app_env, shop["store"], None, actor="owner")
    assert taps.board(app_env, shop["store"], "Europe/London")["lang"] == "de"


def test_money_is_written_in_the_current_language():
    assert money.money(1234.5, "GBP") == "£1,234.50"  # English as before
    assert money.money(1234.5, None) == "1,234.50"
    assert money.money_md(3.5, "USD") == "\\$3.50"
    with words.using("de"):
        assert money.money(1234.5, "EUR") == "1.234,50\xa0€"
        assert money.money(1234.5, None) == "1.234,50"
    with words.using("fr"):
        assert money.money(1234.5, None) == "1\u202f234,50"
        assert money.check_currency(" eur ") == "EUR"
        with pytest.raises(ValidationError, match="ISO 4217"):
            money.check_currency("XYZ")


def test_the_summary_s_excel_variant_follows_the_language(storage, shop):
    seed(storage, shop, utc("2026-11-03T10:00:00+00:00"), warm_buys=15, neutral_buys=5)
    selection = ExportSelection(first_day=date(2026, 11, 1), last_day=date(2026, 11, 30))
    plain = summary.summary_csv(storage, selection)
    excel_en = summary.summary_csv(storage, selection, for_excel=True)
    with words.using("fr"):
        assert summary.summary_csv(storage, selection) == plain  # never the language's
        excel_fr = summary.summary_csv(storage, selection, for_excel=True)
    with words.using("de"):
        assert summary.summary_csv(storage, selection, for_excel=True) == excel_fr
    assert excel_en == "\ufeff".encode() + plain  # English: a BOM, nothing else
    # French Excel: ";" between fields, "," for decimals, the same English columns.
    assert excel_fr.startswith("\ufeff".encode())
    table = pd.read_csv(io.BytesIO(excel_fr), sep=";", decimal=",", encoding="utf-8-sig")
    assert list(table.columns) == list(summary.COLUMNS)
    english = pd.read_csv(io.BytesIO(plain))
    pd.testing.assert_frame_equal(table, english)
    row = table[table["table"] == "all"].iloc[0]
    assert row["conversion"] == 0.4 and row["average_sale"] == 12.5
    assert b"0,4;" in excel_fr and b"0.4" not in excel_fr


def test_a_download_writes_the_summary_in_the_asking_page_s_language(storage, shop):
    seed(storage, shop, utc("2026-11-03T10:00:00+00:00"), warm_buys=15, neutral_buys=5)
    with words.using("es"):
        choices = downloads.csv_choices(ExportSelection(), True)
    assert choices["lang"] == "es"
    made = downloads.make(storage, {"kind": "summary", "file_name": "s.csv", "choices": choices})
    assert made.data.splitlines()[0].startswith("\ufefftable;group;visits".encode())
    older = {k: v for k, v in choices.items() if k != "lang"}  # an offer from before #29
    made = downloads.make(storage, {"kind": "summary", "file_name": "s.csv", "choices": older})
    assert made.data.splitlines()[0].startswith("\ufefftable,group,visits".encode())


@pytest.mark.parametrize("lang", ["en", "fr", "de", "es"])
def test_refusals_in_every_language_fill_their_placeholders(storage, shop, lang):
    """Every refusal formats in every language, and is in that language."""
    from cxlog.core import model
    from cxlog.stores import catalog
    from cxlog.visits import visits

    with words.using(lang):
        for attempt in (
            lambda: model.units(0),
            lambda: model.units("2"),
            lambda: model.parse_amount("abc"),
            lambda: model.clean_text("", "store name"),
            lambda: model.clean_text("x" * 99, "list entry"),
            lambda: model.timezone_name("Mars/Base"),
            lambda: catalog.add_associate(storage, shop["store"], "Ana", actor="t"),
            lambda: visits.correct_visit(storage, "abcdefgh", actor="t", nope=1),
            lambda: taps.clean_batch({"sent_at": 1, "taps": [{}] * 201}),
            lambda: taps.clean_tap(
                {"id": "12345678", "visit": "abcdefgh", "kind": "purchase", "at": 1, "by": 1}
                | {"units": 100}
            ),
        ):
            with pytest.raises(Exception) as refused:
                attempt()
            assert str(refused.value) and "{" not in str(refused.value)
        choices = taps.followup_choices()
        tomorrow = words._("Tomorrow")
    assert next(c["name"] for c in choices["due"]) == tomorrow
    assert (tomorrow == "Tomorrow") == (lang == "en")
