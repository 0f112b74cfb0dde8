"""Joining a device: the addresses at which tablets and phones on the store
network reach the Log page, and a QR code to scan for one."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import segno


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback, private ones first.

    Read from the host's own name resolution: nothing is sent on the network.
    """
    found: set[str] = set()
    for name in {socket.gethostname(), socket.getfqdn()}:
        try:
            infos = socket.getaddrinfo(name, None, socket.AF_INET)
        except OSError:
            continue
        found.update(info[4][0] for info in infos)
    addresses = [a for a in found if not ipaddress.ip_address(a).is_loopback]
    return sorted(addresses, key=lambda a: (not ipaddress.ip_address(a).is_private, a))


def log_page_urls(port: int, seen_url: str | None = None, store_id: int | None = None) -> list[str]:
    """Where devices reach the Log page: the address this browser used (when it
    is not the server itself), then each LAN address of the server; with
    ``store_id`` (a chain, issue #28) the page opens on that store's people."""
    urls = []
    if seen_url:
        parts = urlsplit(seen_url)
        if parts.hostname and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
            urls.append(f"{parts.scheme}://{parts.netloc}/")
    urls += [f"http://{address}:{port}/" for address in lan_addresses()]
    if store_id is not None:
        urls = [f"{url}?store={int(store_id)}" for url in urls]
    return list(dict.fromkeys(urls))


def qr_svg(url: str, scale: int = 8) -> str:
    return segno.make(url, error="m").svg_inline(scale=scale, border=2)
