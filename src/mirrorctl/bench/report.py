"""What a bench found: one :class:`ProbeResult` per mirror, and the ranked :class:`BenchReport`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Union

from mirrorctl.urls import mask_url

RANK_LATENCY = "latency"
RANK_THROUGHPUT = "throughput"


@dataclass
class ProbeResult:
    """What probing one mirror found. The url is the real one: mask it to display it."""

    name: str
    url: str
    ok: bool = False  # answered every sample with a Simple-API page (and the file, with --throughput)
    median_ms: Optional[float] = None  # of samples_ms; None unless ok
    p90_ms: Optional[float] = None  # nearest-rank 90th percentile of samples_ms; None unless ok
    samples_ms: List[float] = field(default_factory=list)  # successful samples, in order: request sent to first byte
    warmup_ms: Optional[float] = None  # the untimed first request (connection set-up included), wall time
    connect_ms: Optional[float] = None  # TCP connect (with DNS) of the first request
    tls_ms: Optional[float] = None  # TLS handshake of the first request; None over http://
    status: Optional[int] = None  # last HTTP status seen
    bytes: Optional[int] = None  # size on the wire of the project page
    error: Optional[str] = None  # why the mirror failed, for a person to read
    serial: Optional[int] = None  # the mirror's last serial for the probe project
    newest_version: Optional[str] = None  # the newest version the page lists
    lag: Optional[int] = None  # behind the freshest mirror seen, in lag_unit
    stale: bool = False  # too far behind (see stale_reason): it cannot win
    stale_reason: Optional[str] = None  # why it is stale, for a person
    throughput_mbps: Optional[float] = None  # --throughput: megabytes (10**6) per second
    # -- beyond the shape ``use fastest`` relies on --------------------------
    index: int = 0  # position in the list given to run_bench (the catalogue order)
    rank: Optional[int] = None  # 1 for the winner; None for mirrors that cannot win
    lag_unit: Optional[str] = None  # "serial" (PyPI events) or "releases" (newer versions missing)
    api: Optional[str] = None  # "json" or "html": what the mirror answered pip's Accept with
    final_url: Optional[str] = None  # where redirects ended, when they did
    throughput_bytes: Optional[int] = None  # bytes read from the file
    throughput_url: Optional[str] = None  # the file that was downloaded
    elapsed_ms: Optional[float] = None  # wall time spent on this mirror
    proxy: Optional[str] = None  # the proxy the page requests went through (real URL: mask it to show it)
    proxy_failed: bool = False  # error is the proxy's own failure, not the mirror's
    timed_out: bool = False  # error is a timeout
    versions: List[str] = field(default_factory=list, repr=False)  # versions the page lists

    @property
    def healthy(self) -> bool:
        """Can win: answered correctly and is not too far behind."""
        return self.ok and not self.stale

    def to_dict(self) -> Dict[str, Any]:
        def ms(value: Optional[float]) -> Optional[float]:
            return None if value is None else round(value, 2)

        return {
            "name": self.name,
            "url": mask_url(self.url),
            "ok": self.ok,
            "rank": self.rank,
            "median_ms": ms(self.median_ms),
            "p90_ms": ms(self.p90_ms),
            "samples_ms": [round(s, 2) for s in self.samples_ms],
            "warmup_ms": ms(self.warmup_ms),
            "connect_ms": ms(self.connect_ms),
            "tls_ms": ms(self.tls_ms),
            "status": self.status,
            "bytes": self.bytes,
            "error": self.error,
            "serial": self.serial,
            "newest_version": self.newest_version,
            "lag": self.lag,
            "lag_unit": self.lag_unit,
            "stale": self.stale,
            "stale_reason": self.stale_reason,
            "api": self.api,
            "final_url": mask_url(self.final_url) if self.final_url else None,
            "throughput_mbps": None if self.throughput_mbps is None else round(self.throughput_mbps, 3),
            "throughput_bytes": self.throughput_bytes,
            "proxy": mask_url(self.proxy) if self.proxy else None,
        }


@dataclass
class ProbeProgress:
    """A step of the probe of one mirror, for a live display."""

    name: str
    url: str
    index: int
    phase: str  # "start", "sample", "download"
    done: int  # samples taken so far
    samples: int
    last_ms: Optional[float] = None


@dataclass
class BenchReport:
    """All results, ranked: the winners first (rank 1, 2...), then stale mirrors, then failures."""

    results: List[ProbeResult]
    fastest: Optional[str]
    package: str
    samples: int
    timeout: float
    ranked_by: str  # "latency" | "throughput"
    max_lag: Optional[int] = None
    reference: Optional[str] = None  # the freshest mirror seen, which lags are measured against
    elapsed_ms: Optional[float] = None  # wall time of the whole bench
    #: the proxy used: {"url", "urls", "source", "bypassed", "error"} (see ProxyPlan.describe)
    proxy: Dict[str, Any] = field(default_factory=dict)
    family: Optional[int] = None  # 4 or 6 with -4 / -6
    allow_stale: bool = False  # --allow-stale: freshness not checked
    endpoint: str = "pypi"  # what was timed: "pypi" (the project page) or "conda" (repodata.json)

    @property
    def proxy_error(self) -> Optional[str]:
        """The proxy's own failure, when every mirror sent through it failed because of it."""
        return self.proxy.get("error")

    @property
    def winner(self) -> Optional[ProbeResult]:
        for result in self.results:
            if result.name == self.fastest and result.rank == 1:
                return result
        return None

    @property
    def healthy(self) -> List[ProbeResult]:
        return [r for r in self.results if r.rank is not None]

    @property
    def failed(self) -> List[ProbeResult]:
        return [r for r in self.results if not r.ok]

    def to_dict(self) -> Dict[str, Any]:
        """The ``--json`` shape (documented in docs/json.md)."""
        return {
            "fastest": self.fastest,
            "ranked_by": self.ranked_by,
            "package": self.package,
            "samples": self.samples,
            "timeout": self.timeout,
            "max_lag": self.max_lag,
            "reference": self.reference,
            "elapsed_ms": None if self.elapsed_ms is None else round(self.elapsed_ms, 1),
            "proxy": dict(self.proxy),
            "family": self.family,
            "allow_stale": self.allow_stale,
            "endpoint": self.endpoint,
            "results": [r.to_dict() for r in self.results],
        }


EventCallback = Callable[[str, Union[ProbeResult, ProbeProgress]], None]
