"""`cache start` and `cache stop`: the engine set up, configured and run in the background."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

from mirrorctl.cache import api, engine
from mirrorctl.cache.settings import (DEFAULT_HOST, DEFAULT_PORT, REQUEST_TIMEOUT, CachePaths,
                                      CacheSettings, Upstream, read_settings, write_settings)
from mirrorctl.context import Context
from mirrorctl.errors import MirrorctlError, UsageError
from mirrorctl.i18n import _

Step = Callable[[str], None]


@dataclass
class StartResult:
    settings: CacheSettings
    paths: CachePaths
    pid: Optional[int]
    initialised: bool = False  # the first start: the engine's data folder was made
    already_running: bool = False
    restarted: bool = False
    warnings: List[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        s = self.settings
        return {"url": s.index_url, "host": s.host, "port": s.port, "pid": self.pid,
                "upstreams": [{"name": u.name, "url": u.url} for u in s.upstreams], "uploads": s.uploads,
                "initialised": self.initialised, "already_running": self.already_running,
                "restarted": self.restarted, "folder": str(self.paths.root), "log": str(self.paths.log),
                "admin_password_file": str(self.paths.password), "warnings": self.warnings}


@dataclass
class StopResult:
    pid: Optional[int]  # None: it was not running
    paths: CachePaths
    warnings: List[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"stopped": self.pid is not None, "pid": self.pid, "warnings": self.warnings}


def upstreams_for(ctx: Context, names: Sequence[str]) -> List[Upstream]:
    """Catalogue names, aliases or URLs, in the order given (each once)."""
    from mirrorctl.catalog import load_catalog

    catalog = load_catalog(ctx)
    out: List[Upstream] = []
    for spec in names:
        if spec.strip().lower() == "cache":
            raise UsageError(_("the cache cannot be its own upstream"), hint=_("name mirrors, or give their URLs"))
        mirror = catalog.resolve(spec)
        name = mirror.name
        if name == "custom":  # a URL outside the catalogue: known by its host (and port)
            name = urlsplit(mirror.url).netloc.rpartition("@")[2] or name
        if all(u.url != mirror.url for u in out):
            out.append(Upstream(name, mirror.url))
    return out


FASTEST = "fastest"
BENCHED_UPSTREAMS = 3  # the cache goes on through the next: three fresh mirrors ride out two going down


def fastest_upstreams(ctx: Context, names: Sequence[str], *, samples: int = 3, timeout: float = 3.0) -> List[Upstream]:
    """The fastest fresh mirrors from here, fastest first (at most :data:`BENCHED_UPSTREAMS`):
    ``names`` measured, or the catalogue's reliable mirrors, as `use fastest` measures them (a
    stale mirror never wins). :class:`NoHealthyMirrorError` when none answers."""
    from mirrorctl import bench as core
    from mirrorctl.catalog import load_catalog
    from mirrorctl.proxy import plan

    catalog = load_catalog(ctx)
    selection = core.select_mirrors(catalog, [n for n in names if n.strip().lower() != "cache"])
    network = core.pip_network_settings(ctx)
    report = core.run_bench(selection.mirrors, samples=samples, timeout=timeout,
                            proxy_plan=plan(pip=core.pip_proxy_setting(ctx), environ=ctx.environ),
                            ca_bundle=network["ca_bundle"])
    core.winning_mirror(report, selection.mirrors)  # NoHealthyMirrorError, with its reasons, when none won
    ranked = sorted(report.healthy, key=lambda r: r.rank or 0)[:BENCHED_UPSTREAMS]
    out = []
    for result in ranked:
        mirror = selection.mirrors[result.index]
        name = mirror.name if mirror.name != "custom" else (urlsplit(mirror.url).netloc.rpartition("@")[2] or "custom")
        out.append(Upstream(name, mirror.url))
    return out


def valid_host(host: str) -> bool:
    """An IP address (IPv6 with or without brackets) or a DNS host name; never a port or a path."""
    import ipaddress
    import re

    try:
        ipaddress.ip_address(host[1:-1] if host.startswith("[") and host.endswith("]") else host)
        return True
    except ValueError:
        label = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
        return bool(re.fullmatch(rf"{label}(?:\.{label})*\.?", host)) and len(host) <= 253


def start(ctx: Context, names: Sequence[str] = (), *, host: Optional[str] = None, port: Optional[int] = None,
          uploads: Optional[bool] = None, timeout: Optional[float] = None,
          step: Step = lambda message: None) -> StartResult:
    """Start the cache (set it up on the first run); running already, bring it to what is asked."""
    from mirrorctl.fsio import locked

    engine.require()
    paths = CachePaths.of(ctx)
    previous = read_settings(paths)
    if port is not None and not 0 < port < 65536:
        raise UsageError(_("bad port {port}").format(port=port), hint=_("a number from 1 to 65535"))
    if timeout is not None and not 1 <= timeout <= 600:
        raise UsageError(_("bad upstream timeout {seconds}").format(seconds=timeout),
                         hint=_("a number of seconds from 1 to 600"))
    if host is not None and not valid_host(host.strip()):
        raise UsageError(_("bad --host {value!r}: an address or a host name, without a port").format(value=host),
                         hint=_("for example 127.0.0.1, 0.0.0.0 or ::1; the port goes in --port"))
    if names and names[0].strip().lower() == FASTEST:  # `cache start fastest [NAMES]`: measured, ranked
        step(_("measuring the mirrors for the cache's upstreams"))
        upstreams = fastest_upstreams(ctx, names[1:])
    elif names:
        upstreams = upstreams_for(ctx, names)
    elif previous is not None:
        upstreams = previous.upstreams
    else:  # the first start, nothing named: the fastest fresh mirrors from here
        step(_("measuring the mirrors for the cache's upstreams"))
        upstreams = fastest_upstreams(ctx, ())
    settings = CacheSettings(
        host=(host or (previous.host if previous else DEFAULT_HOST)).strip(),
        port=port or (previous.port if previous else DEFAULT_PORT),
        upstreams=upstreams,
        uploads=uploads if uploads is not None else (previous.uploads if previous else False),
        timeout=timeout or (previous.timeout if previous else REQUEST_TIMEOUT),
    )
    warnings = exposure_warnings(settings, paths)
    with locked(paths.root):
        pid = engine.running_pid(paths)
        restarted = False
        # what the engine reads at start (its address, its upstream timeout) needs a restart
        changed = previous is not None and ((previous.host, previous.port, previous.timeout)
                                            != (settings.host, settings.port, settings.timeout))
        if pid is not None and changed:
            step(_("stopping the cache to start it with the new settings"))
            engine.stop(paths)
            pid, restarted = None, True
        if pid is not None:
            step(_("configuring the running cache"))
            api.configure(settings, engine.admin_password(paths))
            write_settings(paths, settings)
            engine.write_config(settings, paths)
            return StartResult(settings, paths, pid, already_running=True, warnings=warnings)
        _port_free(settings)
        initialised = engine.initialise(settings, paths, step)
        step(_("starting {engine} on {host}:{port}").format(engine=engine.ENGINE, host=settings.host,
                                                             port=settings.port))
        pid = engine.spawn(settings, paths)
        try:
            engine.wait_ready(pid, paths, lambda: api.engine_up(settings, timeout=1.0))
            step(_("configuring the upstream mirrors"))
            api.configure(settings, engine.admin_password(paths))
        except BaseException:
            engine.stop(paths)
            raise
        write_settings(paths, settings)
    return StartResult(settings, paths, pid, initialised=initialised, restarted=restarted, warnings=warnings)


def exposure_warnings(settings: CacheSettings, paths: CachePaths) -> List[str]:
    if settings.loopback:
        return []
    out = [_("the cache listens on {host}: every machine that reaches it can install through it; its admin "
             "password is in {path}").format(host=settings.host, path=paths.password)]
    if settings.uploads:
        out.append(_("uploads are on: the admin account can upload to {url}").format(url=settings.index_url))
    return out


def _port_free(settings: CacheSettings) -> None:
    """Another program on the port would make the engine exit at once: say so first."""
    try:
        with socket.create_connection((settings.client_host.strip("[]"), settings.port), timeout=1.0):
            pass
    except OSError:
        return
    raise MirrorctlError(_("something already listens on {host}:{port}").format(host=settings.client_host,
                                                                               port=settings.port),
                         hint=_("choose another port: mirrorctl cache start --port {port}").format(
                             port=settings.port + 1))


def stop(ctx: Context) -> StopResult:
    from mirrorctl.fsio import locked

    paths = CachePaths.of(ctx)
    warnings: List[str] = []
    if not paths.root.is_dir():
        return StopResult(None, paths)
    with locked(paths.root):
        pid = engine.stop(paths)
    settings = read_settings(paths)
    if pid is None and settings is not None and api.engine_up(settings, timeout=1.0):
        warnings.append(_("a cache engine still answers on {url}, started outside `mirrorctl cache start` "
                          "(a service?): stop it there").format(url=settings.base_url))
    return StopResult(pid, paths, warnings)
