"""A chain on this machine, for anyone to try (issue #28): `make chain`, or
``python -m cxlog.local_chain [--visits N] [--stores S]``.

It starts a throwaway PostgreSQL (cxlog/storage/local_postgres.py) with demo
data and an owner and a manager account, two app processes (``python -m
cxlog.serve``) on 127.0.0.1, and HAProxy in front of them with the very
configuration a chain deploys (deploy/haproxy.cfg). It prints the address
to open and the two accounts, and stops everything it started, by process
id, on Ctrl-C. The tests start the same chain (tests/reliability/test_chain.py).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cxlog.storage.local_postgres import Cluster, binaries
from cxlog.storage.postgres import close_pool

ROOT = Path(__file__).resolve().parents[1]
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"
HEALTHY_WITHIN_S = 30
# The demo's two accounts (a chain's own are made in Settings → Accounts).
DEMO_ACCOUNTS = (("owner", "owner", "owner-demo-1"), ("manager", "manager", "manager-demo-1"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_flags(port: int) -> list[str]:
    """Streamlit's flags for an app process on 127.0.0.1 (behind a proxy, or
    under test): no browser, no usage statistics, no file watcher."""
    return [
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]


def start_app(database: str, port: int, log: Path | None = None) -> subprocess.Popen:
    """``python -m cxlog.serve`` on ``port`` with CXLOG_DB=database, in a
    process group of its own (``stop`` ends it and what it started)."""
    return _spawn(
        [sys.executable, "-m", "cxlog.serve", *serve_flags(port)],
        {**os.environ, "CXLOG_DB": database},
        log,
    )


def _spawn(command: list[str], env: dict[str, str], log: Path | None) -> subprocess.Popen:
    """A child in a process group of its own (``stop`` ends it and what it
    started), its output appended to ``log`` (or dropped), run from the
    project's folder."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child keeps it
    try:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        if log:
            out.close()


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = HEALTHY_WITHIN_S) -> None:
    """Until ``url``'s Streamlit answers its health check; an error if the
    process ends first or the time runs out (polled, bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server at {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the server at {url} was not healthy after {timeout} s")


def stop(process: subprocess.Popen) -> None:
    """Stop a process started here and anything it started, by process group id."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@dataclass
class Chain:
    """What ``running`` started: the address to open (HAProxy's), the app
    processes by server name (deploy/haproxy.cfg's app1, app2) and the database."""

    url: str
    database: str
    apps: dict[str, subprocess.Popen] = field(default_factory=dict)
    app_urls: dict[str, str] = field(default_factory=dict)
    haproxy: subprocess.Popen | None = None


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )


def start_haproxy(front_port: int, apps: dict[str, int], log: Path | None = None):
    """HAProxy with deploy/haproxy.cfg, its addresses from the environment."""
    binary = haproxy_binary()
    if binary is None:
        raise RuntimeError("HAProxy is not installed (apt-get install haproxy).")
    env = {
        **os.environ,
        "CXLOG_FRONT_ADDRESS": "127.0.0.1",
        "CXLOG_FRONT_PORT": str(front_port),
        **{f"CXLOG_{name.upper()}": f"127.0.0.1:{port}" for name, port in apps.items()},
    }
    # -db: stay in the foreground, so this process id is HAProxy's own.
    return _spawn([binary, "-db", "-f", str(HAPROXY_CFG)], env, log)


def wait_balanced(url: str, haproxy: subprocess.Popen, servers: set[str]) -> None:
    """Until HAProxy answers through each of ``servers`` (health checks passed)."""
    seen: set[str] = set()
    deadline = time.monotonic() + HEALTHY_WITHIN_S
    while time.monotonic() < deadline and seen != servers:
        if haproxy.poll() is not None:
            raise RuntimeError(f"HAProxy exited with {haproxy.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2) as response:
                seen.add(response.headers.get("X-Cxlog-Server", ""))
        except OSError:
            time.sleep(0.2)
    if seen != servers:
        raise TimeoutError(f"HAProxy reached {sorted(seen)} of {sorted(servers)}")


@contextlib.contextmanager
def running(
    folder: Path, *, visits: int = 300, stores: int = 2, logs: Path | None = None
) -> Iterator[Chain]:
    """A throwaway chain in ``folder``: PostgreSQL with ``visits`` demo
    visits in ``stores`` stores and the demo accounts, two app processes and
    HAProxy, all on 127.0.0.1. Everything is stopped on leaving, by process id."""
    from cxlog import demo
    from cxlog.access import accounts
    from cxlog.storage.db import open_storage

    bindir = binaries()
    if bindir is None:
        raise RuntimeError("PostgreSQL 15+ is not installed (apt-get install postgresql).")
    cluster = Cluster(folder / "postgres", bindir)
    cluster.start()
    started: list[subprocess.Popen] = []
    try:
        database = cluster.url
        storage = open_storage(database)
        storage.migrate()
        demo.generate(storage, visits=visits, days=90, stores=stores, associates=6, seed=1)
        for login, role, password in DEMO_ACCOUNTS:
            accounts.add_or_reset(storage, login, role, password, actor="local_chain")
        ports = {"app1": free_port(), "app2": free_port()}
        chain = Chain(url="", database=database)
        for name, port in ports.items():
            log = logs / f"{name}.log" if logs else None
            chain.apps[name] = start_app(database, port, log)
            started.append(chain.apps[name])
            chain.app_urls[name] = f"http://127.0.0.1:{port}"
        for name, process in chain.apps.items():
            wait_healthy(chain.app_urls[name], process)
        front = free_port()
        chain.haproxy = start_haproxy(front, ports, logs / "haproxy.log" if logs else None)
        started.append(chain.haproxy)
        chain.url = f"http://127.0.0.1:{front}"
        wait_balanced(chain.url, chain.haproxy, set(ports))
        yield chain
    finally:
        for process in reversed(started):
            stop(process)
        close_pool(cluster.url)
        cluster.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cxlog.local_chain", description=__doc__)
    parser.add_argument("--visits", type=int, default=20_000)
    parser.add_argument("--stores", type=int, default=3)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="cxlog-chain-"))
    try:
        with running(folder, visits=args.visits, stores=args.stores, logs=folder) as chain:
            print(f"A chain on this machine: open {chain.url}")
            print("  sign in as owner / owner-demo-1, or manager / manager-demo-1")
            print(f"  app processes: {', '.join(chain.app_urls.values())}; logs in {folder}")
            print("Ctrl-C stops PostgreSQL, both app processes and HAProxy.")
            with contextlib.suppress(KeyboardInterrupt):
                while all(p.poll() is None for p in [*chain.apps.values(), chain.haproxy]):
                    time.sleep(1)
    except RuntimeError as exc:
        print(f"cxlog: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # a throwaway chain: nothing kept
    return 0


if __name__ == "__main__":
    sys.exit(main())
