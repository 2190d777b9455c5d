"""Running a bench: every mirror at once, each under its own deadline.

1. **Warm-up round**: every mirror's client is made and sends its untimed first request
   (connection set-up, the page read and parsed). This is where the client is busy: making
   clients, handshakes, parsing pages. No sample is taken before every warm-up is over (or
   left to finish alone after :data:`WARM_UP_WAIT`): the client's start-up never falls into
   a sample.
2. **Samples**. The *contenders*, at most :data:`CONTENDER_FACTOR` times as slow as the
   fastest (by the warm-up's answer, timed at the transport), take theirs in rounds: round
   *k* sends sample *k* of each, in quick waves (:func:`sending_waves`), and the next round
   starts when all have answered; the loop has little else to do meanwhile, so their
   answers are read as they arrive. The other mirrors cannot win: each takes its samples
   alone, one after the other, from the start. They keep the loop a little busy at random
   moments, which costs the contenders' samples a fraction of a millisecond at 200 mirrors;
   holding them in the rounds would make every round wait for the slowest answer of all
   (with +-25 % jitter, 1.25 times the slowest round trip, every round).
   Samples are sent to each mirror's transport directly (:meth:`Probe._send_sample`), and
   Python's cyclic garbage collector waits until the bench is over: both kept the loop busy
   as answers came. A round that is not over after :data:`ROUND_WAIT` seconds lets its slow
   mirrors go on by themselves (a mirror costs one ``--timeout`` at most).
3. ``--throughput``: the downloads, all at once.

The wall time is about one warm-up plus ``samples`` times the slowest round trip: what a
sequential loop would take for one mirror.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import gc
import math
import re
import threading
import time
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

from mirrorctl.bench import conda
from mirrorctl.bench.conda import ENDPOINT_CONDA, ENDPOINTS
from mirrorctl.bench.listing import normalize_project
from mirrorctl.bench.probe import Options, Probe
from mirrorctl.bench.rank import compute_lag, rank
from mirrorctl.bench.report import RANK_LATENCY, RANK_THROUGHPUT, BenchReport, EventCallback, ProbeResult
from mirrorctl.errors import UsageError
from mirrorctl.i18n import _

if TYPE_CHECKING:  # pragma: no cover
    from mirrorctl.catalog import Mirror
    from mirrorctl.proxy import ProxyPlan

DEFAULT_SAMPLES = 5
DEFAULT_TIMEOUT = 3.0
DEFAULT_PACKAGE = "pip"
#: bounds of --samples and --timeout: one mirror costs at most (samples + 1) x timeout
MAX_SAMPLES = 50
MAX_TIMEOUT = 60.0
#: ``--throughput`` reads at most this much of one file...
DEFAULT_THROUGHPUT_BYTES = 8 * 1024 * 1024
#: a round waits this long at most for its slowest mirror: slower than that, a mirror cannot win
#: (public mirrors answer in tens to hundreds of ms), and it goes on alone, unsynchronised
ROUND_WAIT = 1.0
#: the warm-up round (connection set-up, page parse) waits this long at most for its slowest mirror
WARM_UP_WAIT = 2.0
#: a mirror up to this many times as slow as the fastest so far is a contender (see :func:`_contenders`)
CONTENDER_FACTOR = 1.5
#: a sample round sends its requests in waves (see :func:`sending_waves`), each once the one before
#: is on the wire (on kept-alive connections: at once), or after this long at most
SEND_WAIT = 0.05
#: the mirrors that cannot win start sampling this many at a time, the same way
SEND_WAVE = 16

_PACKAGE_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def run_bench(mirrors: Sequence["Mirror"], **options: Any) -> BenchReport:
    """Probe ``mirrors`` concurrently and rank them; the options are :func:`bench_async`'s.

    Must not be called from a running event loop: use :func:`bench_async` there.
    """
    return asyncio.run(_in_own_loop(bench_async(mirrors, **options)))


async def _in_own_loop(coro: Any) -> BenchReport:
    # our own loop: DNS lookups that hang must not keep asyncio.run from returning
    loop = asyncio.get_running_loop()
    loop.set_default_executor(_DaemonThreadExecutor(max_workers=1))
    return await coro


async def bench_async(
    mirrors: Sequence["Mirror"],
    *,
    samples: int = DEFAULT_SAMPLES,
    timeout: float = DEFAULT_TIMEOUT,
    package: str = DEFAULT_PACKAGE,
    throughput: bool = False,
    max_lag: Optional[int] = None,
    allow_stale: bool = False,
    proxy: Optional[str] = None,
    proxy_plan: Optional["ProxyPlan"] = None,
    on_event: Optional[EventCallback] = None,
    ca_bundle: Optional[str] = None,
    family: Optional[int] = None,
    endpoint: str = "pypi",
    throughput_bytes: int = DEFAULT_THROUGHPUT_BYTES,
    throughput_seconds: Optional[float] = None,
) -> BenchReport:
    """Probe ``mirrors`` concurrently and rank them; see the module docstring.

    Fresh by default: a mirror missing the newest release another mirror lists, or too far behind
    the freshest serial, cannot win (:func:`mirrorctl.bench.rank.compute_lag`); ``max_lag`` sets
    the limit, ``allow_stale`` turns the check off.
    ``timeout`` bounds each request as a whole (connect, TLS, answer, body, parse).
    ``proxy`` overrides the environment's proxies (``''`` turns them off); ``proxy_plan``
    (from :func:`mirrorctl.proxy.plan`) says it all and wins over ``proxy``. ``ca_bundle`` is
    pip's ``cert``; verification is never turned off. ``family`` (4 or 6) measures over that
    address family only. ``endpoint="conda"`` times each mirror's conda channels instead of its
    PyPI index (:mod:`mirrorctl.bench.conda`). ``on_event(kind, payload)``: ``"start"``/``"sample"``/``"download"``
    with a :class:`ProbeProgress`, ``"done"`` with the mirror's :class:`ProbeResult`.
    """
    check_arguments(samples=samples, timeout=timeout, package=package, max_lag=max_lag,
                    throughput_bytes=throughput_bytes, throughput_seconds=throughput_seconds, family=family)
    if endpoint not in ENDPOINTS:
        raise UsageError(_("unknown bench endpoint {value!r}").format(value=endpoint))
    if endpoint == ENDPOINT_CONDA and throughput:
        raise UsageError(_("--throughput measures PyPI files: not with --conda"), hint=_("leave one of them out"))
    from mirrorctl import netpolicy

    netpolicy.prefetch_ssl_context(ca_bundle)  # the CA bundle loads beside the imports below
    from mirrorctl.proxy import check_usable, plan

    project = normalize_project(package)
    if proxy_plan is None:
        import os

        proxy_plan = plan(option=proxy, environ=os.environ)
    _warm_up_imports()  # httpx and the rest, while the CA bundle loads
    verify = netpolicy.ssl_context(ca_bundle)  # once for every mirror, before any is timed
    check_usable(proxy_plan, verify=verify)
    options = Options(samples=samples, timeout=float(timeout), project=project, throughput=throughput,
                      throughput_bytes=throughput_bytes,
                      throughput_seconds=float(throughput_seconds) if throughput_seconds else float(timeout),
                      on_event=on_event, endpoint=endpoint)
    started = time.perf_counter()
    probes: List[Probe] = []
    collector_was_on = gc.isenabled()
    gc.disable()  # see _drive: a full collection would stop the loop for tens of ms while answers arrive
    try:
        for i, mirror in enumerate(mirrors):
            transport = netpolicy.async_transport(plan=proxy_plan, ca_bundle=ca_bundle, family=family, connections=2)
            client = netpolicy.async_client(timeout=float(timeout) + 1.0, transport=transport)
            probe = Probe(i, mirror, options, client, transport=transport)
            probe.proxy = probe.result.proxy = proxy_plan.for_url(probe.url) if probe.url else None
            probes.append(probe)
            refusal = conda.no_conda() if not probe.url else netpolicy.family_refusal(probe.url, family)
            if refusal is not None:
                probe.fail(refusal)
        await _drive(probes, options)
    finally:
        try:
            await asyncio.gather(*(p.client.aclose() for p in probes), return_exceptions=True)
        finally:  # also when cancelled again while the clients close
            if collector_was_on:
                gc.enable()
    results = [p.finish() for p in probes]
    proxy_info = proxy_plan.describe([p.url for p in probes if p.url])
    proxy_info["error"] = _proxy_error(results)
    reference = compute_lag(results, max_lag, allow_stale=allow_stale)
    ranked_by = RANK_THROUGHPUT if throughput else RANK_LATENCY
    ordered = rank(results, ranked_by)
    fastest = ordered[0].name if ordered and ordered[0].rank == 1 else None
    return BenchReport(results=ordered, fastest=fastest, package=project, samples=samples, timeout=float(timeout),
                       ranked_by=ranked_by, max_lag=max_lag, reference=reference,
                       elapsed_ms=(time.perf_counter() - started) * 1000, proxy=proxy_info, family=family,
                       endpoint=endpoint, allow_stale=allow_stale)


async def _drive(probes: Sequence[Probe], options: Options) -> None:
    """The rounds of the module docstring.

    Python's cyclic garbage collector is off meanwhile (:func:`bench_async`): at 200 mirrors a
    full collection took 30-40 ms, twice a run, and the samples it fell into measured that too.
    Most of what a bench allocates is freed by reference counting; the cycles (those of closed
    connections, about 70 objects a mirror, and tracebacks of failed requests) wait for the
    collector until the bench ends, bounded by the number of mirrors and requests.
    """
    # the mirrors that sample on their own: those that cannot win, and those a round left behind
    alone: List["asyncio.Task[None]"] = []

    async def round_of(waves: Sequence[Sequence[Probe]], number: Optional[int], wait: float) -> List[Probe]:
        tasks: Dict["asyncio.Task[None]", Probe] = {}
        launched: List["asyncio.Future[None]"] = []
        for position, wave in enumerate(waves):
            if position:  # the wave before is on the wire (or done with): send this one
                await _sent(launched, SEND_WAIT)
            launched = []
            for probe in wave:
                step = probe.guarded(probe.warm_up) if number is None else probe.guarded(probe.sample, number)
                tasks[_launch(probe, step, launched)] = probe
        if not tasks:
            return []
        _done, pending = await asyncio.wait(tasks, timeout=wait)
        for task in pending:
            probe = tasks[task]
            alone.append(asyncio.ensure_future(_after(task, probe, number, options.samples)))
        return [p for t, p in tasks.items() if t not in pending and not p.failed]

    # warm-ups open connections, which may take round trips: they all start at once
    members = await round_of([[p for p in probes if not p.failed]], None, min(WARM_UP_WAIT, options.timeout + 0.5))
    # the mirrors that cannot win take their samples alone, one after the other; they start
    # slowest first, a few at a time (requests started together go out together, once all are
    # prepared: the slowest would wait for every other to be ready)
    contenders = _contenders(members)
    chosen = {id(p) for p in contenders}
    others = sorted((p for p in members if id(p) not in chosen), key=_speed, reverse=True)
    for start in range(0, len(others), SEND_WAVE):
        launched: List["asyncio.Future[None]"] = []
        for probe in others[start:start + SEND_WAVE]:
            alone.append(_launch(probe, _after(None, probe, 0, options.samples), launched))
        await _sent(launched, SEND_WAIT)
    # the contenders in rounds
    members = contenders
    for number in range(1, options.samples + 1):
        members = await round_of(sending_waves(members), number, min(ROUND_WAIT, options.timeout + 0.5))
    if alone:
        await asyncio.gather(*alone)
    if options.throughput:
        await asyncio.gather(*(p.guarded(p.download) for p in probes if not p.failed))


def _launch(probe: Probe, step: Any, launched: List["asyncio.Future[None]"]) -> "asyncio.Task[None]":
    """Start ``step`` of ``probe``; add to ``launched`` a future settled once its request is on the wire."""
    sent: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()
    probe.on_sent = functools.partial(_settle, sent)
    task = asyncio.ensure_future(step)
    task.add_done_callback(functools.partial(_settle_after, sent))
    launched.append(sent)
    return task


def _settle(future: "asyncio.Future[None]") -> None:
    if not future.done():
        future.set_result(None)


def _settle_after(future: "asyncio.Future[None]", _task: "asyncio.Future[None]") -> None:
    _settle(future)


async def _sent(futures: Sequence["asyncio.Future[None]"], timeout: float) -> None:
    """Until every one of ``futures`` is settled (its request on the wire, or its step over), or ``timeout``."""
    waiting = [f for f in futures if not f.done()]
    if waiting:
        await asyncio.wait(waiting, timeout=timeout)


def _speed(probe: Probe) -> float:
    """The best sample so far, else the warm-up's answer timed at the transport, else its wall time (ms)."""
    samples = probe.result.samples_ms
    if samples:
        return min(samples)
    return probe.first_answer_ms if probe.first_answer_ms is not None else (probe.result.warmup_ms or 0.0)


def _contenders(members: Sequence[Probe]) -> List[Probe]:
    """The mirrors at most :data:`CONTENDER_FACTOR` times as slow as the fastest (see :func:`_speed`)."""
    if not members:
        return []
    limit = min(_speed(p) for p in members) * CONTENDER_FACTOR
    return [p for p in members if _speed(p) <= limit]


def sending_waves(members: Sequence[Probe]) -> List[List[Probe]]:
    """The waves a sample round sends its requests in, each once the wave before is on the wire.

    Starting a request takes the client a fraction of a millisecond of the loop's time: at 200
    mirrors, tens of milliseconds for a round. Requests started together go out nearly together,
    once all have been prepared; so they are started in waves, by speed (the best sample so far,
    else the warm-up's answer, timed at the transport):

    1. the slower half of the mirrors that cannot be contenders, slowest first: the slowest
       answer ends the round, and must not wait for every other request to be sent;
    2. the contenders, at most :data:`CONTENDER_FACTOR` times as slow as the fastest, fastest
       first: their answers decide the winner, and come back to a loop that is done sending
       and not yet busy with the others' answers (those take longer by their own definition);
    3. the others, slowest first.
    """
    ordered = sorted(members, key=lambda p: (_speed(p), p.index))
    contenders = _contenders(ordered)
    others = ordered[len(contenders):][::-1]  # slowest first
    slower = (len(others) + 1) // 2
    return [wave for wave in (others[:slower], contenders, others[slower:]) if wave]


async def _after(task: Optional["asyncio.Task[None]"], probe: Probe, number: Optional[int], samples: int) -> None:
    """A mirror on its own: finish its step ``task`` (sample ``number``), then take the others one by one."""
    if task is not None:
        await task
    for later in range(1 if number is None else number + 1, samples + 1):
        await probe.guarded(probe.sample, later)


def _proxy_error(results: Sequence[ProbeResult]) -> Optional[str]:
    """The proxy's failure, once, when every mirror sent through that proxy failed because of it."""
    errors = []
    for proxy in sorted({r.proxy for r in results if r.proxy}):
        group = [r for r in results if r.proxy == proxy]
        if all(r.proxy_failed for r in group):
            errors.append(group[0].error or _("the proxy failed"))
    return "; ".join(errors) or None


def check_arguments(*, samples: int, timeout: float, package: str, max_lag: Optional[int] = None,
                    throughput_bytes: int = DEFAULT_THROUGHPUT_BYTES, throughput_seconds: Optional[float] = None,
                    family: Optional[int] = None) -> None:
    if not isinstance(samples, int) or not 1 <= samples <= MAX_SAMPLES:
        raise UsageError(_("--samples must be from 1 to {max}, not {value!r}").format(max=MAX_SAMPLES, value=samples),
                         hint=_("for example --samples 5"))
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
        raise UsageError(_("--timeout must be a number of seconds above 0 and at most {max:g}, not {value!r}").format(
            max=MAX_TIMEOUT, value=timeout), hint=_("for example --timeout 3"))
    if not _PACKAGE_RE.match(package or ""):
        raise UsageError(_("--package {value!r} is not a valid project name").format(value=package),
                         hint=_("for example --package pip"))
    if max_lag is not None and max_lag < 0:
        raise UsageError(_("--max-lag must be 0 or more, not {value!r}").format(value=max_lag),
                         hint=_("for example --max-lag 100"))
    if throughput_bytes < 1:
        raise UsageError(_("the throughput byte limit must be positive"))
    if throughput_seconds is not None and not throughput_seconds > 0:
        raise UsageError(_("the throughput time limit must be positive"))
    if family not in (None, 4, 6):
        raise UsageError(_("the address family must be 4 or 6, not {value!r}").format(value=family),
                         hint=_("-4 or -6"))


# ---------------------------------------------------------------------------
# the client's start-up, kept out of the samples


def _warm_up_imports() -> None:
    """Load httpx, and what httpcore loads lazily on its first request, before the first request."""
    import importlib
    import sys

    importlib.import_module("httpx")

    try:
        import anyio

        anyio.Event()  # imports anyio's asyncio backend (tens of milliseconds)
    except Exception:  # noqa: BLE001 - only an optimisation
        pass
    # httpcore tries `import sniffio` several times per request; recent anyio no longer
    # installs it, and a failing import searches sys.path every time. Remember the failure.
    if "sniffio" not in sys.modules:
        import importlib.util

        if importlib.util.find_spec("sniffio") is None:
            sys.modules["sniffio"] = None  # type: ignore[assignment]  # `import sniffio` -> ImportError at once


class _DaemonThreadExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs each job in a daemon thread and never waits for it at shutdown.

    asyncio resolves names in the loop's default executor, and ``asyncio.run`` waits for
    that executor when it ends: a DNS lookup that hangs would hold the bench long after its
    deadline. With this executor it is simply abandoned.
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
