"""Talking HTTP: to the engine (its JSON API, as its admin) and to the upstream mirrors (a health check).

Every request goes through :func:`client`: no redirects followed, TLS verified, short timeouts,
reads capped in size; the engine is on this machine (no proxy), an upstream through the proxy the
environment names (``mirrorctl.proxy``).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional

from mirrorctl.cache.settings import INDEX, CacheSettings, Upstream
from mirrorctl.errors import MirrorctlError
from mirrorctl.i18n import _

if TYPE_CHECKING:  # pragma: no cover
    import httpx

MAX_BODY = 1024 * 1024  # the engine's API answers are small; a mirror's project page too
PROBE_PROJECT = "pip"  # every PyPI mirror has it; a private index answers 404, which is an answer too


def client(*, timeout: float = 5.0, url: Optional[str] = None,
           environ: Optional[Mapping[str, str]] = None) -> "httpx.Client":
    """The one HTTP client of this package, under the one policy (netpolicy: no redirects
    followed, TLS verified): with ``environ``, requests to ``url`` go through the proxy the
    environment names for it (HTTPS_PROXY, NO_PROXY...); without, directly (the engine here)."""
    from mirrorctl import netpolicy, proxy

    plan = proxy.from_environment(environ) if environ is not None and url else None
    return netpolicy.client(plan=plan, timeout=timeout, headers={"Accept": "application/json"})


def _read(response: "httpx.Response") -> bytes:
    body = b""
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > MAX_BODY:
            break
    return body[:MAX_BODY]


def _json(response: "httpx.Response") -> Any:
    import json

    try:
        return json.loads(_read(response))
    except ValueError:
        return None


# -- the engine -------------------------------------------------------------------------

def engine_up(settings: CacheSettings, timeout: float = 2.0) -> bool:
    """The engine answers its API on the configured address."""
    import httpx

    try:
        with client(timeout=timeout) as http, http.stream("GET", f"{settings.base_url}/+api") as response:
            return response.status_code == 200 and isinstance(_json(response), dict)
    except httpx.HTTPError:
        return False


class Admin:
    """The engine's admin (root) session: logs in with the stored password."""

    def __init__(self, settings: CacheSettings, password: str):
        self.base = settings.base_url
        self.http = client(timeout=30.0)
        self._auth: Optional[Dict[str, str]] = None
        self._password = password

    def __enter__(self) -> "Admin":
        return self

    def __exit__(self, *exc) -> None:
        self.http.close()

    def _fail(self, what: str, response: "httpx.Response") -> MirrorctlError:
        data = _json(response) or {}
        reason = data.get("message") if isinstance(data, dict) else None
        return MirrorctlError(_("the cache engine refused to {what}: HTTP {status} {reason}").format(
            what=what, status=response.status_code, reason=reason or ""),
            hint=_("see the engine's log (`mirrorctl cache status` names it)"))

    def login(self) -> None:
        response = self.http.post(f"{self.base}/+login", json={"user": "root", "password": self._password})
        data = _json(response)
        if response.status_code != 200 or not isinstance(data, dict):
            raise self._fail(_("log in as its admin"), response)
        token = data["result"]["password"]
        self._auth = {"X-Devpi-Auth": base64.b64encode(f"root:{token}".encode()).decode()}

    def get_index(self, name: str) -> Optional[dict]:
        response = self.http.get(f"{self.base}/{name}")
        if response.status_code == 404:
            return None
        data = _json(response)
        if response.status_code != 200 or not isinstance(data, dict):
            raise self._fail(_("show index {name}").format(name=name), response)
        return data["result"]

    def put_index(self, name: str, config: dict) -> None:
        """Create the index, or change the keys of ``config`` in the one there."""
        if self._auth is None:
            self.login()
        current = self.get_index(name)
        if current is None:
            response = self.http.put(f"{self.base}/{name}", json=config, headers=self._auth)
        else:
            current.pop("projects", None)
            if all(current.get(k) == v for k, v in config.items()):
                return
            response = self.http.patch(f"{self.base}/{name}", json={**current, **config}, headers=self._auth)
        if response.status_code not in (200, 201):
            raise self._fail(_("set up index {name}").format(name=name), response)


def configure(settings: CacheSettings, password: str) -> None:
    """The engine's indexes for ``settings``: one mirror index per upstream, and the index the
    tools use, which merges them in order (devpi-server asks each, and serves what it holds of
    one that is down)."""
    from mirrorctl.cache.engine import cache_index, mirror_index

    with Admin(settings, password) as admin:
        for upstream in settings.upstreams:
            admin.put_index(upstream.index, mirror_index(upstream.url))
        admin.put_index(INDEX, cache_index(settings))


# -- the upstreams ----------------------------------------------------------------------

@dataclass
class Health:
    up: bool
    status: Optional[int] = None
    seconds: Optional[float] = None
    error: Optional[str] = None

    def to_dict(self) -> dict:
        return {"up": self.up, "http_status": self.status, "seconds": self.seconds, "error": self.error}


def probe(upstream: Upstream, *, timeout: float, environ: Mapping[str, str]) -> Health:
    """One request for a project page: any answer below 500 is a mirror that is up."""
    import httpx

    url = upstream.url.rstrip("/") + f"/{PROBE_PROJECT}/"
    start = time.monotonic()
    try:
        with client(timeout=timeout, url=url, environ=environ) as http, http.stream("GET", url) as response:
            elapsed = round(time.monotonic() - start, 3)
            if response.status_code >= 500:
                return Health(False, response.status_code, elapsed, f"HTTP {response.status_code}")
            return Health(True, response.status_code, elapsed)
    except httpx.TimeoutException:
        return Health(False, None, None, _("no answer within {seconds:g} s").format(seconds=timeout))
    except httpx.HTTPError as exc:
        return Health(False, None, None, str(exc) or type(exc).__name__)
    except (OSError, ValueError) as exc:
        return Health(False, None, None, str(exc) or type(exc).__name__)
