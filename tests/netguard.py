"""The tests' network guard: no connection and no DNS lookup leaves this machine.

An audit hook (``sys.addaudithook``: it runs before the system call) watches
``socket.connect``, ``socket.sendto``/``sendmsg`` and the name lookups
(``socket.getaddrinfo``, ``gethostbyname``...). While the guard is on:

* a connection or datagram to anything but a loopback address (127.0.0.0/8, ::1) or a Unix
  socket is refused with ``ConnectionRefusedError`` *before* the system call, and recorded;
* a lookup of a name other than ``localhost`` is refused with ``socket.gaierror`` (as a failed
  lookup would be); names under ``.invalid`` (the stand-in for a DNS failure) are refused
  quietly, any other name is recorded. Literal addresses pass (no lookup happens for them).

The conftest fixture fails a test that recorded anything. Audit hooks live in one process:
subprocesses (``run_cli``, the real pip, uv, Poetry...) are not guarded by it.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from typing import List

_LOOKUPS = ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr",
            "socket.getnameinfo")
_SENDS = ("socket.connect", "socket.sendto", "socket.sendmsg")


class Guard:
    def __init__(self) -> None:
        self.on = False
        self.violations: List[str] = []

    def hook(self, event: str, args: tuple) -> None:
        if not self.on or not event.startswith("socket."):
            return
        if event in _SENDS:
            address = args[1] if len(args) > 1 else None
            if address is None or not isinstance(address, tuple):  # AF_UNIX paths, sendmsg without address
                return
            if not _loopback(str(address[0])):
                self.violations.append(f"{event} to {address!r}")
                raise ConnectionRefusedError(f"test network guard: no connection to {address[0]} (loopback only)")
        elif event in _LOOKUPS:
            host = args[0] if args else None
            if isinstance(host, tuple):  # getnameinfo((host, port), flags)
                host = host[0]
            if isinstance(host, bytes):
                host = host.decode("ascii", "replace")
            if host is None or _literal(str(host)) or str(host).lower().rstrip(".") == "localhost":
                return
            name = str(host).lower().rstrip(".")
            if not name.endswith(".invalid"):
                self.violations.append(f"{event} of {host!r}")
            if name.endswith(".invalid"):  # what the resolver says of a name that does not exist
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            raise socket.gaierror(socket.EAI_NONAME, f"test network guard: no DNS lookup of {host}")


def _literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def _loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return host.lower() == "localhost"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


GUARD = Guard()
_installed = False


def install() -> Guard:
    """Add the audit hook (once per process: audit hooks cannot be removed) and return the guard."""
    global _installed
    if not _installed:
        sys.addaudithook(GUARD.hook)
        _installed = True
    return GUARD
