"""A small fault-injecting TCP proxy for links between Regions (loopback only)."""

from __future__ import annotations

import asyncio
import contextlib


class FaultProxy:
    """Forwards 127.0.0.1:<port> to a target; modes: pass, cut, blackhole; optional delay.

    Counters (never reset by the proxy; tests diff them): `accepted` counts every connection
    attempt, whatever the mode; `forwarded` counts bytes passed on, both directions. With
    `capture` on, every byte passed on (both directions) is also kept in `captured` (leak
    canaries grep the wire with it).
    """

    def __init__(self) -> None:
        self.target: tuple[str, int] | None = None
        self.mode = "pass"
        self.delay = 0.0
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._conns: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.accepted = 0
        self.forwarded = 0
        self.capture = False
        self.captured = bytearray()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    def cut(self) -> None:
        """Drop every open connection; new ones are closed at once until heal()."""
        self.mode = "cut"
        for w in list(self._conns):
            w.close()
        self._conns.clear()

    def blackhole(self) -> None:
        """Accept and swallow everything, answer nothing (a silent partition)."""
        self.mode = "blackhole"
        for w in list(self._conns):
            w.close()
        self._conns.clear()

    def heal(self) -> None:
        self.mode = "pass"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.mode == "cut" or self.target is None:
            writer.close()
            return
        if self.mode == "blackhole":
            self._conns.add(writer)
            with contextlib.suppress(Exception):
                while await reader.read(65536):
                    pass
            return
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._conns.update((writer, up_w))
        for src, dst in ((reader, up_w), (up_r, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await src.read(65536)
                if not data or self.mode != "pass":
                    break
                if self.delay:
                    await asyncio.sleep(self.delay)
                dst.write(data)
                self.forwarded += len(data)
                if self.capture:
                    self.captured += data
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            dst.close()
            self._conns.discard(dst)


class Links:
    """Fault controls over a set of Region-to-Region proxies, keyed (source, target)."""

    proxies: dict[tuple[str, str], FaultProxy]

    def link(self, src: str, dst: str) -> FaultProxy:
        return self.proxies[(src, dst)]

    def isolate(self, region: str) -> None:
        """Cut every link to and from a Region."""
        for (a, b), p in self.proxies.items():
            if region in (a, b):
                p.cut()

    def heal(self) -> None:
        for p in self.proxies.values():
            p.heal()
