"""The probe of one mirror: a warm-up request, then timed samples, then (``--throughput``) a download.

Each mirror has a client of its own (its own connection pool: httpcore looks at every
connection of a pool on every request, so one shared pool costs N² at N mirrors).

* **Warm-up** (untimed): the first request opens the connection (DNS, TCP, TLS: their times
  are recorded) and fetches the page, which is parsed then, under the same deadline: the page
  must be a Simple-API page listing the project's files. Its serial and versions say how fresh
  the mirror is.
* **Samples**: ``samples`` more requests on the kept-alive connection. Each is timed at the
  transport, from the request sent to the response headers received (httpcore's trace
  events): the time the network and the server took, not the client. The body is read (so
  the connection can be used again) but neither it nor any parsing is inside the sample.
  The request, built once by the client after the warm-up, goes to the client's transport
  directly (:meth:`Probe._send_sample`): the client's per-request work would keep the loop
  busy at 200 mirrors. A redirect is handed to the HTTP policy, as the warm-up's are.

The driver (:mod:`mirrorctl.bench.run`) runs these steps for every mirror, so that no sample
is taken while the client is busy starting other mirrors.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple, Union

from mirrorctl.bench.errors import ProbeFailed, http_status_error, timed_out, too_large
from mirrorctl.bench.listing import MAX_PAGE_BYTES, Listing, PageError, int_or_none, newest_version, pick_file, read_listing
from mirrorctl.bench.report import ProbeProgress, ProbeResult
from mirrorctl.i18n import _
from mirrorctl.netpolicy import RedirectRefused, describe_error, scrub, send_following, url_host

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from mirrorctl.bench.report import EventCallback
    from mirrorctl.catalog import Mirror

#: pip's own Accept header for project pages (PEP 691 content negotiation).
PIP_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
#: pip asks caches in front of the index for a fresh page too.
PAGE_HEADERS = {"Accept": PIP_ACCEPT, "Cache-Control": "max-age=0"}


@dataclass
class Options:
    samples: int
    timeout: float
    project: str
    throughput: bool
    throughput_bytes: int
    throughput_seconds: float
    on_event: Optional["EventCallback"]
    endpoint: str = "pypi"  # or "conda": the start of a channel's repodata.json (bench/conda.py)


class Trace:
    """httpcore trace events of one request: connect/TLS spans, network time, where it got stuck."""

    def __init__(self) -> None:
        self.times: Dict[str, float] = {}
        self.last: Optional[str] = None
        self.reading_body = False
        self.parsing = False
        self.network = 0.0  # seconds from request sent to headers received, summed over redirects
        self.answers = 0
        self._sent: Optional[float] = None
        self.on_sent: Optional[Callable[[], None]] = None  # called once the request is on the wire

    def restart(self) -> None:
        """Forget the answers timed so far (a request sent again another way)."""
        self.network, self.answers, self._sent = 0.0, 0, None

    async def __call__(self, name: str, info: Dict[str, Any]) -> None:
        now = time.perf_counter()
        if name.endswith("send_request_headers.started"):
            # the request is written right after this event, before any await (anyio writes first,
            # then yields): later events ("...headers.complete") come after the loop ran others
            self._sent = now
        elif name.endswith("receive_response_headers.complete") and self._sent is not None:
            self.network += now - self._sent
            self.answers += 1
            self._sent = None
        elif name.endswith("send_request_body.complete") and self.on_sent is not None:
            self.on_sent()
        self.times.setdefault(name, now)
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
            return _("reading the page")
        if self.reading_body or "receive_response_body" in last or last.endswith("receive_response_headers.complete"):
            return _("the answer came too slowly")
        if "receive_response_headers" in last:
            return _("connected, but no answer")
        if "send_request" in last:
            return _("sending the request")
        if "start_tls" in last:
            return _("during the TLS handshake")
        return _("connecting")


@dataclass
class Page:
    status: int
    body: bytes
    headers: Any
    url: str
    wire_bytes: int
    redirected: bool
    listing: Optional[Listing] = None  # when asked to parse it
    unusable: Optional[str] = None  # why the page could not be used, when parsed


def project_url(index_url: str, project: str) -> str:
    """``<index>/<project>/``: trailing slash included, any query kept."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(index_url)
    path = parts.path.rstrip("/") + "/" + project + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


class Probe:
    def __init__(self, index: int, mirror: "Mirror", options: Options, client: "httpx.AsyncClient",
                 proxy: Optional[str] = None, transport: Optional["httpx.AsyncBaseTransport"] = None) -> None:
        self.index = index
        self.proxy = proxy
        self.mirror = mirror
        self.options = options
        self.client = client
        #: the client's transport: samples are sent to it directly (see :meth:`_send_sample`)
        self.transport = transport
        #: the sample request, built once by the client after a warm-up that was not redirected
        self.template: Optional["httpx.Request"] = None
        self.result = ProbeResult(name=mirror.name, url=mirror.url, index=index, proxy=proxy)
        self.conda = options.endpoint == "conda"
        if self.conda:
            from mirrorctl.bench import conda

            self.url = conda.probe_url(mirror) or ""
            if mirror.conda is not None:
                self.result.url = mirror.conda.url  # what the results show: the conda mirror
        else:
            self.url = project_url(mirror.url, options.project)
        self.listing: Optional[Listing] = None
        #: set by the round for the next sample: called once its request is on the wire
        self.on_sent: Optional[Callable[[], None]] = None
        #: the warm-up's answer timed at the transport (request sent to first byte), in ms
        self.first_answer_ms: Optional[float] = None
        self.started = time.perf_counter()
        self.failed = False

    def emit(self, kind: str, payload: Union[ProbeResult, ProbeProgress]) -> None:
        if self.options.on_event is not None:
            self.options.on_event(kind, payload)

    def progress(self, phase: str, last_ms: Optional[float] = None) -> ProbeProgress:
        return ProbeProgress(name=self.mirror.name, url=self.mirror.url, index=self.index, phase=phase,
                             done=len(self.result.samples_ms), samples=self.options.samples, last_ms=last_ms)

    def fail(self, error: str) -> None:
        self.failed = True
        self.result.ok = False
        self.result.median_ms = self.result.p90_ms = None
        self.result.error = error

    async def guarded(self, step: Any, *args: Any) -> None:
        """Run one step; a mirror that breaks the probe fails alone, the bench goes on."""
        if self.failed:
            return
        try:
            error = await step(*args)
        except Exception as exc:  # noqa: BLE001
            error = _("probe failed ({reason})").format(reason=f"{type(exc).__name__}: {scrub(str(exc))[:200]}")
        if error is not None:
            self.fail(error)

    async def warm_up(self) -> Optional[str]:
        """The untimed first request: connection set-up, the page read and parsed."""
        self.emit("start", self.progress("start"))
        result = self.result
        trace = Trace()
        t0 = time.perf_counter()
        try:
            page = await within(self._get_page(trace, parse=True), self.options.timeout)
        except Exception as exc:  # noqa: BLE001 - any failure is a result, never a crash
            return self._failure(exc, trace)
        finally:
            result.connect_ms = trace.span_ms("connect_tcp")
            result.tls_ms = trace.span_ms("start_tls")
        result.warmup_ms = (time.perf_counter() - t0) * 1000
        if trace.answers:
            self.first_answer_ms = trace.network * 1000
        result.status = page.status
        if page.redirected:
            result.final_url = page.url
        if not 200 <= page.status < 300:
            return self._status_error(page.status)
        result.bytes = page.wire_bytes
        if self.transport is not None and not page.redirected:
            self.template = _sample_request(self.client, self.url, self._headers()[0])
        if self.conda:
            result.api = "repodata"
            return page.unusable
        listing = page.listing
        if listing is None:
            return page.unusable or _("not a Simple-API page")
        header_serial = int_or_none(page.headers.get("x-pypi-last-serial"))
        result.api = listing.api
        result.serial = header_serial if header_serial is not None else listing.serial
        result.versions = listing.versions
        result.newest_version = newest_version(listing.versions)
        self.listing = listing
        return None

    async def sample(self, number: int) -> Optional[str]:
        """Take sample ``number`` (1-based); an error message if the mirror failed."""
        result = self.result
        trace = Trace()
        trace.on_sent, self.on_sent = self.on_sent, None
        t0 = time.perf_counter()
        try:
            status = await within(self._sample_status(trace), self.options.timeout)
        except Exception as exc:  # noqa: BLE001
            return self._on_sample(self._failure(exc, trace), number)
        result.status = status
        if not 200 <= status < 300:
            return self._on_sample(self._status_error(status), number)
        # the network's time; the wall time only if the transport said nothing (it always does over httpcore)
        elapsed = trace.network if trace.answers else time.perf_counter() - t0
        result.samples_ms.append(elapsed * 1000)
        self.emit("sample", self.progress("sample", result.samples_ms[-1]))
        return None

    def _status_error(self, status: int) -> str:
        if self.conda and status == 404:
            return _("HTTP 404 (no repodata.json at {url})").format(url=scrub(self.url))
        return http_status_error(status, self.options.project)

    def _on_sample(self, error: str, number: int) -> str:
        samples = self.options.samples
        return _("{error} (on sample {number} of {samples})").format(error=error, number=number, samples=samples)

    def _failure(self, exc: BaseException, trace: Trace) -> str:
        if isinstance(exc, (asyncio.TimeoutError, _timeout_errors())):
            self.result.timed_out = True
            return self._blame_proxy(exc, trace, timed_out=True) or timed_out(self.options.timeout, trace.phase())
        if isinstance(exc, (ProbeFailed, RedirectRefused, PageError)):
            if getattr(exc, "status", None) is not None:
                self.result.status = exc.status  # type: ignore[union-attr]
            return str(exc)
        return self._blame_proxy(exc, trace) or describe_error(exc, host=url_host(self.url))

    def finish(self) -> ProbeResult:
        """Close the result: ok when every sample came back; its median and p90."""
        from mirrorctl.bench.rank import median, percentile

        result = self.result
        if not self.failed and len(result.samples_ms) == self.options.samples:
            result.ok = True
            result.median_ms = median(result.samples_ms)
            result.p90_ms = percentile(result.samples_ms, 90)
        result.elapsed_ms = (time.perf_counter() - self.started) * 1000
        self.emit("done", result)
        return result

    def _blame_proxy(self, exc: BaseException, trace: Trace, *, timed_out: bool = False) -> Optional[str]:
        """The proxy's own failure (refused, unreachable, authentication), or None."""
        if not self.proxy:
            return None
        from mirrorctl.bench.errors import seconds
        from mirrorctl.proxy import failure

        message = failure(exc, self.proxy, phase=trace.step(),
                          timeout_text=seconds(self.options.timeout) if timed_out else None)
        if message is not None:
            self.result.proxy_failed = True
        return message

    def _headers(self) -> Tuple[Dict[str, str], int]:
        """The request's headers and the cap on its answer's size."""
        if self.conda:
            from mirrorctl.bench import conda

            return conda.HEADERS, conda.MAX_BYTES
        return PAGE_HEADERS, MAX_PAGE_BYTES

    async def _sample_status(self, trace: Trace) -> int:
        """One sample's request, its answer read and dropped; the status."""
        if self.template is not None:
            status = await self._send_sample(trace)
            if status is not None:
                return status
            # redirected after all: sent again the policy's way, every hop timed; and from now on
            self.template = None
            trace.restart()
        page = await self._get_page(trace)
        return page.status

    async def _send_sample(self, trace: Trace) -> Optional[int]:
        """The sample request sent to the transport directly; None if the answer is a redirect.

        The same request as the client would send (built by it once, after the warm-up), without
        the client's per-request work: merging headers and cookies, reading cookies back, auth
        and redirect bookkeeping. At 200 mirrors that work kept the loop busy while answers came.
        """
        template = self.template
        assert template is not None and self.transport is not None
        request = _request_type()("GET", template.url, headers=template.headers,
                                  extensions={**template.extensions, "trace": trace})
        response = await self.transport.handle_async_request(request)
        try:
            if response.has_redirect_location:
                return None
            if 200 <= response.status_code < 300:
                trace.reading_body = True
                # decoded as the warm-up's page was (and as the tools decode it): a mirror whose
                # answers turn corrupt after the first fails, rather than wins
                await self._read_body(response, keep=False)
        finally:
            await response.aclose()
        return response.status_code

    async def _read_body(self, response, *, keep: bool) -> bytes:
        """The answer's body, decoded, up to the cap (kept only if ``keep``): a page over it
        fails the mirror; a conda probe stops there (the start of the file is all it needs)."""
        cap = self._headers()[1]
        chunks = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if keep:
                chunks.append(chunk)
            if size > cap:
                if not self.conda:
                    raise ProbeFailed(too_large())
                break
        return b"".join(chunks)

    async def _get_page(self, trace: Trace, *, parse: bool = False) -> Page:
        """GET the project page (redirects as the HTTP policy allows); parse it if asked.

        Runs under the request's deadline, parse included: the parser yields to the loop.
        """
        headers, cap = self._headers()
        request = self.client.build_request("GET", self.url, headers=headers, extensions={"trace": trace})
        response, redirected = await send_following(self.client, request, origin=self.url)
        try:
            if not 200 <= response.status_code < 300:
                return Page(response.status_code, b"", response.headers, str(response.url), 0, redirected)
            declared = int_or_none(response.headers.get("content-length"))
            if declared is not None and declared > cap and not self.conda:
                raise ProbeFailed(too_large())
            trace.reading_body = True
            body = await self._read_body(response, keep=True)
        finally:
            await response.aclose()
        page = Page(response.status_code, body, response.headers, str(response.url),
                    response.num_bytes_downloaded, redirected)
        if parse and self.conda:
            from mirrorctl.bench import conda

            page.unusable = conda.check(page.body)
        elif parse:
            trace.parsing = True
            self.result.status, self.result.bytes = page.status, page.wire_bytes  # known even if parsing times out
            try:
                page.listing = await read_listing(page.body, page.headers.get("content-type", ""), page.url,
                                                  self.options.project)
            except PageError as exc:
                page.unusable = str(exc)
        return page

    async def download(self) -> Optional[str]:
        """``--throughput``: read one file linked from the page, bounded in bytes and time."""
        self.emit("download", self.progress("download"))
        error = await self._download()
        return None if error is None else _("download failed: {error}").format(error=error)

    async def _download(self) -> Optional[str]:
        files = self.listing.files if self.listing is not None else []  # resolved only now
        chosen = pick_file(files, self.result.versions, self.options.project)
        if chosen is None:
            return _("the probe page links no file")
        filename, url = chosen
        result = self.result
        result.throughput_url = url
        options = self.options
        trace = Trace()
        state = {"bytes": 0}
        t0 = time.perf_counter()

        async def read() -> None:
            request = self.client.build_request("GET", url, extensions={"trace": trace})
            response, _redirected = await asyncio.wait_for(send_following(self.client, request, origin=self.url),
                                                           options.timeout)
            try:
                if not 200 <= response.status_code < 300:
                    raise ProbeFailed(_("HTTP {status} for {file}").format(status=response.status_code, file=filename))
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
                return timed_out(options.timeout, trace.phase())
            # the time bound was reached while reading: what came so far is the measure
        except (ProbeFailed, RedirectRefused) as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001
            return describe_error(exc, host=url_host(url))
        elapsed = time.perf_counter() - t0
        if state["bytes"] == 0:
            return _("{file} is empty").format(file=filename)
        result.throughput_bytes = state["bytes"]
        result.throughput_mbps = state["bytes"] / 1e6 / max(elapsed, 1e-6)
        return None


async def within(awaitable: Any, seconds: float) -> Any:
    """``await awaitable``, cancelled after ``seconds`` (asyncio.TimeoutError then).

    ``asyncio.timeout`` where there is one (Python 3.11+): ``wait_for`` there makes a task
    per call, one per sample of every mirror.
    """
    if _TIMEOUT is None:
        return await asyncio.wait_for(awaitable, seconds)
    async with _TIMEOUT(seconds):
        return await awaitable


_TIMEOUT = getattr(asyncio, "timeout", None)


def _sample_request(client: "httpx.AsyncClient", url: str, headers: Dict[str, str]) -> "httpx.Request":
    """The request each sample sends to the transport: what the client would send for ``url``.

    The client's headers and cookies come from ``build_request``; credentials in the URL are
    turned into an ``Authorization`` header here, as the client does when it sends.
    """
    import httpx

    request = client.build_request("GET", url, headers=headers)
    if request.url.username or request.url.password:
        next(httpx.BasicAuth(request.url.username, request.url.password).sync_auth_flow(request))
    return request


def _request_type() -> Any:
    import httpx

    return httpx.Request


def _timeout_errors() -> type:
    import httpx

    return httpx.TimeoutException
