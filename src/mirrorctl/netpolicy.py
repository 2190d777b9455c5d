"""The one HTTP policy of mirrorctl: every httpx client it uses is built here.

The rules, the same for `bench`, checking an index URL, fetching a team catalogue or a
cache's health check:

* **proxies** as pip chooses them (:mod:`mirrorctl.proxy`: ``--proxy``, pip's setting, the
  environment), never httpx's own reading of the environment;
* **TLS** always verified, against pip's ``cert`` when it is set (a file or a folder), else the
  trust store httpx uses (``SSL_CERT_FILE``/``SSL_CERT_DIR`` honoured); the context is built once
  per bundle: loading a CA bundle is slow;
* **redirects** followed one at a time by :func:`send_following`, each checked first by
  :func:`redirect_refusal`: only http(s), never link-local (169.254.0.0/16, fe80::/10: cloud
  instance metadata), never this machine unless the origin is on it, at most
  :data:`MAX_REDIRECTS`. A refused target never sees a connection attempt;
* **timeouts**: httpx's own are a backstop; callers bound the whole request with a deadline;
* **size caps**: :func:`get` reads at most ``max_bytes`` and fails past it;
* **address family**: ``family=4`` or ``6`` binds the local side to ``0.0.0.0`` or ``::``, so
  that names resolve to, and connections use, that family only (``-4``/``-6``).

Public API: :func:`ssl_context` (and :func:`prefetch_ssl_context`), :func:`async_client` (and
its :func:`async_transport`), :func:`client`, :func:`send_following`, :func:`get` (one capped
GET with the redirect rule), :func:`redirect_refusal`, :func:`describe_error`. httpx is imported
inside the functions, off the start-up path.
"""

from __future__ import annotations

import errno
import ipaddress
import re
import socket
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Tuple, Union
from urllib.parse import urlsplit

from mirrorctl import __version__
from mirrorctl.errors import UsageError
from mirrorctl.i18n import _

if TYPE_CHECKING:  # pragma: no cover
    import concurrent.futures

    import httpx

    from mirrorctl.proxy import ProxyPlan

USER_AGENT = f"mirrorctl/{__version__}"
MAX_REDIRECTS = 10
DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_BYTES = 1024 * 1024
#: ``family`` -> the local address that pins it (httpcore resolves and connects in that family)
LOCAL_ADDRESS = {4: "0.0.0.0", 6: "::"}

_CREDENTIALS_RE = re.compile(r"(//[^/\s:@]*):[^/\s@]*@")
_Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
_SSL_CACHE: Dict[Optional[str], ssl.SSLContext] = {}
_SSL_LOADING: Dict[Optional[str], "concurrent.futures.Future[ssl.SSLContext]"] = {}


class RedirectRefused(Exception):
    """A redirect the policy does not follow; the message is fit for a person."""

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status


class TooLarge(Exception):
    """An answer over the size cap."""


class TooSlow(Exception):
    """An answer that did not end by its deadline (a server sending a byte at a time)."""


def read_body(response: "httpx.Response", *, max_bytes: int, deadline: float, url: str = "") -> bytes:
    """A streamed response's body: :class:`TooLarge` past ``max_bytes``, :class:`TooSlow` past
    ``deadline`` (a ``time.monotonic()`` value). A server that trickles its answer costs the
    deadline plus one read of the client's timeout at most, however long it goes on."""
    import time

    chunks: List[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(_("{url}: the answer is larger than {size} bytes").format(url=scrub(url), size=max_bytes))
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise TooSlow(_("{url}: the answer did not end in time").format(url=scrub(url)))
    return b"".join(chunks)


@dataclass
class Fetched:
    """What :func:`get` read: the final status, headers, URL and (capped) body."""

    status: int
    headers: Mapping[str, str]
    url: str
    body: bytes
    redirected: bool


# ---------------------------------------------------------------------------
# where a redirect may go: decided from the URL alone, before any connection


def host_address(host: str) -> Optional[_Address]:
    """The IP address a URL's host names literally, or None for a DNS name.

    Read the way the system's resolver reads it (``inet_aton``: ``2852039166`` and
    ``0xa9.254.169.254`` are 169.254.169.254 too); ``::ffff:a.b.c.d`` is ``a.b.c.d``.
    """
    host = host.strip("[]").rstrip(".")
    if not host:
        return None
    try:
        address: _Address = ipaddress.ip_address(host.split("%", 1)[0])  # fe80::1%eth0 is fe80::1
    except ValueError:
        if not all(c in "0123456789abcdefxABCDEFX." for c in host):
            return None
        try:
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
    """Why a request to ``origin`` must not follow a redirect to ``target`` (None: it may).

    A host *name* that resolves to a refused address is not caught here (that needs the lookup).
    """
    try:
        parts = urlsplit(target)
        host = parts.hostname or ""
    except ValueError:
        return _("redirect to a malformed URL refused")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return _("redirect to a {scheme}: URL refused (only http and https)").format(
            scheme=scheme or "scheme-less")
    if not host:
        return _("redirect to a URL without a host refused")
    if is_link_local(host):
        return _("redirect to the link-local address {host} refused").format(host=host)
    try:
        origin_parts = urlsplit(origin)
        origin_host = origin_parts.hostname or ""
    except ValueError:
        origin_parts, origin_host = None, ""
    if is_loopback(host) and not is_loopback(origin_host):
        return _("redirect from {origin} to this machine ({host}) refused").format(
            origin=origin_host or _("a remote host"), host=host)
    if scheme == "http" and origin_parts is not None and origin_parts.scheme.lower() == "https":
        from mirrorctl.urls import mask_url

        return _("redirect from https to plain http ({target}) refused").format(target=mask_url(target))
    return None


def family_refusal(url: str, family: Optional[int]) -> Optional[str]:
    """Why ``url`` cannot be reached over IPv``family`` alone (a literal address of the other family)."""
    if family is None:
        return None
    try:
        address = host_address(urlsplit(url).hostname or "")
    except ValueError:
        return None
    if address is not None and address.version != family:
        return _("{host} is an IPv{version} address: not reachable with -{family}").format(
            host=address, version=address.version, family=family)
    return None


# ---------------------------------------------------------------------------
# building clients


def ssl_context(ca_bundle: Optional[str] = None) -> ssl.SSLContext:
    """The TLS context: pip's ``cert`` (a file or a folder) when given, else httpx's trust store."""
    cached = _SSL_CACHE.get(ca_bundle)
    if cached is not None:
        return cached
    loading = _SSL_LOADING.pop(ca_bundle, None)
    context = loading.result() if loading is not None else _new_ssl_context(ca_bundle)
    _SSL_CACHE[ca_bundle] = context
    return context


def prefetch_ssl_context(ca_bundle: Optional[str] = None) -> None:
    """Start building :func:`ssl_context` in a thread of its own; :func:`ssl_context` then waits for it.

    Loading a CA bundle takes tens of milliseconds, mostly in OpenSSL, without the GIL: the
    imports and set-up the caller does meanwhile go on beside it. Errors (an unreadable
    bundle) are raised by :func:`ssl_context`, as if it had built the context itself.
    """
    if ca_bundle in _SSL_CACHE or ca_bundle in _SSL_LOADING:
        return
    import concurrent.futures
    import threading

    future: "concurrent.futures.Future[ssl.SSLContext]" = concurrent.futures.Future()

    def build() -> None:
        try:
            future.set_result(_new_ssl_context(ca_bundle))
        except BaseException as exc:  # noqa: BLE001 - raised again by ssl_context
            future.set_exception(exc)

    _SSL_LOADING[ca_bundle] = future
    threading.Thread(target=build, name="mirrorctl-tls", daemon=True).start()


def _new_ssl_context(ca_bundle: Optional[str]) -> ssl.SSLContext:
    import os

    if ca_bundle:
        try:
            if os.path.isdir(ca_bundle):
                return ssl.create_default_context(capath=ca_bundle)
            return ssl.create_default_context(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UsageError(_("cannot use the CA bundle {path}: {reason}").format(path=ca_bundle, reason=reason),
                             hint=_("check pip's `cert` setting (or PIP_CERT)")) from None
    # httpx's trust store, as httpx.create_ssl_context(trust_env=True) builds it, without
    # importing httpx (this may run in prefetch_ssl_context's thread, beside that import)
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _no_proxy_plan() -> "ProxyPlan":
    from mirrorctl.proxy import ProxyPlan

    return ProxyPlan()


def async_transport(*, plan: Optional["ProxyPlan"] = None, ca_bundle: Optional[str] = None,
                    family: Optional[int] = None, connections: int = 4) -> "httpx.AsyncBaseTransport":
    """The transport under an :func:`async_client`: proxies, TLS, address family, a pool of its own.

    A caller that sends the same request many times (bench's samples) may send it here
    directly, without the client's per-request work (cookies, auth, redirects); it must
    then treat a redirect as :func:`send_following` would. ``connections`` bounds the pool.
    """
    import httpx

    from mirrorctl.proxy import routing_transport

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return routing_transport(plan or _no_proxy_plan(), verify=ssl_context(ca_bundle), limits=limits,
                             local_address=_local_address(family))


def async_client(*, plan: Optional["ProxyPlan"] = None, ca_bundle: Optional[str] = None,
                 timeout: float = DEFAULT_TIMEOUT, family: Optional[int] = None, connections: int = 4,
                 headers: Optional[Mapping[str, str]] = None,
                 transport: Optional["httpx.AsyncBaseTransport"] = None) -> "httpx.AsyncClient":
    """An httpx.AsyncClient under the policy; give it its own pool (one per server, say).

    Redirects are not followed by httpx: use :func:`send_following`. ``connections`` bounds
    the pool (one per server keeps httpcore's per-request scan of the pool short).
    ``transport``: one made by :func:`async_transport` (then ``plan``, ``ca_bundle``,
    ``family`` and ``connections`` are its own).
    """
    import httpx

    if transport is None:
        transport = async_transport(plan=plan, ca_bundle=ca_bundle, family=family, connections=connections)
    return httpx.AsyncClient(
        transport=transport,
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT, **dict(headers or {})},
    )


def client(*, plan: Optional["ProxyPlan"] = None, ca_bundle: Optional[str] = None, timeout: float = DEFAULT_TIMEOUT,
           family: Optional[int] = None, headers: Optional[Mapping[str, str]] = None) -> "httpx.Client":
    """A synchronous httpx.Client under the policy (no redirects followed: :func:`get` follows them)."""
    import httpx

    from mirrorctl.proxy import sync_transport

    return httpx.Client(
        transport=sync_transport(plan or _no_proxy_plan(), verify=ssl_context(ca_bundle),
                                 local_address=_local_address(family)),
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT, **dict(headers or {})},
    )


def _local_address(family: Optional[int]) -> Optional[str]:
    if family is None:
        return None
    if family not in LOCAL_ADDRESS:
        raise UsageError(_("the address family must be 4 or 6, not {family!r}").format(family=family))
    return LOCAL_ADDRESS[family]


async def send_following(client: "httpx.AsyncClient", request: "httpx.Request", *,
                         origin: Optional[str] = None) -> Tuple["httpx.Response", bool]:
    """Send ``request`` (streamed), following redirects the policy allows; ``(response, redirected)``.

    Each ``Location`` is checked by :func:`redirect_refusal` against ``origin`` (the request's
    own URL by default) before its request is built: :class:`RedirectRefused` otherwise.
    """
    origin = origin or str(request.url)
    hops = 0
    while True:
        response = await client.send(request, stream=True, follow_redirects=False)
        if not response.has_redirect_location:
            return response, hops > 0
        await response.aclose()
        nxt = response.next_request  # the Location resolved against the page's URL, not sent yet
        if nxt is None:
            raise RedirectRefused(_("redirect without a usable Location"), response.status_code)
        refusal = redirect_refusal(origin, str(nxt.url))
        if refusal is not None:
            raise RedirectRefused(refusal, response.status_code)
        hops += 1
        if hops > MAX_REDIRECTS:
            raise RedirectRefused(_("redirect loop"), response.status_code)
        request = nxt


def get(url: str, *, max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = DEFAULT_TIMEOUT,
        plan: Optional["ProxyPlan"] = None, ca_bundle: Optional[str] = None, family: Optional[int] = None,
        headers: Optional[Mapping[str, str]] = None) -> Fetched:
    """One GET of ``url`` under the policy: redirects checked, body capped at ``max_bytes``.

    Raises :class:`RedirectRefused`, :class:`TooLarge`, :class:`TooSlow`, or httpx's errors (give
    them to :func:`describe_error` for a message). ``timeout`` bounds each step (connect, each
    read), and twice ``timeout`` the whole answer (body included).
    """
    import time

    deadline = time.monotonic() + 2 * timeout
    with client(plan=plan, ca_bundle=ca_bundle, timeout=timeout, family=family, headers=headers) as http:
        request = http.build_request("GET", url)
        hops = 0
        while True:
            response = http.send(request, stream=True, follow_redirects=False)
            if not response.has_redirect_location:
                break
            response.close()
            nxt = response.next_request
            refusal = _("redirect without a usable Location") if nxt is None else redirect_refusal(url, str(nxt.url))
            hops += 1
            if refusal is None and hops > MAX_REDIRECTS:
                refusal = _("redirect loop")
            if refusal is not None:
                raise RedirectRefused(refusal, response.status_code)
            if time.monotonic() > deadline:
                raise TooSlow(_("{url}: the answer did not end in time").format(url=scrub(url)))
            request = nxt
        try:
            body = read_body(response, max_bytes=max_bytes, deadline=deadline, url=url)
        finally:
            response.close()
        return Fetched(response.status_code, response.headers, str(response.url), body, hops > 0)


# ---------------------------------------------------------------------------
# errors a person understands


def scrub(text: str) -> str:
    """Mask any password inside URLs quoted by an error message."""
    return _CREDENTIALS_RE.sub(r"\1:****@", text)


def causes(exc: BaseException) -> List[BaseException]:
    """``exc`` and every exception it came from (``__cause__``/``__context__``), each once."""
    chain: List[BaseException] = []
    todo: List[Optional[BaseException]] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or any(current is seen for seen in chain):
            continue
        chain.append(current)
        todo.extend([current.__cause__, current.__context__])
    return chain


#: how resolvers word a failed lookup, when the error carries no socket.gaierror
_DNS_FAILURE_TEXTS = ("name or service not known", "nodename nor servname", "getaddrinfo",
                      "temporary failure in name resolution", "no address associated")


def failure_kind(exc: BaseException) -> Optional[str]:
    """What failed, for a caller that words it its own way: "dns", "refused" or "tls" (from the
    exception or its causes, else its text, as :func:`describe_error` reads them), or None."""
    for err in causes(exc):
        if isinstance(err, socket.gaierror):
            return "dns"
        if isinstance(err, ConnectionRefusedError):
            return "refused"
        if isinstance(err, ssl.SSLError):
            return "tls"
    lowered = str(exc).lower()
    if any(text in lowered for text in _DNS_FAILURE_TEXTS):
        return "dns"
    if "refused" in lowered:
        return "refused"
    if "certificate" in lowered or "ssl" in lowered:
        return "tls"
    return None


def describe_error(exc: BaseException, *, host: str = "?") -> str:
    """A reason a person understands, from an httpx/OS/TLS exception."""
    import httpx

    for err in causes(exc):
        if isinstance(err, (RedirectRefused, TooLarge)):
            return str(err)
        if isinstance(err, socket.gaierror):
            return _("DNS lookup failed for {host}").format(host=host)
        if isinstance(err, ssl.SSLCertVerificationError):
            return _("TLS: certificate verify failed ({reason})").format(reason=err.verify_message or err.reason)
        if isinstance(err, ssl.SSLError):
            return _("TLS: {reason}").format(reason=scrub(err.reason or str(err)))
        if isinstance(err, ConnectionRefusedError):
            return _("connection refused")
        if isinstance(err, ConnectionResetError):
            return _("connection reset by the server")
        if isinstance(err, OSError) and err.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return _("network unreachable") if err.errno == errno.ENETUNREACH else _("host unreachable")
        if isinstance(err, OSError) and err.errno in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL):
            return _("no route in this address family ({reason})").format(reason=err.strerror or err)
    message = scrub(str(exc))
    lowered = message.lower()
    if isinstance(exc, httpx.TooManyRedirects):
        return _("redirect loop")
    if isinstance(exc, httpx.ProxyError):
        return _("proxy: {reason}").format(reason=message)
    if any(text in lowered for text in _DNS_FAILURE_TEXTS):
        return _("DNS lookup failed for {host}").format(host=host)
    if "ssl" in lowered or "tls" in lowered or "certificate verify failed" in lowered:
        return _("TLS: {reason}").format(reason=message)
    if "connection refused" in lowered:
        return _("connection refused")
    if isinstance(exc, httpx.RemoteProtocolError):
        if "without sending" in lowered or "disconnected" in lowered:
            return _("the server closed the connection without answering")
        return _("not a valid HTTP answer ({reason})").format(reason=message)
    if isinstance(exc, (httpx.ReadError, httpx.WriteError)):
        return _("connection broken ({reason})").format(reason=message or type(exc).__name__)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return _("unsupported URL scheme")
    if isinstance(exc, httpx.InvalidURL):
        return _("bad URL ({reason})").format(reason=message)
    if isinstance(exc, httpx.ConnectError):
        return _("could not connect ({reason})").format(reason=message or _("no reason given"))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def url_host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"

