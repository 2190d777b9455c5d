"""Measure index mirrors from here: all at once, over pip's own request, honestly.

Every selected mirror is probed concurrently. Each one gets a single kept-alive
connection over which ``samples`` sequential ``GET <index>/<package>/`` requests
are made, with pip's ``Accept`` header (never the index root: it lists every
project and weighs tens of megabytes). Per mirror we record the TCP connect and
TLS handshake times of the first request, every sample's time (request sent to
last byte read), the HTTP status, the page size and the mirror's freshness.

Failures are results, not exceptions: a mirror that errs is marked failed with a
reason a person understands and is not sampled again, so a dead mirror costs at
most one ``timeout``. Every request runs under an overall deadline
(:func:`asyncio.wait_for`), so a server that accepts and never answers, or drips
its answer a byte at a time, costs one ``timeout`` too.

This module never prints: it returns :class:`BenchReport`, which the renderer
(``mirrorctl.render.bench``) turns into a table or JSON. httpx is imported
inside the functions that need it, to keep it off the start-up path.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import math
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit, urlunsplit

from mirrorctl import __version__
from mirrorctl.errors import UsageError
from mirrorctl.bench_parse import (MAX_PAGE_BYTES, Listing, PageError, int_or_none, newest_version, normalize_project,
                                   pick_file, read_listing, version_key)
from mirrorctl.bench_parse import parse_listing, version_from_filename  # noqa: F401 - part of this module's API
from mirrorctl.bench_policy import redirect_refusal
from mirrorctl.urls import mask_url

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from mirrorctl.catalog import Catalog, Mirror
    from mirrorctl.context import Context
    from mirrorctl.proxy import ProxyPlan

#: pip's own Accept header for project pages (PEP 691 content negotiation).
PIP_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
#: pip asks caches in front of the index for a fresh page too.
PAGE_HEADERS = {"Accept": PIP_ACCEPT, "Cache-Control": "max-age=0"}
USER_AGENT = f"mirrorctl/{__version__} (bench; probes like pip)"

DEFAULT_SAMPLES = 5
DEFAULT_TIMEOUT = 3.0
DEFAULT_PACKAGE = "pip"
#: bounds of --samples and --timeout: one mirror costs at most samples x timeout
MAX_SAMPLES = 50
MAX_TIMEOUT = 60.0
#: ``--throughput`` reads at most this much of one file...
DEFAULT_THROUGHPUT_BYTES = 8 * 1024 * 1024
MAX_REDIRECTS = 10

RANK_LATENCY = "latency"
RANK_THROUGHPUT = "throughput"

_PACKAGE_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_CREDENTIALS_RE = re.compile(r"(//[^/\s:@]*):[^/\s@]*@")


# ---------------------------------------------------------------------------
# results


@dataclass
class ProbeResult:
    """What probing one mirror found. The url is the real one: mask it to display it."""

    name: str
    url: str
    ok: bool = False  # answered every sample with a Simple-API page (and the file, with --throughput)
    median_ms: Optional[float] = None  # of samples_ms; None unless ok
    p90_ms: Optional[float] = None  # nearest-rank 90th percentile of samples_ms; None unless ok
    samples_ms: List[float] = field(default_factory=list)  # successful samples, in order
    connect_ms: Optional[float] = None  # TCP connect (with DNS) of the first request
    tls_ms: Optional[float] = None  # TLS handshake of the first request; None over http://
    status: Optional[int] = None  # last HTTP status seen
    bytes: Optional[int] = None  # size on the wire of the project page
    error: Optional[str] = None  # why the mirror failed, for a person to read
    serial: Optional[int] = None  # the mirror's last serial for the probe project
    newest_version: Optional[str] = None  # the newest version the page lists
    lag: Optional[int] = None  # behind the freshest mirror seen, in lag_unit
    stale: bool = False  # lag is over max_lag: it cannot win
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
            "results": [r.to_dict() for r in self.results],
        }


EventCallback = Callable[[str, Union[ProbeResult, ProbeProgress]], None]


# ---------------------------------------------------------------------------
# entry points


def run_bench(mirrors: Sequence["Mirror"], **options: Any) -> BenchReport:
    """Probe ``mirrors`` concurrently and rank them; the options are :func:`bench_async`'s.

    Must not be called from a running event loop: use :func:`bench_async` there.
    """
    return asyncio.run(_in_own_loop(bench_async(mirrors, **options)))


async def _in_own_loop(coro: Any) -> BenchReport:
    # our own loop: DNS lookups that hang must not keep asyncio.run from returning
    _use_daemon_resolver_threads()
    return await coro


async def bench_async(
    mirrors: Sequence["Mirror"],
    *,
    samples: int = DEFAULT_SAMPLES,
    timeout: float = DEFAULT_TIMEOUT,
    package: str = DEFAULT_PACKAGE,
    throughput: bool = False,
    max_lag: Optional[int] = None,
    proxy: Optional[str] = None,
    proxy_plan: Optional["ProxyPlan"] = None,
    on_event: Optional[EventCallback] = None,
    ca_bundle: Optional[str] = None,
    throughput_bytes: int = DEFAULT_THROUGHPUT_BYTES,
    throughput_seconds: Optional[float] = None,
) -> BenchReport:
    """Probe ``mirrors`` concurrently and rank them; see the module docstring.

    ``timeout`` bounds each request as a whole (connect, TLS, answer and body).
    ``proxy`` overrides the environment's (``ALL_PROXY``/``HTTPS_PROXY``/``HTTP_PROXY``/
    ``NO_PROXY`` are honoured otherwise); ``proxy=''`` turns proxies off; ``proxy_plan``
    (from :func:`mirrorctl.proxy.plan`) says it all and wins over ``proxy``. ``ca_bundle`` is a CA file to verify TLS with (pip's ``cert``);
    verification is never turned off. ``on_event(kind, payload)`` is called in the
    loop's thread: ``"start"``/``"sample"``/``"download"`` with a :class:`ProbeProgress`,
    ``"done"`` with the mirror's :class:`ProbeResult` (lag is not known yet then).
    :func:`run_bench` is the synchronous entry point.
    """
    _check_arguments(samples=samples, timeout=timeout, package=package, max_lag=max_lag,
                     throughput_bytes=throughput_bytes, throughput_seconds=throughput_seconds)
    project = normalize_project(package)
    if proxy_plan is None:
        import os

        from mirrorctl.proxy import plan

        proxy_plan = plan(option=proxy, environ=os.environ)
    options = _Options(
        samples=samples,
        timeout=float(timeout),
        project=project,
        throughput=throughput,
        throughput_bytes=throughput_bytes,
        throughput_seconds=float(throughput_seconds) if throughput_seconds else float(timeout),
        on_event=on_event,
    )
    started = time.perf_counter()
    _warm_up()
    results: List[ProbeResult] = []
    if mirrors:
        async with _make_client(len(mirrors), timeout=float(timeout), plan=proxy_plan, ca_bundle=ca_bundle) as client:
            probes = [_Probe(i, m, options, client, proxy_plan.for_url(project_url(m.url, project)))
                      for i, m in enumerate(mirrors)]
            results = list(await asyncio.gather(*(p.run() for p in probes)))
    proxy_info = proxy_plan.describe([project_url(m.url, project) for m in mirrors])
    proxy_info["error"] = _proxy_error(results)
    reference = _compute_lag(results, max_lag)
    ranked_by = RANK_THROUGHPUT if throughput else RANK_LATENCY
    ordered = _rank(results, ranked_by)
    fastest = ordered[0].name if ordered and ordered[0].rank == 1 else None
    return BenchReport(
        results=ordered,
        fastest=fastest,
        package=project,
        samples=samples,
        timeout=float(timeout),
        ranked_by=ranked_by,
        max_lag=max_lag,
        reference=reference,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        proxy=proxy_info,
    )


def _proxy_error(results: Sequence[ProbeResult]) -> Optional[str]:
    """The proxy's failure, once, when every mirror sent through that proxy failed because of it."""
    errors = []
    for proxy in sorted({r.proxy for r in results if r.proxy}):
        group = [r for r in results if r.proxy == proxy]
        if all(r.proxy_failed for r in group):
            errors.append(group[0].error or "the proxy failed")
    return "; ".join(errors) or None


def _check_arguments(*, samples: int, timeout: float, package: str, max_lag: Optional[int],
                     throughput_bytes: int, throughput_seconds: Optional[float]) -> None:
    if not isinstance(samples, int) or not 1 <= samples <= MAX_SAMPLES:
        raise UsageError(f"--samples must be from 1 to {MAX_SAMPLES}, not {samples!r}", hint="for example --samples 5")
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
        raise UsageError(f"--timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}, not {timeout!r}",
                         hint="for example --timeout 3")
    if not _PACKAGE_RE.match(package or ""):
        raise UsageError(f"--package {package!r} is not a valid project name", hint="for example --package pip")
    if max_lag is not None and max_lag < 0:
        raise UsageError(f"--max-lag must be 0 or more, not {max_lag!r}", hint="for example --max-lag 100")
    if throughput_bytes < 1:
        raise UsageError("the throughput byte limit must be positive")
    if throughput_seconds is not None and not throughput_seconds > 0:
        raise UsageError("the throughput time limit must be positive")


def project_url(index_url: str, project: str) -> str:
    """``<index>/<project>/``: trailing slash included, any query kept."""
    parts = urlsplit(index_url)
    path = parts.path.rstrip("/") + "/" + project + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


# ---------------------------------------------------------------------------
# choosing what to probe, and what the result means for `use`


@dataclass
class Selection:
    mirrors: List["Mirror"]
    skipped: List["Mirror"] = field(default_factory=list)  # unreliable ones left out


def select_mirrors(catalog: "Catalog", specs: Sequence[str] = (), *, include_unreliable: bool = False) -> Selection:
    """The mirrors to probe: those named (names, aliases or URLs), else the whole catalogue.

    Mirrors marked unreliable are left out of the default selection (unless
    ``include_unreliable``); naming one includes it. Each mirror appears once, and
    every name is unique (a URL given on the command line is named after its host).
    """
    from dataclasses import replace

    from mirrorctl.catalog import ADHOC

    if specs:
        chosen = [catalog.resolve(spec) for spec in specs]
        skipped: List["Mirror"] = []
    else:
        visible = catalog.visible()
        chosen = [m for m in visible if include_unreliable or not m.unreliable]
        skipped = [m for m in visible if m.unreliable and not include_unreliable]
    out: List["Mirror"] = []
    seen_urls = set()
    names = set()
    for mirror in chosen:
        key = (mirror.name, mirror.url) if mirror.source != ADHOC else ("", mirror.url)
        if key in seen_urls:
            continue
        seen_urls.add(key)
        name = mirror.name
        if mirror.source == ADHOC and name == "custom":
            parts = urlsplit(mirror.url)
            name = (parts.hostname or "custom") + (f":{parts.port}" if parts.port else "")
        base, n = name, 2
        while name in names:
            name, n = f"{base}#{n}", n + 1
        names.add(name)
        out.append(mirror if name == mirror.name else replace(mirror, name=name))
    return Selection(out, skipped)


def winning_mirror(report: BenchReport, mirrors: Sequence["Mirror"]) -> "Mirror":
    """The catalogue entry of the winner; :class:`NoHealthyMirrorError` when there is none."""
    from mirrorctl.errors import NoHealthyMirrorError

    winner = report.winner
    if winner is not None and 0 <= winner.index < len(mirrors):
        return mirrors[winner.index]
    if not report.results:
        raise NoHealthyMirrorError("no mirror to probe", hint="name mirrors, or see `mirrorctl list`")
    if report.proxy_error:
        source = report.proxy.get("source") or "the configuration"
        raise NoHealthyMirrorError(report.proxy_error,
                                   hint=f"check the proxy (it came from {source}); give another with "
                                        "--proxy URL, or go without one with --proxy '' (--no-proxy)")
    stale = [r for r in report.results if r.ok and r.stale]
    failed = [r for r in report.results if not r.ok]
    reasons = "; ".join(f"{r.name}: {r.error}" for r in failed[:3])
    if len(failed) > 3:
        reasons += f"; and {len(failed) - 3} more"
    message = "no healthy mirror"
    if failed:
        message += f" ({reasons})"
    if stale:
        message += f"; {len(stale)} answered but {'is' if len(stale) == 1 else 'are'} over --max-lag"
    timeouts = sum(1 for r in failed if (r.error or "").startswith("timed out"))
    if stale and not failed:
        hint = "raise --max-lag, or drop it"
    elif timeouts:
        hint = "check your network or proxy (HTTPS_PROXY, pip's proxy setting), or raise --timeout"
    else:
        hint = "check your network or proxy (HTTPS_PROXY, pip's proxy setting)"
    raise NoHealthyMirrorError(message, hint=hint)


def pip_network_settings(ctx: "Context") -> Dict[str, Optional[str]]:
    """pip's own ``proxy`` and ``cert`` settings (files, then PIP_PROXY / PIP_CERT), for the probes.

    Read the way pip does for ``pip install``: the [global] section, overridden by
    [install], overridden by the environment. Unreadable configuration is ignored
    here: ``mirrorctl status`` is the place that reports it. An empty value counts as unset.
    """
    found = _pip_settings(ctx)
    return {out: (found[out][0].strip() or None) if out in found else None for out in ("proxy", "ca_bundle")}


def pip_proxy_setting(ctx: "Context") -> Optional[Tuple[str, str, Optional[str]]]:
    """pip's ``proxy`` as ``(value, source, file)``, for :func:`mirrorctl.proxy.plan`; None when unset.

    An empty value is kept: pip then uses no proxy at all (nor the environment's).
    """
    return _pip_settings(ctx).get("proxy")


def _pip_settings(ctx: "Context") -> Dict[str, Tuple[str, str, Optional[str]]]:
    found: Dict[str, Tuple[str, str, Optional[str]]] = {}
    keys = {"proxy": "proxy", "cert": "ca_bundle"}
    try:
        from mirrorctl.catalog import Catalog
        from mirrorctl.targets import pip as pip_target

        status = pip_target.status(ctx, Catalog())
        files = [] if status.error else status.files
    except Exception:  # noqa: BLE001
        files = []
    for section in ("global", "install"):
        for info in files:
            if not info.exists or info.skipped or info.error:
                continue
            for key, out in keys.items():
                value = info.values.get(f"{section}.{key}")
                if value is not None and (value.strip() or out == "proxy"):
                    found[out] = (value.strip(), "pip config", str(info.path))
    for var, out in (("PIP_PROXY", "proxy"), ("PIP_CERT", "ca_bundle")):
        value = ctx.environ.get(var)
        if value is not None and (value.strip() or out == "proxy"):
            found[out] = (value.strip(), var, None)
    return found


# ---------------------------------------------------------------------------
# the probe of one mirror


@dataclass
class _Options:
    samples: int
    timeout: float
    project: str
    throughput: bool
    throughput_bytes: int
    throughput_seconds: float
    on_event: Optional[EventCallback]


class _Failed(Exception):
    """A probe failure whose message is already fit for a person (``status``: the HTTP status seen)."""

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status


class _Trace:
    """httpcore trace events of one request: connect/TLS timings and where it got stuck."""

    def __init__(self) -> None:
        self.times: Dict[str, float] = {}
        self.last: Optional[str] = None
        self.reading_body = False
        self.parsing = False

    async def __call__(self, name: str, info: Dict[str, Any]) -> None:
        self.times.setdefault(name, time.perf_counter())
        # a cancelled request still reports its clean-up: keep the step it was stuck in
        if not name.endswith(".failed") and "response_closed" not in name:
            self.last = name

    def span_ms(self, step: str) -> Optional[float]:
        # "connection.connect_tcp.started" direct, "socks.connect_tcp..." / "proxy...." through a proxy
        for prefix in ("connection", "socks", "proxy"):
            start = self.times.get(f"{prefix}.{step}.started")
            end = self.times.get(f"{prefix}.{step}.complete")
            if start is not None and end is not None:
                return (end - start) * 1000
        return None

    def step(self) -> str:
        """The step the request was in when it stopped: "connect_tcp", "setup_socks5_connection"..."""
        parts = (self.last or "").split(".")
        return parts[-2] if len(parts) >= 2 else ""

    def phase(self) -> str:
        last = self.last or ""
        if self.parsing:
            return "reading the page"
        if self.reading_body or "receive_response_body" in last or last.endswith("receive_response_headers.complete"):
            return "the answer came too slowly"
        if "receive_response_headers" in last:
            return "connected, but no answer"
        if "send_request" in last:
            return "sending the request"
        if "start_tls" in last:
            return "during the TLS handshake"
        return "connecting"


@dataclass
class _Page:
    status: int
    body: bytes
    headers: Any
    url: str
    wire_bytes: int
    redirected: bool
    received: float = 0.0  # perf_counter when the last byte was read
    listing: Optional[Listing] = None  # when asked to parse it
    unusable: Optional[str] = None  # why the page could not be used, when parsed


class _Probe:
    def __init__(self, index: int, mirror: "Mirror", options: _Options, client: "httpx.AsyncClient",
                 proxy: Optional[str] = None) -> None:
        self.index = index
        self.proxy = proxy
        self.mirror = mirror
        self.options = options
        self.client = client
        self.url = project_url(mirror.url, options.project)
        self.result = ProbeResult(name=mirror.name, url=mirror.url, index=index, proxy=proxy)
        self.files: List[Tuple[str, str]] = []

    def emit(self, kind: str, payload: Union[ProbeResult, ProbeProgress]) -> None:
        if self.options.on_event is not None:
            self.options.on_event(kind, payload)

    def progress(self, phase: str, last_ms: Optional[float] = None) -> ProbeProgress:
        return ProbeProgress(name=self.mirror.name, url=self.mirror.url, index=self.index, phase=phase,
                             done=len(self.result.samples_ms), samples=self.options.samples, last_ms=last_ms)

    async def run(self) -> ProbeResult:
        started = time.perf_counter()
        try:
            await self._run()
        except Exception as exc:  # noqa: BLE001 - a mirror that breaks the probe fails alone, the bench goes on
            self.result.ok = False
            self.result.median_ms = self.result.p90_ms = None
            self.result.error = f"probe failed ({type(exc).__name__}: {scrub(str(exc))[:200]})"
        self.result.elapsed_ms = (time.perf_counter() - started) * 1000
        self.emit("done", self.result)
        return self.result

    async def _run(self) -> None:
        result = self.result
        self.emit("start", self.progress("start"))
        samples = self.options.samples
        for number in range(1, samples + 1):
            error = await self._sample(first=number == 1)
            if error is not None:
                result.error = error if number == 1 else f"{error} (on sample {number} of {samples})"
                break
            self.emit("sample", self.progress("sample", result.samples_ms[-1]))
        else:
            result.ok = True
        if result.ok and self.options.throughput:
            self.emit("download", self.progress("download"))
            error = await self._download()
            if error is not None:
                result.ok = False
                result.error = f"download failed: {error}"
        if result.ok:
            result.median_ms = median(result.samples_ms)
            result.p90_ms = percentile(result.samples_ms, 90)

    async def _sample(self, *, first: bool) -> Optional[str]:
        """Take one sample; an error message if the mirror failed."""
        result = self.result
        trace = _Trace()
        t0 = time.perf_counter()
        try:
            page = await asyncio.wait_for(self._get_page(trace, parse=first), self.options.timeout)
        except (asyncio.TimeoutError, _timeout_errors()) as exc:
            blamed = self._blame_proxy(exc, trace, timed_out=True)
            return blamed or f"timed out after {seconds(self.options.timeout)} ({trace.phase()})"
        except (_Failed, PageError) as exc:
            if getattr(exc, "status", None) is not None:
                result.status = exc.status
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - any failure is a result, never a crash
            return self._blame_proxy(exc, trace) or describe_error(exc, host=_host(self.url))
        finally:
            if first:
                result.connect_ms = trace.span_ms("connect_tcp")
                result.tls_ms = trace.span_ms("start_tls")
        elapsed_ms = (page.received - t0) * 1000  # the parse (first sample) is not part of the sample
        result.status = page.status
        if page.redirected:
            result.final_url = page.url
        if not 200 <= page.status < 300:
            return http_status_error(page.status, self.options.project)
        if first:
            result.bytes = page.wire_bytes
            listing = page.listing
            if listing is None:
                return page.unusable or "not a Simple-API page"
            header_serial = int_or_none(page.headers.get("x-pypi-last-serial"))
            result.api = listing.api
            result.serial = header_serial if header_serial is not None else listing.serial
            result.versions = listing.versions
            self.files = listing.files
            newest = newest_version(listing.versions)
            result.newest_version = newest
        result.samples_ms.append(elapsed_ms)
        return None

    def _blame_proxy(self, exc: BaseException, trace: _Trace, *, timed_out: bool = False) -> Optional[str]:
        """The proxy's own failure (refused, unreachable, authentication), or None."""
        if not self.proxy:
            return None
        from mirrorctl.proxy import failure

        message = failure(exc, self.proxy, phase=trace.step(),
                          timeout_text=seconds(self.options.timeout) if timed_out else None)
        if message is not None:
            self.result.proxy_failed = True
        return message

    async def _get_page(self, trace: _Trace, *, parse: bool = False) -> _Page:
        """GET the project page (redirects followed as :func:`send_following` allows); parse it if asked.

        Runs under the sample's deadline, parse included: the parser yields to the loop.
        """
        request = self.client.build_request("GET", self.url, headers=PAGE_HEADERS, extensions={"trace": trace})
        response, redirected = await send_following(self.client, request, origin=self.url)
        try:
            if not 200 <= response.status_code < 300:
                return _Page(response.status_code, b"", response.headers, str(response.url), 0, redirected,
                             time.perf_counter())
            declared = int_or_none(response.headers.get("content-length"))
            if declared is not None and declared > MAX_PAGE_BYTES:
                raise _Failed(_too_large())
            trace.reading_body = True
            chunks = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_PAGE_BYTES:
                    raise _Failed(_too_large())
                chunks.append(chunk)
        finally:
            await response.aclose()
        page = _Page(response.status_code, b"".join(chunks), response.headers, str(response.url),
                     response.num_bytes_downloaded, redirected, time.perf_counter())
        if parse:
            trace.parsing = True
            self.result.status, self.result.bytes = page.status, page.wire_bytes  # known even if parsing times out
            try:
                page.listing = await read_listing(page.body, page.headers.get("content-type", ""), page.url,
                                                  self.options.project)
            except PageError as exc:
                page.unusable = str(exc)
        return page

    async def _download(self) -> Optional[str]:
        """``--throughput``: read one file linked from the page, bounded in bytes and time."""
        chosen = pick_file(self.files, self.result.versions, self.options.project)
        if chosen is None:
            return "the probe page links no file"
        filename, url = chosen
        result = self.result
        result.throughput_url = url
        options = self.options
        trace = _Trace()
        state = {"bytes": 0}
        t0 = time.perf_counter()

        async def read() -> None:
            request = self.client.build_request("GET", url, extensions={"trace": trace})
            response, _ = await asyncio.wait_for(send_following(self.client, request, origin=self.url), options.timeout)
            try:
                if not 200 <= response.status_code < 300:
                    raise _Failed(f"HTTP {response.status_code} for {filename}")
                trace.reading_body = True
                async for chunk in response.aiter_raw():
                    state["bytes"] += len(chunk)
                    if state["bytes"] >= options.throughput_bytes:
                        break
            finally:
                await response.aclose()

        try:
            await asyncio.wait_for(read(), options.throughput_seconds)
        except (asyncio.TimeoutError, _timeout_errors()):
            if state["bytes"] == 0 or not trace.reading_body:
                return f"timed out after {seconds(options.timeout)} ({trace.phase()})"
            # the time bound was reached while reading: what came so far is the measure
        except _Failed as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001
            return describe_error(exc, host=_host(url))
        elapsed = time.perf_counter() - t0
        if state["bytes"] == 0:
            return f"{filename} is empty"
        result.throughput_bytes = state["bytes"]
        result.throughput_mbps = state["bytes"] / 1e6 / max(elapsed, 1e-6)
        return None


def _too_large() -> str:
    return f"page larger than {MAX_PAGE_BYTES // 2**20} MB: not a project page"


async def send_following(client: "httpx.AsyncClient", request: "httpx.Request", *,
                         origin: str) -> Tuple["httpx.Response", bool]:
    """Send ``request`` (streamed), following redirects one by one; ``(response, redirected)``.

    Each redirect is checked by :func:`mirrorctl.bench_policy.redirect_refusal` against the
    mirror's URL ``origin`` before its request is built, so a refused target never sees a
    connection attempt. More than ``MAX_REDIRECTS`` is a "redirect loop".
    """
    hops = 0
    while True:
        response = await client.send(request, stream=True, follow_redirects=False)
        if not response.has_redirect_location:
            return response, hops > 0
        await response.aclose()
        nxt = response.next_request  # the Location resolved against the page's URL, not sent yet
        if nxt is None:
            raise _Failed("redirect without a usable Location", response.status_code)
        refusal = redirect_refusal(origin, str(nxt.url))
        if refusal is not None:
            raise _Failed(refusal, response.status_code)
        hops += 1
        if hops > MAX_REDIRECTS:
            raise _Failed("redirect loop", response.status_code)
        request = nxt


def _timeout_errors() -> type:
    import httpx

    return httpx.TimeoutException


def _make_client(count: int, *, timeout: float, plan: "ProxyPlan", ca_bundle: Optional[str]) -> "httpx.AsyncClient":
    import httpx

    from mirrorctl.proxy import routing_transport

    if ca_bundle:
        import os

        try:
            if os.path.isdir(ca_bundle):
                verify = ssl.create_default_context(capath=ca_bundle)
            else:
                verify = ssl.create_default_context(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UsageError(f"cannot use the CA bundle {ca_bundle}: {reason}",
                             hint="check pip's `cert` setting (or PIP_CERT)") from None
    else:
        # the same trust store httpx would use (honours SSL_CERT_FILE / SSL_CERT_DIR),
        # built once for all mirrors: loading CA bundles is slow
        verify = httpx.create_ssl_context(trust_env=True)
    # httpx's own timeouts are a backstop: asyncio.wait_for enforces the real deadline
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=2 * count + 2)
    # each request goes through the proxy `plan` chooses for its URL (redirects included); the
    # environment's proxy variables are read by `plan`, never by httpx (trust_env is off for them)
    return httpx.AsyncClient(
        transport=routing_transport(plan, verify=verify, limits=limits),
        trust_env=False,
        follow_redirects=False,  # send_following follows them, after redirect_refusal
        timeout=httpx.Timeout(timeout + 1.0),
        headers={"User-Agent": USER_AGENT},
    )


# ---------------------------------------------------------------------------
# DNS lookups that cannot hold the program hostage


class _DaemonThreadExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs each job in a daemon thread and never waits for it at shutdown.

    asyncio resolves names in the loop's default executor, and ``asyncio.run`` waits
    for that executor when it ends. A DNS lookup that hangs would then hold the whole
    bench long after its deadline; with this executor it is simply abandoned.
    """

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        future: concurrent.futures.Future = concurrent.futures.Future()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting coroutine
                future.set_exception(exc)

        threading.Thread(target=work, name="mirrorctl-resolver", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        return None


def _warm_up() -> None:
    """Load what httpcore loads lazily on its first request, so the first sample does not pay for it."""
    import sys

    try:
        import anyio

        anyio.Event()  # imports anyio's asyncio backend (tens of milliseconds)
    except Exception:  # noqa: BLE001 - only an optimisation
        pass
    # httpcore tries `import sniffio` several times per request; recent anyio no longer
    # installs it, and a failing import searches sys.path every time (half of the CPU
    # time of a request). Remember the failure, as a successful import would be.
    if "sniffio" not in sys.modules:
        import importlib.util

        if importlib.util.find_spec("sniffio") is None:
            sys.modules["sniffio"] = None  # type: ignore[assignment]  # `import sniffio` -> ImportError at once


def _use_daemon_resolver_threads() -> None:
    loop = asyncio.get_running_loop()
    loop.set_default_executor(_DaemonThreadExecutor(max_workers=1))


# ---------------------------------------------------------------------------
# reading a Simple-API page


# ---------------------------------------------------------------------------
# freshness and ranking


def _compute_lag(results: Sequence[ProbeResult], max_lag: Optional[int]) -> Optional[str]:
    """Fill ``lag``/``stale``; return the name of the reference (freshest) mirror."""
    ok = [r for r in results if r.ok]
    with_serial = [r for r in ok if r.serial is not None]
    reference: Optional[ProbeResult] = None
    best_serial = max((r.serial for r in with_serial), default=None)  # type: ignore[type-var]
    if with_serial:
        reference = next(r for r in with_serial if r.serial == best_serial)
    # the newest version seen anywhere, and every version newer than each mirror's newest
    all_versions: Dict[tuple, str] = {}
    for r in ok:
        for v in r.versions:
            key = version_key(v)
            if key is not None:
                all_versions.setdefault(key, v)
    newest_seen = max(all_versions) if all_versions else None
    for r in ok:
        if r.serial is not None and best_serial is not None:
            r.lag = max(0, best_serial - r.serial)
            r.lag_unit = "serial"
        elif r.newest_version is not None and newest_seen is not None:
            mine = version_key(r.newest_version)
            r.lag = sum(1 for key in all_versions if mine is not None and key > mine)
            r.lag_unit = "releases"
            if reference is None and r.lag == 0:
                reference = r
        if max_lag is not None and r.lag is not None and r.lag > max_lag:
            r.stale = True
    return reference.name if reference is not None else None


def _rank(results: Sequence[ProbeResult], ranked_by: str) -> List[ProbeResult]:
    healthy = [r for r in results if r.healthy and r.median_ms is not None]
    if ranked_by == RANK_THROUGHPUT:
        healthy = [r for r in healthy if r.throughput_mbps is not None]
        healthy.sort(key=lambda r: (-round(r.throughput_mbps or 0.0, 3), round(r.median_ms or 0.0, 1), r.index))
    else:
        # ties (to a tenth of a millisecond) go to catalogue order
        healthy.sort(key=lambda r: (round(r.median_ms or 0.0, 1), r.index))
    for rank, r in enumerate(healthy, 1):
        r.rank = rank
    chosen = {id(r) for r in healthy}
    stale = sorted((r for r in results if r.ok and id(r) not in chosen), key=lambda r: r.index)
    failed = sorted((r for r in results if not r.ok), key=lambda r: r.index)
    return healthy + stale + failed


# ---------------------------------------------------------------------------
# small helpers


def median(values: Sequence[float]) -> Optional[float]:
    """The median (the mean of the two middle values for an even count); no statistics import."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[float], pct: float) -> Optional[float]:
    """Nearest-rank percentile (the p90 of 5 samples is the slowest one)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def seconds(value: float) -> str:
    """3 -> '3.0 s', 0.25 -> '0.25 s'."""
    text = f"{value:.1f}" if abs(value * 10 - round(value * 10)) < 1e-9 else f"{value:g}"
    return f"{text} s"


def scrub(text: str) -> str:
    """Mask any password inside URLs quoted by an error message."""
    return _CREDENTIALS_RE.sub(r"\1:****@", text)


def http_status_error(status: int, project: str) -> str:
    if status == 404:
        return f"HTTP 404 (no project {project!r} here: is the URL the index, e.g. .../simple?)"
    if status in (401, 403):
        return f"HTTP {status} (access denied)"
    if status == 407:
        return "HTTP 407 (the proxy wants credentials)"
    return f"HTTP {status}"


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"


def _causes(exc: BaseException) -> List[BaseException]:
    chain: List[BaseException] = []
    todo: List[Optional[BaseException]] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or any(current is seen for seen in chain):
            continue
        chain.append(current)
        todo.extend([current.__cause__, current.__context__])
    return chain


def describe_error(exc: BaseException, *, host: str = "?") -> str:
    """A reason a person understands, from an httpx/OS/TLS exception."""
    import httpx

    chain = _causes(exc)
    for err in chain:
        if isinstance(err, socket.gaierror):
            return f"DNS lookup failed for {host}"
        if isinstance(err, ssl.SSLCertVerificationError):
            return f"TLS: certificate verify failed ({err.verify_message or err.reason})"
        if isinstance(err, ssl.SSLError):
            return f"TLS: {scrub(err.reason or str(err))}"
        if isinstance(err, ConnectionRefusedError):
            return "connection refused"
        if isinstance(err, ConnectionResetError):
            return "connection reset by the server"
        if isinstance(err, OSError) and err.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "network unreachable" if err.errno == errno.ENETUNREACH else "host unreachable"
    message = scrub(str(exc))
    lowered = message.lower()
    if isinstance(exc, httpx.TooManyRedirects):
        return "redirect loop"
    if isinstance(exc, httpx.ProxyError):
        return f"proxy: {message}"
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "getaddrinfo" in lowered \
            or "temporary failure in name resolution" in lowered or "no address associated" in lowered:
        return f"DNS lookup failed for {host}"
    if "certificate verify failed" in lowered:
        return f"TLS: {message}"
    if "ssl" in lowered or "tls" in lowered:
        return f"TLS: {message}"
    if "connection refused" in lowered:
        return "connection refused"
    if isinstance(exc, httpx.RemoteProtocolError):
        if "without sending" in lowered or "disconnected" in lowered:
            return "the server closed the connection without answering"
        return f"not a valid HTTP answer ({message})"
    if isinstance(exc, (httpx.ReadError, httpx.WriteError)):
        return f"connection broken ({message or type(exc).__name__})"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "unsupported URL scheme"
    if isinstance(exc, httpx.InvalidURL):
        return f"bad URL ({message})"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect ({message or 'no reason given'})"
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
