"""Where a probe may be redirected: decided from the URL alone, before any connection is opened.

A mirror's answer may send the probe elsewhere (``Location``). The bench follows
such redirects itself, one at a time, and asks :func:`redirect_refusal` first:

* only ``http`` and ``https``;
* never to a link-local address (169.254.0.0/16, where clouds serve instance
  metadata and credentials; fe80::/10), whatever the origin;
* never to this machine (127.0.0.0/8, ::1, 0.0.0.0, ``localhost``) unless the
  mirror itself is on this machine.

Addresses are read the way the system's resolver would read them (``inet_aton``:
``2852039166`` and ``0xa9.254.169.254`` are 169.254.169.254 too). A host *name*
that resolves to such an address is not caught here (that would need the lookup).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Optional, Union
from urllib.parse import urlsplit

_Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]


def host_address(host: str) -> Optional[_Address]:
    """The IP address a URL's host names literally, or None for a DNS name."""
    host = host.strip("[]").rstrip(".")
    if not host:
        return None
    try:
        address: _Address = ipaddress.ip_address(host.split("%", 1)[0])  # fe80::1%eth0 is fe80::1
    except ValueError:
        if not all(c in "0123456789abcdefxABCDEFX." for c in host):
            return None
        try:  # the forms inet_aton accepts: 2852039166, 0xa9.0xfe.169.254, 169.254.43518
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_link_local(host: str) -> bool:
    address = host_address(host)
    return address is not None and address.is_link_local


def is_loopback(host: str) -> bool:
    """This machine: 127/8, ::1, 0.0.0.0 and ::, localhost and names under .localhost."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = host_address(name)
    return address is not None and (address.is_loopback or address.is_unspecified)


def redirect_refusal(origin: str, target: str) -> Optional[str]:
    """Why the probe of the mirror at ``origin`` must not follow a redirect to ``target`` (None: it may)."""
    try:
        parts = urlsplit(target)
        host = parts.hostname or ""
    except ValueError:
        return "redirect to a malformed URL refused"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return f"redirect to a {scheme or 'scheme-less'}: URL refused (only http and https)"
    if not host:
        return "redirect to a URL without a host refused"
    if is_link_local(host):
        return f"redirect to the link-local address {host} refused"
    try:
        origin_host = urlsplit(origin).hostname or ""
    except ValueError:
        origin_host = ""
    if is_loopback(host) and not is_loopback(origin_host):
        return f"redirect from {origin_host or 'a remote host'} to this machine ({host}) refused"
    return None
