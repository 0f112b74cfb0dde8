import segno

from cxlog.access import join


def test_urls_prefer_the_address_the_browser_used(monkeypatch):
    monkeypatch.setattr(join, "lan_addresses", lambda: ["192.168.1.20", "10.0.0.7"])
    assert join.log_page_urls(8501, "http://192.168.1.20:8501/settings") == [
        "http://192.168.1.20:8501/",
        "http://10.0.0.7:8501/",
    ]
    assert join.log_page_urls(8501, "http://localhost:8501/settings") == [
        "http://192.168.1.20:8501/",
        "http://10.0.0.7:8501/",
    ]


def test_lan_addresses_leave_out_loopback(monkeypatch):
    infos = [
        (2, 1, 6, "", ("127.0.1.1", 0)),
        (2, 1, 6, "", ("192.168.1.20", 0)),
        (2, 1, 6, "", ("8.8.4.4", 0)),
    ]
    monkeypatch.setattr(join.socket, "getaddrinfo", lambda *a, **k: infos)
    assert join.lan_addresses() == ["192.168.1.20", "8.8.4.4"]


def test_qr_code_encodes_the_url():
    svg = join.qr_svg("http://192.168.1.20:8501/")
    assert svg.startswith("<svg") and "qrline" in svg
    # The same URL always gives the same symbol: compare with segno's own matrix size.
    assert segno.make("http://192.168.1.20:8501/", error="m").symbol_size(scale=8, border=2)[
        0
    ] == int(svg.split('width="')[1].split('"')[0])
