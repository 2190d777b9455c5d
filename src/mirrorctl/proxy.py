"""Which proxy bench's requests go through, and what a proxy's own failure looks like.

The proxy is chosen the way pip chooses it, first match wins:

1. ``--proxy URL`` on mirrorctl's command line (``--proxy ''`` or ``--no-proxy``: no proxy at all);
2. pip's own ``proxy`` setting (``PIP_PROXY``, else pip.conf's ``[install]``/``[global]``): like pip,
   it applies to every URL and makes the proxy variables of the environment ignored; an empty
   value turns proxies off;
3. the environment: ``HTTPS_PROXY`` for https:// URLs, ``HTTP_PROXY`` for http:// URLs,
   ``ALL_PROXY`` for both (lower-case names first, as urllib and requests read them), except the
   hosts listed in ``NO_PROXY``.

``http://``, ``https://``, ``socks5://`` and ``socks5h://`` proxies are supported (SOCKS through
socksio, a dependency). Through a SOCKS proxy the mirror's host *name* is sent to the proxy, which
resolves it, for ``socks5://`` as for ``socks5h://`` (httpx does so; pip resolves ``socks5://``
names itself).

Nothing here prints; httpx is imported only where it is needed.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from mirrorctl.errors import UsageError
from mirrorctl.i18n import _
from mirrorctl.urls import mask_url

SCHEMES = ("http", "https", "socks5", "socks5h")

#: where the proxy came from, for people and for the JSON (``proxy.source``)
SOURCE_OPTION = "--proxy"
SOURCE_OFF = "--no-proxy"
SOURCE_PIP_ENV = "PIP_PROXY"
SOURCE_PIP_CONFIG = "pip config"
SOURCE_ENV = "environment"
SOURCE_NONE = "none"


@dataclass
class ProxyPlan:
    """The proxy for each URL: one ``fixed`` proxy, or the environment's per scheme, or none."""

    source: str = SOURCE_NONE
    fixed: Optional[str] = None  # one proxy for every URL (--proxy, pip's setting)
    by_scheme: Dict[str, str] = field(default_factory=dict)  # "http"/"https" -> proxy (environment)
    variables: Dict[str, str] = field(default_factory=dict)  # "https" -> "HTTPS_PROXY": which variable set it
    no_proxy: str = ""  # NO_PROXY's value (environment only)
    where: Optional[str] = None  # the pip config file the proxy was read from

    def for_url(self, url: str) -> Optional[str]:
        """The proxy URL for a request to ``url``, or None for a direct connection."""
        if self.fixed is not None:
            return self.fixed
        scheme = urlsplit(url).scheme.lower()
        proxy = self.by_scheme.get(scheme)
        if proxy is None or bypassed(url, self.no_proxy):
            return None
        return proxy

    def describe(self, urls: List[str]) -> Dict[str, Any]:
        """The ``proxy`` object of bench's JSON: the proxy used (masked), where it came from."""
        used = sorted({p for p in (self.for_url(u) for u in urls) if p is not None})
        source = self.source
        if self.source == SOURCE_ENV:
            names = sorted({self.variables[urlsplit(u).scheme.lower()] for u in urls
                            if self.for_url(u) is not None and urlsplit(u).scheme.lower() in self.variables})
            source = ", ".join(names) if names else _("environment (not used: NO_PROXY)")
        elif self.source == SOURCE_PIP_CONFIG:  # words for people (--json output is always English)
            source = _("pip config ({path})").format(path=self.where) if self.where else _("pip config")
        return {
            "url": mask_url(used[0]) if len(used) == 1 else None,
            "urls": [mask_url(p) for p in used],
            "source": source,
            "bypassed": [mask_url(u) for u in urls if self.for_url(u) is None] if used else [],
        }


def normalize(value: str, *, what: str) -> str:
    """A proxy URL as httpx wants it: a scheme (``http://`` when none is given), a host, a port."""
    text = value.strip()
    if "://" not in text:
        text = "http://" + text  # as requests and httpx read ALL_PROXY=127.0.0.1:7890
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise UsageError(_("bad proxy {proxy!r} ({what}): {reason}").format(proxy=mask_url(value), what=what,
                                                                             reason=exc),
                         hint=_("for example socks5://127.0.0.1:7890 or http://proxy.example:3128")) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UsageError(_("bad proxy {proxy!r} ({what}): the scheme must be http, https, socks5 or socks5h").format(
            proxy=mask_url(value), what=what),
            hint=_("for example socks5://127.0.0.1:7890 or http://proxy.example:3128"))
    if not parts.hostname:
        raise UsageError(_("bad proxy {proxy!r} ({what}): no host").format(proxy=mask_url(value), what=what),
                         hint=_("for example socks5://127.0.0.1:7890"))
    return scheme + text[len(parts.scheme):]


def plan(*, option: Optional[str] = None, off: bool = False, pip: Optional[Tuple[str, str, Optional[str]]] = None,
         environ: Optional[Mapping[str, str]] = None) -> ProxyPlan:
    """Choose the proxy (see the module docstring).

    ``option`` is ``--proxy``'s value (None when not given; ``''`` turns proxies off, as
    ``off`` does). ``pip`` is pip's setting as ``(value, source, file)`` (value ``''``: off).
    """
    if off or (option is not None and not option.strip()):
        return ProxyPlan(source=SOURCE_OFF)
    if option is not None:
        return ProxyPlan(source=SOURCE_OPTION, fixed=normalize(option, what="--proxy"))
    if pip is not None:
        value, source, where = pip
        if not value.strip():
            return ProxyPlan(source=source, where=where)
        return ProxyPlan(source=source, fixed=normalize(value, what=where or source), where=where)
    return from_environment(environ if environ is not None else {})


def _variable(environ: Mapping[str, str], name: str) -> Optional[Tuple[str, str]]:
    for key in (name.lower(), name.upper()):
        value = (environ.get(key) or "").strip()
        if value:
            return value, key
    return None


def from_environment(environ: Mapping[str, str]) -> ProxyPlan:
    """``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` and ``NO_PROXY``."""
    found = ProxyPlan(source=SOURCE_ENV)
    every = _variable(environ, "all_proxy")
    for scheme in ("http", "https"):
        hit = _variable(environ, f"{scheme}_proxy") or every
        if hit is not None:
            value, name = hit
            found.by_scheme[scheme] = normalize(value, what=name)
            found.variables[scheme] = name
    no_proxy = _variable(environ, "no_proxy")
    found.no_proxy = no_proxy[0] if no_proxy else ""
    if not found.by_scheme:
        return ProxyPlan(source=SOURCE_NONE)
    return found


def bypassed(url: str, no_proxy: str) -> bool:
    """Does NO_PROXY exempt ``url``? ``*``, host names and domain suffixes (``.example.com`` or
    ``example.com``), optionally with ``:port``, and IP networks (``10.0.0.0/8``), as requests reads it."""
    if not no_proxy.strip():
        return False
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in no_proxy.replace(" ", ",").split(","):
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
                continue
            except ValueError:
                pass
        name, _, entry_port = entry.partition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and str(port) != entry_port:
            continue
        name = name.lstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False


# ---------------------------------------------------------------------------
# a proxy's own failure


def shown(proxy: str) -> str:
    """``socks5://user:****@127.0.0.1:7890``: the proxy as a message names it."""
    parts = urlsplit(proxy)
    netloc = parts.netloc
    return mask_url(f"{parts.scheme}://{netloc}")


def failure(exc: BaseException, proxy: str, *, phase: str, timeout_text: Optional[str] = None) -> Optional[str]:
    """The message for a failure of ``proxy`` itself (not of the mirror behind it), or None.

    ``phase`` is the step the request was in ("connect_tcp", "setup_socks5_connection", ...);
    ``timeout_text`` is set when the request timed out ("3.0 s").
    """
    name = shown(proxy)
    host = urlsplit(proxy).hostname or "?"
    if timeout_text is not None:
        if phase in ("", "connect_tcp"):
            return _("the proxy {proxy} did not accept a connection within {seconds}").format(proxy=name,
                                                                                               seconds=timeout_text)
        if phase == "setup_socks5_connection":  # a mute proxy, or one slow to reach every mirror
            return _("the proxy {proxy} did not answer within {seconds}").format(proxy=name, seconds=timeout_text)
        return None
    from mirrorctl.netpolicy import causes

    chain = causes(exc)
    for err in chain:
        if isinstance(err, socket.gaierror):
            return _("the proxy {proxy}: DNS lookup failed for {host}").format(proxy=name, host=host)
        if isinstance(err, ConnectionRefusedError):
            return _("the proxy {proxy} refused the connection").format(proxy=name)
    text = " ".join(str(e) for e in chain).lower()
    if phase == "connect_tcp" or (phase == "" and "connect" in type(exc).__name__.lower()):
        if "refused" in text:
            return _("the proxy {proxy} refused the connection").format(proxy=name)
        if "name or service" in text or "getaddrinfo" in text or "name resolution" in text:
            return _("the proxy {proxy}: DNS lookup failed for {host}").format(proxy=name, host=host)
        return _("the proxy {proxy} could not be reached ({reason})").format(proxy=name,
                                                                             reason=text or type(exc).__name__)
    if "invalid username/password" in text:
        return _("the proxy {proxy} rejected the user name and password").format(proxy=name)
    has_login = bool(urlsplit(proxy).username or urlsplit(proxy).password)
    if "but got username/password" in text or ("but got" in text and "from proxy server" in text and not has_login):
        return _("the proxy {proxy} wants a user name and password").format(proxy=name)
    if "but got" in text and "from proxy server" in text:
        return _("the proxy {proxy} refused the authentication offered ({reason})").format(proxy=name,
                                                                                            reason=text.strip())
    if phase == "setup_socks5_connection" and "could not connect" not in text:
        return _("the proxy {proxy} did not answer as a SOCKS5 proxy ({reason})").format(
            proxy=name, reason=text.strip() or type(exc).__name__)
    return None


def missing_socks_support() -> Optional[str]:
    """Why SOCKS proxies cannot be used here, or None."""
    import importlib.util

    if importlib.util.find_spec("socksio") is None:
        return _("socksio is not installed")
    return None


# ---------------------------------------------------------------------------
# the transport that sends each request the way the plan says


@functools.lru_cache(maxsize=None)
def _router_classes() -> Tuple[type, type]:
    """(the async, the sync) transport sending each request through the transport its plan picks;
    made once, when httpx is first needed (a bench at 200 mirrors makes 200 of them)."""
    import httpx

    class AsyncRouter(httpx.AsyncBaseTransport):
        def __init__(self, transports: Dict[Optional[str], Any], plan: ProxyPlan) -> None:
            self.transports, self.plan = transports, plan

        async def handle_async_request(self, request: "httpx.Request") -> "httpx.Response":
            return await self.transports[self.plan.for_url(str(request.url))].handle_async_request(request)

        async def aclose(self) -> None:
            for transport in self.transports.values():
                await transport.aclose()

    class Router(httpx.BaseTransport):
        def __init__(self, transports: Dict[Optional[str], Any], plan: ProxyPlan) -> None:
            self.transports, self.plan = transports, plan

        def handle_request(self, request: "httpx.Request") -> "httpx.Response":
            return self.transports[self.plan.for_url(str(request.url))].handle_request(request)

        def close(self) -> None:
            for transport in self.transports.values():
                transport.close()

    return AsyncRouter, Router


def routing_transport(plan: ProxyPlan, *, verify: Any, limits: Any = None, local_address: Optional[str] = None) -> Any:
    """An httpx transport sending each request through ``plan.for_url(url)`` (or directly).

    Every transport is made here, before the first request: a proxy that httpx cannot use
    is a :class:`UsageError` now, not a failure of every mirror later. ``local_address``
    (``0.0.0.0`` or ``::``) pins the address family of the connections, to the proxy too.
    """
    import httpx

    options = {"verify": verify, "local_address": local_address}
    if limits is not None:
        options["limits"] = limits
    proxies = {plan.fixed} if plan.fixed else set(plan.by_scheme.values())
    transports: Dict[Optional[str], Any] = {None: httpx.AsyncHTTPTransport(**options)}
    for proxy in sorted(p for p in proxies if p):
        transports[proxy] = _proxy_transport(proxy, httpx.AsyncHTTPTransport, options)

    return _router_classes()[0](transports, plan)


def sync_transport(plan: ProxyPlan, *, verify: Any, local_address: Optional[str] = None) -> Any:
    """:func:`routing_transport` for a synchronous httpx.Client."""
    import httpx

    options = {"verify": verify, "local_address": local_address}
    proxies = {plan.fixed} if plan.fixed else set(plan.by_scheme.values())
    transports: Dict[Optional[str], Any] = {None: httpx.HTTPTransport(**options)}
    for proxy in sorted(p for p in proxies if p):
        transports[proxy] = _proxy_transport(proxy, httpx.HTTPTransport, options)

    return _router_classes()[1](transports, plan)


def check_usable(plan: ProxyPlan, *, verify: Any) -> None:
    """:class:`UsageError` now when httpx cannot use the plan's proxies (SOCKS support missing, bad URL)."""
    import httpx

    proxies = {plan.fixed} if plan.fixed else set(plan.by_scheme.values())
    for proxy in sorted(p for p in proxies if p):
        _proxy_transport(proxy, httpx.AsyncHTTPTransport, {"verify": verify})


def _proxy_transport(proxy: str, kind: Any, options: Dict[str, Any]) -> Any:
    import httpx

    scheme = urlsplit(proxy).scheme
    if scheme.startswith("socks") and missing_socks_support():
        raise UsageError(_("cannot use the SOCKS proxy {proxy}: {reason}").format(proxy=shown(proxy),
                                                                                reason=missing_socks_support()),
                         hint=_("install it (pip install socksio), or use an http:// proxy"))
    attempts = [proxy]
    if scheme == "socks5h":
        # httpx before 0.28 knows only socks5://, which sends the host name to the proxy too
        attempts.append("socks5" + proxy[len(scheme):])
    error: Optional[Exception] = None
    for url in attempts:
        try:
            return kind(proxy=httpx.Proxy(url), **options)
        except (ValueError, TypeError, httpx.InvalidURL) as exc:
            error = exc
    from mirrorctl.netpolicy import scrub

    raise UsageError(_("bad proxy {proxy!r}: {reason}").format(proxy=shown(proxy), reason=scrub(str(error))),
                     hint=_("for example socks5://127.0.0.1:7890 or http://proxy.example:3128"))
