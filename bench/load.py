"""Capacity, measured (issue #28, deliverable 6): tablets played at protocol
level against real app processes, on SQLite, on PostgreSQL and on two
processes behind HAProxy.

Targets: ``load_tablets_per_process_sqlite`` and ``_postgresql``: the most
tablets one ``python -m cxlog.serve`` holds with tap p95 ≤ 150 ms and 0
errors (reported, with ``…_dashboard_runs_per_min`` beside them);
``load_scale_ratio_two_vs_one`` ≥ 1.6 (``load_tablets_two_processes`` ÷ the
one-process PostgreSQL figure of the same run); the chain peak, 500 stores
× 2 tablets at 5× the busy-Saturday tap rate for 60 s: ``load_peak_lost`` = 0
and ``load_peak_doubled`` = 0, ``load_peak_tap_ms_p95`` reported.

A tablet here is what the Log page's pad does over the network, nothing
more (cxlog/web/pad/pad.js):

- It loads ``/`` (the page, Streamlit's cookies, HAProxy's sticky cookie),
  starts a shift with ``POST /api/v1/shifts {"associate_id"}`` (the name
  button: HttpOnly shift and device cookies), then opens Streamlit's
  websocket ``/_stcore/stream`` with those cookies, runs the Log page once
  (a ``rerun_script`` BackMsg, as the browser sends on load), waits for its
  ``script_finished`` and keeps the session open to the end.
- It reads the board with ``GET /api/v1/open-visits?since=<version>`` every
  5 s (``POLL_MS``) and once after each answered tap (``setTimeout(refresh,
  0)``), never while its own tap is in flight.
- It logs visits at the busy-Saturday rate: **one visit per tablet every 2
  minutes** (30 an hour per associate: a store with ten tablets logs 300
  visits an hour, "a few hundred", cxlog/access/shifts.py), each visit three
  taps as the pad sends them (``POST /api/v1/taps {"sent_at", "taps": [one
  tap]}``): start (warm, neutral or missed) at once, a reason a sixth of the
  period later, then purchase (60 %, 1–6 units) or no purchase at half the
  period. 1.5 taps a minute per tablet; the peak runs 5× (a visit every
  24 s). A tap whose answer does not come within 5 s (``TIMEOUT_MS``) or
  that fails is an error, and is sent again with the same id, as the pad's
  outbox does.
- Each tablet has its own loopback address (127.1.x.y), as each tablet on a
  store network has its own: rate limits and sign-in locks are per address.

A manager is a Streamlit session on the Dashboard page, signed in: the
password is checked and the session started by the same cxlog functions
the sign-in form calls (``accounts.check_sign_in``, ``sessions.start``, in
this process, against the same database), then the claim code is traded
for the session cookie with ``POST /api/v1/sessions/claim`` as the page's
script does, and the websocket opened with that cookie runs the Dashboard
page (default period) again and again: two managers, each 10 s after their
previous run finished. Taps change the data version, so nearly every run
builds its numbers anew.

One process's capacity is a stepped ramp (``STEPS``): tablets are added,
then a 20 s window is measured; the figure is the largest step with tap p95
≤ 150 ms, 0 errors and every session still open; the ramp stops at the
first step that fails, and measures that step once more with the managers
stopped. The two-process ramp starts at the step one process held. The
databases hold 700 stores of two associates (1,400 tablets at most) and
40,000 demo visits; the peak's tablets are those of the first 500 stores.

What limits a process is measured on its own at the start of each engine's
run: CPU ms per first Log page run (a session's
start) and per rerun, per tap and per board read (server side: the app
process's utime + stime from /proc), and RSS per held session (VmRSS before
and after the sessions). The generator is this one asyncio process; its CPU
is reported beside the servers' (``load_generator_cpu_pct``: of one core).

Everything runs on 127.0.0.1 (PostgreSQL on a Unix socket), bounded in
count and time, and every process started is stopped by its id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from websockets.exceptions import ConnectionClosed

from bench.common import RESULTS, fresh, report

# --- the rates (module docstring) ----------------------------------------------

VISIT_EVERY_S = 120.0  # busy Saturday: one visit per tablet every 2 minutes
POLL_S = 5.0  # pad.js POLL_MS
TIMEOUT_S = 5.0  # pad.js TIMEOUT_MS
RESEND_S = 2.0  # pad.js RESEND_MS
P95_LIMIT_MS = 150.0
MANAGERS, MANAGER_THINK_S = 2, 10.0

# --- the ramp ---------------------------------------------------------------------

STEPS = (200, 300, 400, 500, 650, 800, 1000, 1200, 1400)
WINDOW_S = 20.0
SETTLE_S = 3.0
CONNECT_AT_ONCE = 8  # sessions opened at a time while a step adds tablets
START_STEP_S = 30.0  # each step of a tablet's start: the page, the shift, the session
RAMP_BUDGET_S = 240.0  # a ramp stops here even if it still passes

# --- the peak ------------------------------------------------------------------------

PEAK_STORES, PEAK_TABLETS_PER_STORE, PEAK_RATE, PEAK_S = 500, 2, 5.0, 60.0
# The databases: STORES stores of two tablets each (the ramps' most tablets;
# the peak uses the first PEAK_STORES), VISITS demo visits behind them.
STORES = 700
PEAK_CONNECT_S = 240.0  # the tablets' sessions are opened first, within this

VISITS = 40_000
MANAGER_PASSWORD = "bench-manager-pw-1"
CALIBRATE_SESSIONS, CALIBRATE_TAPS, CALIBRATE_POLLS = 30, 150, 300


# --- decisions (tests/test_bench_load.py) -------------------------------------------


def p95(values: list[float]) -> float:
    """The 95th percentile (inclusive quantiles; the value itself for one)."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def step_passes(tap_ms: list[float], errors: int, closed_sessions: int) -> bool:
    """A step holds its tablets: taps answered, p95 within the limit, nothing failed."""
    return bool(tap_ms) and errors == 0 and closed_sessions == 0 and p95(tap_ms) <= P95_LIMIT_MS


def held(results: list[tuple[int, bool]]) -> int:
    """The most tablets of a ramp's steps (in order) before the first that
    failed; 0 when the first failed."""
    best = 0
    for tablets, ok in results:
        if not ok:
            break
        best = tablets
    return best


def recount(acked: dict[str, dict], rows: list[dict], tap_rows: list[dict]) -> dict:
    """The visits table against what the tablets were told was saved.

    ``acked``: visit id → the fields its acknowledged taps set
    (``first_engagement``, and ``reason_id``, ``outcome``, ``units`` once
    acknowledged); ``rows``: the stored visits of those ids (every column
    compared); ``tap_rows``: the taps table's rows (``id``) of the
    acknowledged tap ids. Lost: an acknowledged visit missing, or a field
    not as acknowledged; doubled: a visit id or a tap id stored more than
    once."""
    stored: dict[str, list[dict]] = {}
    for row in rows:
        stored.setdefault(row["id"], []).append(row)
    lost = wrong = 0
    for vid, fields in acked.items():
        found = stored.get(vid, [])
        if not found:
            lost += 1
        elif any(found[0].get(k) != v for k, v in fields.items()):
            wrong += 1
    doubled = sum(len(v) - 1 for v in stored.values())
    doubled += sum(n - 1 for n in Counter(r["id"] for r in tap_rows).values())
    return {"lost": lost + wrong, "doubled": doubled, "visits": len(acked)}


# --- processes: CPU and memory from /proc -------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """utime + stime of a process, in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (PostgreSQL's backends)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(parents.get(p, []))
    return found


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Meter:
    """CPU seconds of the servers (app processes, PostgreSQL, HAProxy) and of
    this generator, read at the start and end of a window."""

    apps: list[int]
    others: dict[str, int] = field(default_factory=dict)  # name → root pid (tree summed)

    def read(self) -> dict[str, float]:
        now = {f"app{i + 1}": cpu_s(pid) for i, pid in enumerate(self.apps)}
        for name, root in self.others.items():
            now[name] = sum(cpu_s(p) for p in tree(root))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        now["generator"] = usage.ru_utime + usage.ru_stime
        now["wall"] = time.monotonic()
        return now

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {k: after[k] - before[k] for k in before}


# --- a small HTTP/1.1 client on asyncio streams ------------------------------------


class Closed(Exception):
    """The connection closed before an answer came."""


class Http:
    """One keep-alive connection from one local address, as a browser's; a
    connection the server closed while idle is opened again before sending,
    and a request it closed before any answer is sent once more on a new one."""

    def __init__(self, host: str, port: int, local: str) -> None:
        self.host, self.port, self.local = host, port, local
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, local_addr=(self.local, 0)
        )

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        for attempt in (0, 1):
            reused = self.reader is not None and not self.reader.at_eof()
            if not reused:
                await self._open()
            try:
                return await self._once(method, path, headers, body)
            except (Closed, ConnectionError):
                self.close()
                if attempt or not reused:
                    raise
        raise AssertionError("unreachable")

    async def _once(self, method, path, headers, body):
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        if body or method == "POST":
            head.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        try:
            status_line = await self.reader.readuntil(b"\r\n")
        except asyncio.IncompleteReadError:
            raise Closed from None
        status = int(status_line.split()[1])
        answer_headers = []
        length, close = 0, False
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            answer_headers.append((name, value))
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.lower() == "close":
                close = True
            elif name == "transfer-encoding":
                raise RuntimeError("chunked answers are not expected from cxlog's API")
        data = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, answer_headers, data


# --- Streamlit's websocket ------------------------------------------------------------


def rerun_message(page: str) -> bytes:
    """The BackMsg a browser sends to run a page (on load, or to refresh it)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    state = msg.rerun_script
    state.query_string = ""
    state.page_name = page
    state.context_info.timezone = "Europe/London"
    state.context_info.timezone_offset = 0
    state.context_info.locale = "en-GB"
    state.context_info.url = ""
    return msg.SerializeToString()


class Session:
    """A browser tab's Streamlit session: one websocket, a page run on demand."""

    def __init__(self, ws) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, base: str, cookies: dict[str, str], local: str) -> Session:
        from websockets.asyncio.client import connect

        host = base.split("//", 1)[1]
        ws = await connect(
            f"ws://{host}/_stcore/stream",
            subprotocols=["streamlit"],
            origin=base,
            additional_headers={"Cookie": cookie_header(cookies)},
            max_size=None,
            compression=None,
            open_timeout=30,
            ping_interval=None,
            local_addr=(local, 0),
        )
        return cls(ws)

    async def run(self, page: str, timeout: float = 60.0) -> tuple[float, Counter]:
        """Run ``page``; the seconds until its script finished, and the kinds
        of elements it drew (an ``exception`` is an error)."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        started = time.perf_counter()
        await self.ws.send(rerun_message(page))
        drawn: Counter = Counter()
        async with asyncio.timeout(timeout):
            while True:
                msg = ForwardMsg()
                msg.ParseFromString(await self.ws.recv())
                kind = msg.WhichOneof("type")
                if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    drawn[msg.delta.new_element.WhichOneof("type")] += 1
                elif kind == "script_finished" and msg.script_finished in (0, 3):
                    return time.perf_counter() - started, drawn

    async def close(self) -> None:
        await self.ws.close()


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def take_cookies(cookies: dict[str, str], headers: list[tuple[str, str]]) -> None:
    for name, value in headers:
        if name == "set-cookie":
            key, _, rest = value.partition("=")
            cookies[key.strip()] = rest.split(";", 1)[0]


# --- the load --------------------------------------------------------------------------


@dataclass
class Stats:
    tap_ms: list[float] = field(default_factory=list)
    poll_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    dashboard_s: list[float] = field(default_factory=list)
    log_runs_s: list[float] = field(default_factory=list)
    taps_sent: int = 0
    taps_ok: int = 0

    def reset(self) -> None:
        self.tap_ms, self.poll_ms, self.dashboard_s, self.log_runs_s = [], [], [], []
        self.errors = Counter()
        self.taps_sent = self.taps_ok = 0


def local_address(n: int) -> str:
    """Tablet n's own loopback address: 127.1.0.1, 127.1.0.2, …"""
    return f"127.1.{n // 250}.{n % 250 + 1}"


class Tablet:
    def __init__(self, n: int, base: str, associate: int, reasons: list[int], load: Load) -> None:
        self.n, self.base, self.associate, self.reasons, self.load = (
            n,
            base,
            associate,
            reasons,
            load,
        )
        host, port = base.split("//", 1)[1].split(":")
        self.address = local_address(n)
        self.taps = Http(host, int(port), self.address)
        self.polls = Http(host, int(port), self.address)
        self.cookies: dict[str, str] = {}
        self.session: Session | None = None
        self.version = ""
        self.in_flight = False
        self.polling = False
        self.rng = random.Random(n)
        self.acked: dict[str, dict] = {}  # visit id → fields acknowledged
        self.acked_taps: list[str] = []
        self.tasks: list[asyncio.Task] = []
        self.until = 0.0
        self.ready = False  # its Log page session is open and has run

    def headers(self, json_body: bool = False) -> dict[str, str]:
        headers = {"Cookie": cookie_header(self.cookies)} if self.cookies else {}
        if json_body:
            headers.update({"Content-Type": "application/json", "Origin": self.base})
        return headers

    async def start(self) -> None:
        """Load the page, tap the name, open the Log page's session (each
        step bounded: START_STEP_S)."""
        async with asyncio.timeout(START_STEP_S):
            status, answer_headers, _ = await self.polls.request("GET", "/", self.headers())
        take_cookies(self.cookies, answer_headers)
        if status != 200:
            raise RuntimeError(f"GET / answered {status}")
        body = json.dumps({"associate_id": self.associate}).encode()
        async with asyncio.timeout(START_STEP_S):
            status, answer_headers, data = await self.polls.request(
                "POST", "/api/v1/shifts", self.headers(True), body
            )
        if status != 200:
            raise RuntimeError(f"POST /api/v1/shifts answered {status}: {data[:200]!r}")
        take_cookies(self.cookies, answer_headers)
        async with asyncio.timeout(START_STEP_S):
            self.session = await Session.open(self.base, self.cookies, self.address)
        seconds, drawn = await self.session.run("", timeout=START_STEP_S)
        if drawn["exception"]:
            raise RuntimeError("the Log page drew an exception")
        self.load.stats.log_runs_s.append(seconds)
        self.ready = True

    def go(self, rate: float, until: float) -> None:
        self.until = until
        self.tasks = [
            asyncio.create_task(self._polling()),
            asyncio.create_task(self._visits(rate)),
        ]

    async def _poll_once(self) -> None:
        if self.in_flight or self.polling:
            return
        self.polling = True
        started = time.perf_counter()
        try:
            async with asyncio.timeout(TIMEOUT_S):
                status, _, data = await self.polls.request(
                    "GET", f"/api/v1/open-visits?since={self.version}", self.headers()
                )
            if status != 200:
                self.load.stats.errors[f"poll {status}"] += 1
                return
            answer = json.loads(data)
            if answer.get("changed"):
                self.version = answer["version"]
            self.load.stats.poll_ms.append((time.perf_counter() - started) * 1000)
        except (TimeoutError, OSError, Closed, asyncio.IncompleteReadError) as exc:
            self.polls.close()
            self.load.stats.errors[f"poll {type(exc).__name__}"] += 1
        finally:
            self.polling = False

    async def _polling(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, POLL_S))
        while time.monotonic() < self.until:
            await self._poll_once()
            await asyncio.sleep(POLL_S)

    async def _send(self, tap: dict) -> bool:
        """Send one tap until it is answered (the outbox's resend), bounded by
        ``until`` and a minute; True once the server answered it ok."""
        stats = self.load.stats
        give_up = min(self.until + VISIT_EVERY_S, time.monotonic() + 60)
        while time.monotonic() < give_up:
            body = json.dumps({"sent_at": int(time.time() * 1000), "taps": [tap]}).encode()
            self.in_flight = True
            started = time.perf_counter()
            try:
                async with asyncio.timeout(TIMEOUT_S):
                    status, _, data = await self.taps.request(
                        "POST", "/api/v1/taps", self.headers(True), body
                    )
                elapsed = (time.perf_counter() - started) * 1000
            except (TimeoutError, OSError, Closed, asyncio.IncompleteReadError) as exc:
                self.taps.close()
                stats.errors[f"tap {type(exc).__name__}"] += 1
                await asyncio.sleep(RESEND_S)
                continue
            finally:
                self.in_flight = False
            stats.tap_ms.append(elapsed)
            stats.taps_sent += 1
            if status != 200:
                stats.errors[f"tap {status}"] += 1
                if status >= 500:
                    await asyncio.sleep(RESEND_S)
                    continue
                return False
            (answer,) = json.loads(data)["taps"]
            asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self._poll_once()))
            if not answer["ok"]:
                stats.errors["tap refused"] += 1
                self.load.refusals.append(answer.get("message", ""))
                return False
            self.acked_taps.append(tap["id"])
            stats.taps_ok += 1
            return True
        return False

    def _tap(self, kind: str, visit: str, **fields) -> dict:
        at = int(time.time() * 1000)
        return {
            "id": uuid.uuid4().hex,
            "visit": visit,
            "kind": kind,
            "at": at,
            "by": self.associate,
            **fields,
        }

    async def _visits(self, rate: float) -> None:
        every = VISIT_EVERY_S / rate
        await asyncio.sleep(self.rng.uniform(0, every))
        while time.monotonic() < self.until:
            began = time.monotonic()
            vid = uuid.uuid4().hex
            engagement = self.rng.choice(("warm", "neutral", "missed"))
            if not await self._send(self._tap("start", vid, engagement=engagement)):
                break
            self.acked[vid] = {"first_engagement": engagement}
            await asyncio.sleep(max(0.0, began + every / 6 - time.monotonic()))
            reason = self.rng.choice(self.reasons)
            if await self._send(self._tap("reason", vid, reason=reason)):
                self.acked[vid]["reason_id"] = reason
            await asyncio.sleep(max(0.0, began + every / 2 - time.monotonic()))
            if self.rng.random() < 0.6:
                units = self.rng.randint(1, 6)
                if await self._send(self._tap("purchase", vid, units=units)):
                    self.acked[vid].update(outcome="purchased", units=units)
            elif await self._send(self._tap("no_purchase", vid)):
                self.acked[vid].update(outcome="no_purchase")
            jitter = self.rng.uniform(-0.1, 0.1) * every
            next_start = began + every + jitter
            while time.monotonic() < min(next_start, self.until):
                await asyncio.sleep(min(1.0, max(0.0, next_start - time.monotonic())))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks = []

    async def close(self) -> None:
        await self.stop()
        self.taps.close()
        self.polls.close()
        if self.session is not None:
            with contextlib.suppress(Exception):
                await self.session.close()


class Manager:
    """A signed-in manager's tab on the Dashboard page (module docstring)."""

    def __init__(self, n: int, base: str, storage, load: Load) -> None:
        self.n, self.base, self.storage, self.load = n, base, storage, load
        self.address = f"127.2.0.{n + 1}"
        self.session: Session | None = None
        self.task: asyncio.Task | None = None
        self.drawn: Counter = Counter()

    async def start(self) -> None:
        from cxlog.access import accounts, sessions

        account = accounts.check_sign_in(
            self.storage, "manager", MANAGER_PASSWORD, client=self.address, device=None
        )
        _, claim = sessions.start(self.storage, account, device="bench", client=self.address)
        host, port = self.base.split("//", 1)[1].split(":")
        http = Http(host, int(port), self.address)
        cookies: dict[str, str] = {}
        status, answer_headers, _ = await http.request("GET", "/", {})
        take_cookies(cookies, answer_headers)
        status, answer_headers, data = await http.request(
            "POST",
            "/api/v1/sessions/claim",
            {
                "Content-Type": "application/json",
                "Origin": self.base,
                "Cookie": cookie_header(cookies),
            },
            json.dumps({"claim": claim}).encode(),
        )
        http.close()
        if status != 200:
            raise RuntimeError(f"the claim answered {status}: {data[:200]!r}")
        take_cookies(cookies, answer_headers)
        self.session = await Session.open(self.base, cookies, self.address)
        await self.run_once()

    async def run_once(self) -> None:
        seconds, drawn = await self.session.run("dashboard", timeout=120)
        self.drawn = drawn
        if drawn["exception"] or not drawn["plotly_chart"]:
            self.load.stats.errors["dashboard not drawn"] += 1
        self.load.stats.dashboard_s.append(seconds)

    def go(self, load: Load) -> None:
        async def loop() -> None:
            await asyncio.sleep(self.n * MANAGER_THINK_S / MANAGERS)
            while time.monotonic() < load.until:
                try:
                    await self.run_once()
                except (TimeoutError, OSError, ConnectionClosed) as exc:
                    load.stats.errors[f"dashboard {type(exc).__name__}"] += 1
                await asyncio.sleep(MANAGER_THINK_S)

        self.task = asyncio.create_task(loop())

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        self.task = None

    async def close(self) -> None:
        await self.stop()
        if self.session:
            with contextlib.suppress(Exception):
                await self.session.close()


class Load:
    """The tablets and managers of one configuration, and what they measured."""

    def __init__(self, base: str, storage, meter: Meter) -> None:
        from cxlog.core.model import REASON
        from cxlog.stores import catalog

        self.base, self.storage, self.meter = base, storage, meter
        self.stats = Stats()
        self.start_errors: Counter = Counter()
        self.refusals: list[str] = []
        self.reasons = [r["id"] for r in catalog.list_reasons(storage, REASON)]
        # Tablets 2k and 2k+1 are the two tablets of store k.
        self.associates = [
            a["id"]
            for s in catalog.list_stores(storage)
            for a in catalog.list_associates(storage, s["id"], active_only=True)[:2]
        ]
        self.tablets: list[Tablet] = []
        self.managers: list[Manager] = []
        # Tablets and managers work from the moment they are added until
        # ``until`` (or until closed), at ``rate`` times the busy Saturday.
        self.rate, self.until = 1.0, time.monotonic() + 3600

    def stop_at(self, until: float) -> None:
        """No visit starts after ``until`` and no manager runs again; taps
        of visits begun before still go."""
        self.until = until
        for t in self.tablets:
            t.until = until

    async def add_tablets(self, count: int, *, busy: bool = True, tries: int = 1) -> int:
        """``count`` more tablets, each started (``tries`` times at most, as a
        person reloads a page that failed) and then busy. With one try a
        tablet that cannot start raises; otherwise returns how many never
        started (those stay idle)."""
        new = [
            Tablet(
                len(self.tablets) + i,
                self.base,
                self.associates[len(self.tablets) + i],
                self.reasons,
                self,
            )
            for i in range(count)
        ]
        self.tablets.extend(new)  # closed at the end, started or not
        gate = asyncio.Semaphore(CONNECT_AT_ONCE)

        async def one(tablet: Tablet) -> None:
            for attempt in range(tries):
                try:
                    async with gate:
                        await tablet.start()
                    break
                except Exception as exc:
                    self.start_errors[f"session start {exc}"[:80]] += 1
                    await tablet.close()
                    tablet.cookies, tablet.session = {}, None
                    if attempt == tries - 1:
                        raise
                    await asyncio.sleep(RESEND_S)
            if busy:
                tablet.go(self.rate, self.until)

        results = await asyncio.gather(*(one(t) for t in new), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed and tries == 1:
            raise failed[0]
        return len(failed)

    async def add_managers(self, count: int, *, busy: bool = True) -> None:
        for _ in range(count):
            manager = Manager(len(self.managers), self.base, self.storage, self)
            await manager.start()
            self.managers.append(manager)
            if busy:
                manager.go(self)

    def closed_sessions(self) -> int:
        return sum(
            1
            for s in [*(t.session for t in self.tablets), *(m.session for m in self.managers)]
            if s is not None and s.ws.close_code is not None
        )

    async def window(self, seconds: float, settle: float = SETTLE_S) -> dict:
        """What ``seconds`` of the tablets' and managers' steady work measured
        (they are busy from the moment they are added), after ``settle``."""
        await asyncio.sleep(settle)
        self.stats.reset()
        before = self.meter.read()
        await asyncio.sleep(seconds)
        after = self.meter.read()
        spent = Meter.spent(before, after)
        stats = self.stats
        return {
            "tablets": len(self.tablets),
            "taps": len(stats.tap_ms),
            "taps_ok_per_s": stats.taps_ok / spent["wall"],
            "tap_p50": statistics.median(stats.tap_ms) if stats.tap_ms else 0.0,
            "tap_p95": p95(stats.tap_ms),
            "poll_p95": p95(stats.poll_ms),
            "polls": len(stats.poll_ms),
            "errors": sum(stats.errors.values()),
            "error_kinds": dict(stats.errors),
            "closed": self.closed_sessions(),
            "dashboard_runs_per_min": len(stats.dashboard_s) * 60 / spent["wall"],
            "dashboard_s_p50": statistics.median(stats.dashboard_s) if stats.dashboard_s else 0,
            "cpu_pct": {k: 100 * v / spent["wall"] for k, v in spent.items() if k != "wall"},
        }

    async def close(self) -> None:
        await asyncio.gather(*(t.close() for t in self.tablets), return_exceptions=True)
        await asyncio.gather(*(m.close() for m in self.managers), return_exceptions=True)


# --- what one process spends ----------------------------------------------------------


async def calibrate(load: Load, app_pid: int) -> dict:
    """Server CPU per session start, per Log page rerun, per tap and per board
    read, and RSS per held session, each measured alone on the app process
    (``load``'s tablets and manager stay idle)."""
    found: dict[str, float] = {}
    await load.add_tablets(2, busy=False)  # the first runs import the pages: not counted
    await load.add_managers(1, busy=False)
    await asyncio.sleep(1)
    rss0, cpu0 = rss_mb(app_pid), cpu_s(app_pid)
    await load.add_tablets(CALIBRATE_SESSIONS, busy=False)
    await asyncio.sleep(1)
    rss1, cpu1 = rss_mb(app_pid), cpu_s(app_pid)
    found["rss_mb_per_session"] = (rss1 - rss0) / CALIBRATE_SESSIONS
    found["cpu_ms_per_session_start"] = 1000 * (cpu1 - cpu0) / CALIBRATE_SESSIONS
    tablets = load.tablets[2:]
    cpu0 = cpu_s(app_pid)
    for tablet in tablets:
        await tablet.session.run("")
    found["cpu_ms_per_log_rerun"] = 1000 * (cpu_s(app_pid) - cpu0) / len(tablets)
    # Taps: a start, a reason and a close per visit, one tablet after
    # another; a device's starts at least 0.6 s apart (the double-tap rule).
    for tablet in tablets:
        tablet.until = time.monotonic() + 120
    last_start: dict[int, float] = {}
    cpu0, n = cpu_s(app_pid), 0
    load.stats.reset()
    while n < CALIBRATE_TAPS:
        tablet = tablets[(n // 3) % len(tablets)]
        await asyncio.sleep(max(0.0, last_start.get(tablet.n, 0.0) + 0.6 - time.monotonic()))
        last_start[tablet.n] = time.monotonic()
        vid = uuid.uuid4().hex
        await tablet._send(tablet._tap("start", vid, engagement="warm"))
        await tablet._send(tablet._tap("reason", vid, reason=load.reasons[0]))
        await tablet._send(tablet._tap("no_purchase", vid))
        n += 3
    # Each answered tap also queued the pad's board read: let them run, then
    # take their cost out with the board reads' own figure below.
    await asyncio.sleep(0.5)
    taps_cpu, reads_after = cpu_s(app_pid) - cpu0, len(load.stats.poll_ms)
    found["tap_ms_p50_alone"] = statistics.median(load.stats.tap_ms)
    cpu0 = cpu_s(app_pid)
    for i in range(CALIBRATE_POLLS):
        await tablets[i % len(tablets)]._poll_once()
    polls = len(load.stats.poll_ms) - reads_after
    per_poll = (cpu_s(app_pid) - cpu0) / max(1, polls)
    found["cpu_ms_per_board_read"] = 1000 * per_poll
    found["cpu_ms_per_tap"] = 1000 * (taps_cpu - reads_after * per_poll) / n
    cpu0 = cpu_s(app_pid)
    for _ in range(3):
        await load.managers[0].run_once()
    found["cpu_ms_per_dashboard_run"] = 1000 * (cpu_s(app_pid) - cpu0) / 3
    found["errors"] = sum(load.stats.errors.values())
    if found["errors"]:
        print(f"load: calibration errors {dict(load.stats.errors)} {load.refusals[:3]}", flush=True)
    return found


async def ramp(load: Load, name: str, start_at: int = 0) -> tuple[int, dict | None, dict | None]:
    """The stepped ramp (module docstring): the most tablets held, that
    step's window, and, when a step failed, the same tablets measured once
    more with the managers stopped (is it the dashboards that tip it over?)."""
    results: list[tuple[int, bool]] = []
    best: dict | None = None
    deadline = time.monotonic() + RAMP_BUDGET_S
    for step in [s for s in STEPS if s >= start_at]:
        if time.monotonic() > deadline or step > len(load.associates):
            break
        started = time.monotonic()
        try:
            await load.add_tablets(step - len(load.tablets))
        except Exception as exc:  # a session that could not start fails the step
            print(f"load {name}: {step} tablets: a session failed to start: {exc!r}", flush=True)
            results.append((step, False))
            break
        connect_s = time.monotonic() - started
        measured = await load.window(WINDOW_S)
        ok = step_passes(load.stats.tap_ms, measured["errors"], measured["closed"])
        results.append((step, ok))
        print(
            f"load {name}: {'ok  ' if ok else 'FAIL'} {step_line(measured)}"
            f" (sessions added in {connect_s:.1f} s)",
            flush=True,
        )
        if ok:
            best = measured
            continue
        if load.managers:
            for manager in load.managers:
                await manager.stop()
            alone = await load.window(WINDOW_S)
            alone["ok"] = step_passes(load.stats.tap_ms, alone["errors"], alone["closed"])
            print(f"load {name}: without dashboards: {step_line(alone)}", flush=True)
            return held(results), best, alone
        break
    return held(results), best, None


def step_line(m: dict) -> str:
    cpu = " ".join(f"{k} {v:.0f}%" for k, v in m["cpu_pct"].items())
    return (
        f"{m['tablets']} tablets: {m['taps']} taps ({m['taps_ok_per_s']:.1f}/s saved)"
        f" p50 {m['tap_p50']:.1f} p95 {m['tap_p95']:.1f} ms,"
        f" {m['polls']} board reads p95 {m['poll_p95']:.1f} ms,"
        f" errors {m['error_kinds'] or 0}, closed sessions {m['closed']},"
        f" dashboard {m['dashboard_runs_per_min']:.1f}/min (p50 {m['dashboard_s_p50']:.2f} s);"
        f" CPU {cpu}"
    )


# --- the configurations -----------------------------------------------------------------


def seed(storage, stores: int, visits: int) -> None:
    from cxlog import demo
    from cxlog.access import accounts
    from cxlog.core import roles

    demo.generate(storage, visits=visits, days=90, stores=stores, associates=2 * stores, seed=5)
    accounts.add_or_reset(storage, roles.OWNER, roles.OWNER, "bench-owner-pw-1", actor="bench")
    accounts.add_or_reset(storage, "manager", roles.MANAGER, MANAGER_PASSWORD, actor="bench")


@contextlib.contextmanager
def apps(database: str, count: int, logs: Path):
    """``count`` app processes (and HAProxy in front when two); yields
    (address to use, app pids, HAProxy's pid or None). Stopped by process id."""
    from cxlog import local_chain

    started = []
    try:
        ports = {f"app{i + 1}": local_chain.free_port() for i in range(count)}
        for name, port in ports.items():
            started.append(local_chain.start_app(database, port, logs / f"{name}.log"))
        for process, port in zip(started, ports.values(), strict=True):
            local_chain.wait_healthy(f"http://127.0.0.1:{port}", process)
        if count == 1:
            yield f"http://127.0.0.1:{ports['app1']}", [started[0].pid], None
            return
        front = local_chain.free_port()
        haproxy = local_chain.start_haproxy(front, ports, logs / "haproxy.log")
        started.append(haproxy)
        url = f"http://127.0.0.1:{front}"
        local_chain.wait_balanced(url, haproxy, set(ports))
        yield url, [p.pid for p in started[:count]], haproxy.pid
    finally:
        for process in reversed(started):
            local_chain.stop(process)


async def one_config(base, storage, meter, name, *, calibrate_pid=None, start_at=0) -> dict:
    found: dict = {}
    if calibrate_pid:
        alone = Load(base, storage, meter)
        try:
            found = await calibrate(alone, calibrate_pid)
        finally:
            await alone.close()
    load = Load(base, storage, meter)
    try:
        await load.add_managers(MANAGERS)
        tablets, best, alone = await ramp(load, name, start_at)
        found.update(tablets=tablets, best=best, without_dashboards=alone)
        return found
    finally:
        await load.close()


def run_ramp(
    database: str, storage, count: int, name: str, postgres_pid: int | None, start_at: int = 0
) -> dict:
    logs = RESULTS / "load" / name
    logs.mkdir(parents=True, exist_ok=True)
    with apps(database, count, logs) as (base, pids, haproxy):
        others = {"postgres": postgres_pid} if postgres_pid else {}
        if haproxy:
            others["haproxy"] = haproxy
        meter = Meter(pids, others)
        calibrate_pid = pids[0] if count == 1 else None
        return asyncio.run(
            one_config(base, storage, meter, name, calibrate_pid=calibrate_pid, start_at=start_at)
        )


async def lock_waiters(storage, found: list[int]) -> None:
    """Every second, how many PostgreSQL backends wait for an advisory lock
    (cxlog/storage/postgres.py: every write takes WRITE_LOCK first)."""

    def count() -> int:
        with storage.read() as db:
            rows = list(
                db.query(
                    "SELECT count(*) AS n FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"
                )
            )
        return int(rows[0]["n"])

    while True:
        found.append(await asyncio.to_thread(count))
        await asyncio.sleep(1)


async def peak_run(base, storage, meter) -> dict:
    """The chain peak: every tablet at PEAK_RATE, a window of PEAK_S, then no
    new visits while those begun are finished (their close is half a visit
    period after their start), so every visit the recount sees is complete."""
    load = Load(base, storage, meter)
    load.rate = PEAK_RATE
    try:
        started = time.monotonic()
        # The morning: every tablet's session opened (idle), then the peak.
        try:
            async with asyncio.timeout(PEAK_CONNECT_S):
                await load.add_tablets(PEAK_STORES * PEAK_TABLETS_PER_STORE, busy=False, tries=3)
        except TimeoutError:
            pass
        never = sum(not t.ready for t in load.tablets)
        print(
            f"load peak: {len(load.tablets) - never} sessions open in"
            f" {time.monotonic() - started:.0f} s ({never} never started)",
            flush=True,
        )
        await load.add_managers(MANAGERS)
        for tablet in load.tablets:
            if tablet.ready:
                tablet.go(load.rate, load.until)
        if load.start_errors:
            print(f"load peak: session starts that failed: {dict(load.start_errors)}", flush=True)
        # Each tablet's first visit starts within one visit period: then it is the peak.
        waiting: list[int] = []
        watcher = asyncio.create_task(lock_waiters(storage, waiting))
        try:
            measured = await load.window(PEAK_S, settle=VISIT_EVERY_S / PEAK_RATE)
        finally:
            watcher.cancel()
        # PostgreSQL's backends waiting for the write lock, once a second.
        measured["lock_waiters_mean"] = statistics.mean(waiting) if waiting else 0.0
        measured["lock_waiters_max"] = max(waiting, default=0)
        measured["sessions_never_started"] = never
        measured["session_start_errors"] = sum(load.start_errors.values())
        print(f"load peak: {step_line(measured)}", flush=True)
        load.stop_at(time.monotonic())
        visits = [t.tasks[1] for t in load.tablets if len(t.tasks) == 2]
        drain = VISIT_EVERY_S / PEAK_RATE / 2 + TIMEOUT_S + 2
        await asyncio.wait(visits, timeout=drain)
        measured["acked"] = {vid: f for t in load.tablets for vid, f in t.acked.items()}
        measured["tap_ids"] = [tap for t in load.tablets for tap in t.acked_taps]
        measured["errors_after_window"] = sum(load.stats.errors.values()) - measured["errors"]
        return measured
    finally:
        await load.close()


def peak_recount(storage, acked: dict[str, dict], tap_ids: list[str]) -> dict:
    ids = list(acked)
    rows, tap_rows = [], []
    with storage.read() as db:
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows += [
                dict(r)
                for r in db.query(
                    "SELECT id, first_engagement, reason_id, outcome, units FROM visits"
                    f" WHERE id IN ({marks})",
                    chunk,
                )
            ]
        for i in range(0, len(tap_ids), 500):
            chunk = tap_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            tap_rows += [
                dict(r) for r in db.query(f"SELECT id FROM taps WHERE id IN ({marks})", chunk)
            ]
    return recount(acked, rows, tap_rows)


def _terminated(signum, frame) -> None:
    raise SystemExit(128 + signum)


def raise_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run(only: str | None = None) -> None:
    from cxlog.storage.db import Storage
    from cxlog.storage.local_postgres import Cluster, binaries
    from cxlog.storage.postgres import PostgresStorage, close_pool

    began = time.monotonic()
    raise_open_files()
    # Stopped from outside (a time limit's SIGTERM): still stop every server
    # and the cluster, through the finally blocks.
    signal.signal(signal.SIGTERM, _terminated)
    only = only or os.environ.get("CXLOG_LOAD_ONLY")
    figures: dict[str, float] = {}

    def say(name: str, value: float) -> None:
        figures[name] = value
        report(name, value)

    def per_process(found: dict, engine: str) -> None:
        say(f"load_tablets_per_process_{engine}", found["tablets"])
        best = found["best"] or {}
        say(f"load_tablets_per_process_{engine}_tap_ms_p95", best.get("tap_p95", 0.0))
        say(
            f"load_tablets_per_process_{engine}_dashboard_runs_per_min",
            best.get("dashboard_runs_per_min", 0.0),
        )
        say(
            f"load_tablets_per_process_{engine}_app_cpu_pct",
            best.get("cpu_pct", {}).get("app1", 0.0),
        )
        say(f"load_generator_cpu_pct_{engine}", best.get("cpu_pct", {}).get("generator", 0.0))
        for key in (
            "cpu_ms_per_session_start",
            "cpu_ms_per_log_rerun",
            "cpu_ms_per_tap",
            "cpu_ms_per_board_read",
            "cpu_ms_per_dashboard_run",
            "rss_mb_per_session",
        ):
            if key in found:
                say(f"load_{engine}_{key}", found[key])
        if alone := found.get("without_dashboards"):
            # The step that failed, measured again with the managers stopped.
            say(f"load_{engine}_failed_step_tablets", alone["tablets"])
            say(f"load_{engine}_failed_step_tap_ms_p95_without_dashboards", alone["tap_p95"])

    if only in (None, "sqlite"):
        storage = Storage(fresh(RESULTS / "load.db"))
        seed(storage, STORES, VISITS)
        storage.keep_open()
        per_process(run_ramp(str(storage.path), storage, 1, "sqlite", None), "sqlite")

    bindir = binaries()
    if bindir is None:
        print("load: PostgreSQL 15+ is not installed; the PostgreSQL figures are skipped")
        return
    # In a folder of its own under /tmp: short enough for its Unix socket,
    # and reachable by the cluster's owner (nobody, when run as root).
    folder = Path(tempfile.mkdtemp(prefix="cxlog-load-pg-"))
    cluster = Cluster(folder, bindir, durable=True)
    cluster.start()
    try:
        template = cluster.database("load_template")
        storage = PostgresStorage(template)
        seed(storage, STORES, VISITS)
        close_pool(template)
        if only in (None, "postgresql", "two"):
            one_url = cluster.database("load_one", template="load_template")
            found = run_ramp(one_url, PostgresStorage(one_url), 1, "postgresql", cluster.pid)
            per_process(found, "postgresql")
            close_pool(one_url)
            two_url = cluster.database("load_two", template="load_template")
            # From the step one process held: what a second one adds.
            two = run_ramp(
                two_url, PostgresStorage(two_url), 2, "two", cluster.pid, found["tablets"]
            )
            close_pool(two_url)
            say("load_tablets_two_processes", two["tablets"])
            best = two["best"] or {}
            say("load_tablets_two_processes_tap_ms_p95", best.get("tap_p95", 0.0))
            say(
                "load_tablets_two_processes_dashboard_runs_per_min",
                best.get("dashboard_runs_per_min", 0.0),
            )
            say("load_generator_cpu_pct_two", best.get("cpu_pct", {}).get("generator", 0.0))
            if alone := two.get("without_dashboards"):
                say("load_two_failed_step_tablets", alone["tablets"])
                say("load_two_failed_step_tap_ms_p95_without_dashboards", alone["tap_p95"])
            if found["tablets"]:
                say("load_scale_ratio_two_vs_one", two["tablets"] / found["tablets"])
            if two["tablets"] == STEPS[-1]:
                print("load two: held the ramp's last step; the figure is a floor", flush=True)
        if only in (None, "peak"):
            peak_url = cluster.database("load_peak", template="load_template")
            peak_storage = PostgresStorage(peak_url)
            logs = RESULTS / "load" / "peak"
            logs.mkdir(parents=True, exist_ok=True)
            with apps(peak_url, 2, logs) as (base, pids, haproxy):
                meter = Meter(pids, {"postgres": cluster.pid, "haproxy": haproxy})
                measured = asyncio.run(peak_run(base, peak_storage, meter))
            counted = peak_recount(peak_storage, measured["acked"], measured["tap_ids"])
            close_pool(peak_url)
            say("load_peak_tablets", measured["tablets"])
            say("load_peak_visits_acknowledged", counted["visits"])
            say("load_peak_taps", measured["taps"])
            offered = PEAK_STORES * PEAK_TABLETS_PER_STORE * 3 * PEAK_RATE / VISIT_EVERY_S
            say("load_peak_taps_offered_per_s", offered)
            say("load_peak_taps_acknowledged_per_s", measured["taps_ok_per_s"])
            say("load_peak_lost", counted["lost"])
            say("load_peak_doubled", counted["doubled"])
            say("load_peak_errors", measured["errors"])
            say("load_peak_session_start_errors", measured["session_start_errors"])
            say("load_peak_sessions_never_started", measured["sessions_never_started"])
            say("load_peak_tap_ms_p95", measured["tap_p95"])
            say("load_peak_generator_cpu_pct", measured["cpu_pct"]["generator"])
            say("load_peak_write_lock_waiters_mean", measured["lock_waiters_mean"])
            say("load_peak_write_lock_waiters_max", measured["lock_waiters_max"])
            for name, pct in measured["cpu_pct"].items():
                say(f"load_peak_cpu_pct_{name}", pct)
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    say("load_bench_s", time.monotonic() - began)
    (RESULTS / "load" / "figures.json").write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else None)
