"""`cache status`: is it up, which upstreams answer (and so which it goes on through), how much it
holds, how often it served a file from what it holds."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import List, Optional

from mirrorctl.cache import api, engine
from mirrorctl.cache.settings import CachePaths, CacheSettings, read_settings
from mirrorctl.context import Context
from mirrorctl.i18n import _


@dataclass
class UpstreamState:
    name: str
    url: str
    index: str
    health: Optional[api.Health]  # None: not checked
    in_use: bool = False  # it answers, so the engine asks it for what it does not hold

    def to_dict(self) -> dict:
        data = {"name": self.name, "url": self.url, "engine_index": self.index, "in_use": self.in_use}
        data.update(self.health.to_dict() if self.health else {"up": None})
        return data


@dataclass
class CacheStatus:
    paths: CachePaths
    settings: Optional[CacheSettings]  # None: never started
    pid: Optional[int] = None  # the engine `cache start` runs
    up: bool = False  # the engine answers (whoever started it)
    upstreams: List[UpstreamState] = field(default_factory=list)
    size: int = 0  # bytes of package files held
    files: int = 0
    hits: Optional[int] = None  # file requests served from what it holds (from the engine's log)
    fetched: Optional[int] = None  # files it had to fetch from an upstream
    warnings: List[str] = field(default_factory=list)

    @property
    def configured(self) -> bool:
        return self.settings is not None

    @property
    def in_use(self) -> List[UpstreamState]:
        return [u for u in self.upstreams if u.in_use]

    def to_dict(self) -> dict:
        s = self.settings
        return {
            "configured": self.configured, "running": self.pid is not None, "up": self.up, "pid": self.pid,
            "engine": engine.ENGINE, "url": s.index_url if s else None, "host": s.host if s else None,
            "port": s.port if s else None, "uploads": s.uploads if s else None,
            "upstreams": [u.to_dict() for u in self.upstreams],
            "upstreams_in_use": [u.name for u in self.in_use],
            "size_bytes": self.size, "files": self.files, "hits": self.hits, "fetched": self.fetched,
            "folder": str(self.paths.root), "log": str(self.paths.log), "warnings": self.warnings,
        }


def status(ctx: Context, *, check_upstreams: bool = True, timeout: float = 3.0) -> CacheStatus:
    paths = CachePaths.of(ctx)
    settings = read_settings(paths)
    report = CacheStatus(paths, settings)
    if settings is None:
        return report
    report.pid = engine.running_pid(paths)
    report.up = api.engine_up(settings)
    if report.pid is not None and not report.up:
        report.warnings.append(_("the engine runs (pid {pid}) but does not answer on {url}: see {log}").format(
            pid=report.pid, url=settings.base_url, log=paths.log))
    report.upstreams = [UpstreamState(u.name, u.url, u.index, None) for u in settings.upstreams]
    if check_upstreams:
        with ThreadPoolExecutor(max_workers=min(8, len(settings.upstreams))) as pool:
            healths = list(pool.map(lambda u: api.probe(u, timeout=timeout, environ=ctx.environ),
                                    settings.upstreams))
        for state, health in zip(report.upstreams, healths):
            state.health = health
        for state in report.upstreams:
            state.in_use = bool(state.health and state.health.up)
        down = [u.name for u in report.upstreams if not u.in_use]
        if not report.in_use:
            report.warnings.append(_("no upstream mirror answers: the cache serves only what it holds"))
        elif down:
            report.warnings.append(_("{down} down: new packages come from {names}; what the cache holds is "
                                     "still served").format(down=", ".join(down),
                                                            names=", ".join(u.name for u in report.in_use)))
    report.size, report.files = _held(paths)
    report.hits, report.fetched = _log_counts(paths)
    return report


def _held(paths: CachePaths) -> "tuple[int, int]":
    """The package files the engine keeps (its ``+files`` folder)."""
    size = count = 0
    for folder, _dirs, names in os.walk(paths.server / "+files"):
        for name in names:
            try:
                size += os.lstat(os.path.join(folder, name)).st_size
                count += 1
            except OSError:
                continue
    return size, count


def _log_counts(paths: CachePaths) -> "tuple[Optional[int], Optional[int]]":
    """From the engine's log: files asked for, and files it went upstream for; the difference
    is the hits. devpi-server has no counter of its own for them."""
    requested = fetched = 0
    try:
        with open(paths.log, "rb") as fh:
            for line in fh:
                if b" GET /" in line and b"/+f/" in line:
                    requested += 1
                elif b"reading remote" in line and b"/+f/" in line:
                    fetched += 1
    except OSError:
        return None, None
    return max(0, requested - fetched), fetched
