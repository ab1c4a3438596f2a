"""A small TCP proxy for fault tests (issue 26): in front of PostgreSQL, Redis or the API processes.

It runs its own asyncio loop in a daemon thread, so sync and async tests drive it alike:

- ``cut()`` closes every open connection and refuses new ones (the listener closes: connecting
  gets ``ECONNREFUSED``), ``restore()`` listens again on the same port;
- ``delay(seconds)`` holds every chunk that long before forwarding it (latency);
- ``drop()`` accepts connections but forwards nothing and answers nothing (a black hole, like a
  partition that loses packets); ``restore()`` ends it;
- ``route(upstreams)`` changes where new connections go (a load balancer taking a process out of
  rotation); connections already open stay where they are. A new connection tries the upstreams
  round-robin and moves on to the next one when a connect is refused (a balancer's passive
  health check).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Sequence

Address = tuple[str, int]


class FaultProxy:
    def __init__(self, upstreams: Sequence[Address], *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._upstreams: list[Address] = list(upstreams)
        self._turn = itertools.count()
        self._delay = 0.0
        self._dropping = False
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"fault-proxy-{port}", daemon=True)
        self._thread.start()
        self.connections = 0  # accepted so far (for tests to see traffic went through)

    # -- control, from any thread ---------------------------------------------------------------

    def _call(self, coroutine, timeout: float = 10.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def start(self) -> FaultProxy:
        self._call(self._listen())
        return self

    @property
    def address(self) -> Address:
        return self.host, self.port

    def cut(self) -> None:
        """Close all connections and refuse new ones until ``restore()``."""
        self._call(self._cut())

    def restore(self) -> None:
        """Back to normal: listening, no delay, no black hole."""
        self._delay = 0.0
        self._dropping = False
        self._call(self._listen())

    def delay(self, seconds: float) -> None:
        self._delay = seconds

    def drop(self) -> None:
        """Accept and hold connections, forward nothing (a black hole)."""
        self._dropping = True

    def route(self, upstreams: Sequence[Address]) -> None:
        self._upstreams = list(upstreams)

    def close(self) -> None:
        try:
            self._call(self._cut())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    # -- the loop's side -------------------------------------------------------------------------

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._accept, self.host, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            _abort(writer)
        self._writers.clear()
        if server is not None:
            await server.wait_closed()

    async def _connect_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        upstreams = list(self._upstreams)
        if not upstreams:
            return None
        start = next(self._turn)
        for i in range(len(upstreams)):
            host, port = upstreams[(start + i) % len(upstreams)]
            try:
                return await asyncio.wait_for(asyncio.open_connection(host, port), 5)
            except (OSError, TimeoutError):
                continue
        return None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            if self._dropping:
                while self._dropping and not reader.at_eof():
                    await asyncio.sleep(0.1)
                    if self._server is None:
                        return
                if self._dropping:
                    return
            upstream = await self._connect_upstream()
            if upstream is None:
                return
            up_reader, up_writer = upstream
            self._writers.add(up_writer)
            try:
                await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
            finally:
                self._writers.discard(up_writer)
                _abort(up_writer)
        finally:
            self._writers.discard(writer)
            _abort(writer)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                while self._dropping:  # a black hole: hold the bytes, answer nothing
                    await asyncio.sleep(0.1)
                    if writer.is_closing():
                        return
                if self._delay:
                    await asyncio.sleep(self._delay)
                writer.write(chunk)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError, RuntimeError):
            pass
        finally:
            try:
                if writer.can_write_eof():
                    writer.write_eof()
            except (OSError, RuntimeError):
                pass


def _abort(writer: asyncio.StreamWriter) -> None:
    transport = writer.transport
    if transport is not None and not transport.is_closing():
        transport.abort()
