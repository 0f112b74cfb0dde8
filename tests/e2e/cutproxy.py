"""A TCP proxy with a switch, to cut the network for real (issue #10).

Playwright's ``set_offline`` does not close an open websocket, so a tap made
"offline" still reached the server. Chromium talks to the server only through
this proxy: ``cut()`` aborts every connection (both directions, at once) and
refuses new ones until ``mend()``. ``retarget()`` points it at a restarted
server on another port, so the page's address stays the same.
"""

from __future__ import annotations

import asyncio
import threading


class CutProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.down = False
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the cut proxy did not start")
        self.port = self._server.sockets[0].getsockname()[1]

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.transport.abort()  # refused: the network is down
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()  # the server itself is down
            return
        pair = (writer, up_writer)
        self._pairs.add(pair)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    if self.down:
                        break
                    sink.write(data)
                    await sink.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                for side in pair:
                    side.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._pairs.discard(pair)

    def _do(self, action) -> None:
        async def run() -> None:
            action()

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    def cut(self) -> None:
        """Sever every open connection and refuse new ones (returns once done)."""

        def sever() -> None:
            self.down = True
            for pair in list(self._pairs):
                for side in pair:
                    side.transport.abort()

        self._do(sever)

    def mend(self) -> None:
        self._do(lambda: setattr(self, "down", False))

    def retarget(self, port: int) -> None:
        self._do(lambda: setattr(self, "target_port", port))

    def close(self) -> None:
        self.cut()

        async def shut() -> None:
            self._server.close()

        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
