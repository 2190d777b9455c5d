"""A SOCKS5 proxy on 127.0.0.1 for the tests (RFC 1928 CONNECT, RFC 1929 user/password).

It logs every CONNECT as (address type, host, port) exactly as the client sent it, so a test
can tell a host *name* (``socks5h``) from an IP address. It connects only to 127.0.0.1: a name
is looked up in its own ``hosts`` table (``{"mirror.invalid": "127.0.0.1"}``), never in DNS, and
any other destination is refused with "connection not allowed".
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct
import threading
from typing import Dict, List, Optional, Tuple

ATYP_IPV4, ATYP_DOMAIN, ATYP_IPV6 = 1, 3, 4


class Socks5Proxy:
    def __init__(self, *, users: Optional[Dict[str, str]] = None, hosts: Optional[Dict[str, str]] = None):
        self.users = users
        self.hosts = hosts or {}
        self.log: List[Tuple[str, str, int]] = []  # ("domain" | "ipv4" | "ipv6", host, port)
        self.auth_failures = 0
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="socks5-proxy", daemon=True)
        self._server: Optional[asyncio.AbstractServer] = None
        self._tasks: set = set()

    @property
    def url(self) -> str:
        return f"socks5://127.0.0.1:{self.port}"

    def __enter__(self) -> "Socks5Proxy":
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError, OSError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        if version != 5:
            return
        wanted = 2 if self.users is not None else 0
        if wanted not in methods:
            writer.write(b"\x05\xff")
            await writer.drain()
            return
        writer.write(bytes([5, wanted]))
        await writer.drain()
        if wanted == 2:
            _version, ulen = await reader.readexactly(2)
            user = (await reader.readexactly(ulen)).decode()
            (plen,) = await reader.readexactly(1)
            password = (await reader.readexactly(plen)).decode()
            ok = self.users.get(user) == password
            writer.write(b"\x01\x00" if ok else b"\x01\x01")
            await writer.drain()
            if not ok:
                self.auth_failures += 1
                return
        _version, command, _reserved, atyp = await reader.readexactly(4)
        if atyp == ATYP_IPV4:
            kind, host = "ipv4", socket.inet_ntoa(await reader.readexactly(4))
        elif atyp == ATYP_IPV6:
            kind, host = "ipv6", str(ipaddress.IPv6Address(await reader.readexactly(16)))
        else:
            (length,) = await reader.readexactly(1)
            kind, host = "domain", (await reader.readexactly(length)).decode()
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        self.log.append((kind, host, port))
        address = self.hosts.get(host, host) if kind == "domain" else host
        if command != 1 or address != "127.0.0.1":  # CONNECT to loopback only
            await self._reply(writer, 2)  # connection not allowed by ruleset
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await self._reply(writer, 5)  # connection refused
            return
        await self._reply(writer, 0)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True)

    async def _reply(self, writer: asyncio.StreamWriter, code: int) -> None:
        writer.write(bytes([5, code, 0, ATYP_IPV4]) + socket.inet_aton("0.0.0.0") + b"\0\0")
        await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()
