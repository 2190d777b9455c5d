"""How bench takes its samples at scale: requests sent to the transport, in waves, the mirrors
that cannot win alone, the collector off meanwhile; and the page reader's fast path.

Loopback only. No assertion depends on how fast this machine is.
"""

from __future__ import annotations

import contextlib
import gc
import http.server
import threading
from types import SimpleNamespace
from typing import List

import pytest

from bench_servers import Behaviour, LoopbackServers, simple_html
from mirrorctl.bench import run_bench
from mirrorctl.bench.listing import parse_listing
from mirrorctl.bench.run import CONTENDER_FACTOR, _contenders, sending_waves
from mirrorctl.catalog import Mirror


@pytest.fixture
def servers():
    with LoopbackServers() as pool:
        yield pool


# -- a redirect that shows up only after the warm-up ---------------------------------------


class _MovesAfterFirst(http.server.BaseHTTPRequestHandler):
    """/simple/pip/ answers the page once, then 302 to /moved/pip/ (which answers the page)."""

    protocol_version = "HTTP/1.1"
    paths: List[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        self.paths.append(self.path)
        page = simple_html("pip", ("24.0",), 10)
        if self.path == "/simple/pip/" and self.paths.count(self.path) > 1:
            self.send_response(302)
            self.send_header("Location", "/moved/pip/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(handler):
    """``handler`` served on 127.0.0.1 in a thread; yields the index URL (``.../simple``)."""
    handler.paths = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()
        server.server_close()


def test_a_redirect_that_appears_on_a_sample_is_followed_by_the_policy():
    with serving(_MovesAfterFirst) as url:
        report = run_bench([Mirror("moving", url)], samples=3, timeout=5)
    result = report.results[0]
    assert result.ok, result.error
    assert len(result.samples_ms) == 3
    # the warm-up; the first sample's own request meets the 302 and is sent again the policy's
    # way, as are the others from then on: the page (302), then the target
    assert _MovesAfterFirst.paths == ["/simple/pip/", "/simple/pip/"] + ["/simple/pip/", "/moved/pip/"] * 3


def test_a_sample_redirect_to_link_local_is_refused_like_any_other():
    """The fast path hands redirects to the policy: a sample redirected off the machine fails."""
    class ToMetadata(_MovesAfterFirst):
        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/simple/pip/" and self.paths.count(self.path) >= 1:
                self.paths.append(self.path)
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            super().do_GET()

    with serving(ToMetadata) as url:
        report = run_bench([Mirror("moving", url)], samples=2, timeout=5)
    result = report.results[0]
    assert not result.ok
    assert "169.254.169.254" in result.error and "sample 1" in result.error


class _BadGzipAfterFirst(_MovesAfterFirst):
    """The page once, then answers that say gzip and are not (a node that breaks compression)."""

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/simple/pip/" and self.paths.count(self.path) >= 1:
            self.paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")
            return
        super().do_GET()


def test_a_sample_whose_answer_cannot_be_decoded_fails_the_mirror():
    """A sample's answer is decoded as pip would decode it: a mirror whose answers are corrupt
    after the first must not win."""
    with serving(_BadGzipAfterFirst) as url:
        report = run_bench([Mirror("broken", url)], samples=3, timeout=5)
    result = report.results[0]
    assert not result.ok and "sample 1" in result.error, result.error


# -- who is a contender, and the waves of a round -------------------------------------------


def _probe(index: int, speed: float, samples: tuple = ()) -> SimpleNamespace:
    return SimpleNamespace(index=index, first_answer_ms=speed, result=SimpleNamespace(samples_ms=list(samples),
                                                                                        warmup_ms=speed * 2))


def test_contenders_are_the_mirrors_close_to_the_fastest():
    probes = [_probe(i, speed) for i, speed in enumerate([90.0, 50.0, 74.0, 76.0, 150.0])]
    chosen = _contenders(probes)
    assert CONTENDER_FACTOR == 1.5
    assert sorted(p.first_answer_ms for p in chosen) == [50.0, 74.0]
    # a sample, once taken, is the better measure
    probes[4].result.samples_ms = [40.0]
    assert [p.index for p in _contenders(probes)] == [1, 4]  # 50 ms is within 1.5 x 40 ms


def test_sending_waves_put_the_slowest_first_then_the_contenders_fastest_first():
    speeds = [100.0, 50.0, 150.0, 60.0, 120.0, 80.0, 140.0]
    waves = sending_waves([_probe(i, s) for i, s in enumerate(speeds)])
    assert [[p.first_answer_ms for p in wave] for wave in waves] == [
        [150.0, 140.0, 120.0],  # the slower half (rounded up) of those that are not contenders, slowest first
        [50.0, 60.0],  # the contenders (up to 75 ms), fastest first
        [100.0, 80.0],  # the rest, slowest first
    ]
    assert sending_waves([]) == []
    assert [len(w) for w in sending_waves([_probe(0, 10.0)])] == [1]


def test_every_mirror_gets_all_its_samples_contender_or_not(servers):
    fast = servers.start(Behaviour(delay=0.0))
    slow = [servers.start(Behaviour(delay=0.15)) for _ in range(3)]
    report = run_bench([Mirror("fast", fast.url)] + [Mirror(f"slow{i}", s.url) for i, s in enumerate(slow)],
                       samples=4, timeout=5)
    assert report.fastest == "fast"
    for result in report.results:
        assert result.ok and len(result.samples_ms) == 4
    for server in [fast] + slow:
        assert server.request_count == 5  # the warm-up and 4 samples


# -- the cycle collector is off during a bench, and as it was after ---------------------------


def test_the_collector_is_back_as_it_was(servers):
    server = servers.start(Behaviour())
    assert gc.isenabled()
    run_bench([Mirror("a", server.url)], samples=1, timeout=5)
    assert gc.isenabled()
    gc.disable()
    try:
        run_bench([Mirror("a", server.url)], samples=1, timeout=5)
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


def test_the_collector_is_off_while_the_mirrors_are_probed(servers, monkeypatch):
    from mirrorctl.bench import probe

    seen = []
    real_sample = probe.Probe.sample

    async def sample(self, number):
        seen.append(gc.isenabled())
        return await real_sample(self, number)

    monkeypatch.setattr(probe.Probe, "sample", sample)
    run_bench([Mirror("a", servers.start(Behaviour()).url)], samples=2, timeout=5)
    assert seen == [False, False]


def test_the_collector_is_back_after_the_bench_is_cancelled_twice():
    """A caller's own timeout, then a second cancellation while the clients close: the collector
    still comes back on."""
    import asyncio

    from mirrorctl.bench.run import bench_async

    class Hangs(_MovesAfterFirst):
        def do_GET(self) -> None:  # noqa: N802
            threading.Event().wait(10)

    async def cancel_twice(url: str) -> None:
        task = asyncio.ensure_future(bench_async([Mirror("hangs", url)], samples=3, timeout=5, proxy=""))
        await asyncio.sleep(0.5)
        task.cancel()
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert gc.isenabled()
    try:
        with serving(Hangs) as url:
            asyncio.run(cancel_twice(url))
            assert gc.isenabled()
    finally:
        gc.enable()


# -- the page reader: stretches of the page, the usual href form read directly -----------------


def test_a_big_page_read_in_stretches_finds_every_file():
    versions = [f"1.{i}" for i in range(3000)]  # ~500 KB: several 64 KB stretches, anchors across their ends
    page = simple_html("pip", versions, 42)
    assert len(page) > 5 * 64 * 1024
    listing = parse_listing(page, "text/html", "https://m.example/simple/pip/", "pip")
    assert listing is not None
    assert len(listing.filenames) == 6000
    assert listing.versions == versions
    assert listing.serial == 42


@pytest.mark.parametrize("anchor", [
    '<a href="../../f/pip-1.0.tar.gz#sha256=00">x</a>',
    "<a href='../../f/pip-1.0.tar.gz'>x</a>",
    '<a HREF="../../f/pip-1.0.tar.gz">x</a>',
    '<a data-requires-python="&gt;=3" href="../../f/pip-1.0.tar.gz">x</a>',
    '<a href = "../../f/pip-1.0.tar.gz">x</a>',
    '<a href=../../f/pip-1.0.tar.gz>x</a>',
    '<a href="../../f/pip%2D1.0.tar.gz?x=1">x</a>',
    '<a href="../../f/">pip-1.0.tar.gz</a>',
])
def test_every_href_form_gives_the_same_file(anchor):
    page = f"<html><body>{anchor}</body></html>".encode()
    listing = parse_listing(page, "text/html", "https://m.example/simple/pip/", "pip")
    assert listing is not None and listing.filenames == ["pip-1.0.tar.gz"]
    assert listing.versions == ["1.0"]


def test_an_unclosed_href_quote_falls_back_to_the_general_reading():
    page = b'<a href="../../f/pip-1.0.tar.gz >x</a>'
    listing = parse_listing(page, "text/html", "https://m.example/simple/pip/", "pip")
    # no closing quote: _HREF_RE reads the value unquoted, up to the space, quote included
    assert listing is not None and listing.links == [("pip-1.0.tar.gz", '"../../f/pip-1.0.tar.gz')]


# -- the live view draws little: rich draws it in a thread that holds the GIL ----------------------


def test_the_live_view_draws_a_screenful_of_lines_a_few_times_a_second():
    import io

    from rich.console import Console

    from mirrorctl.render.bench import LIVE_REFRESH_PER_SECOND, LiveBench

    console = Console(file=io.StringIO(), force_terminal=True, width=100, height=30)
    live = LiveBench([Mirror(f"mirror-{i}", f"https://m{i}.example/simple") for i in range(200)], 5, console)
    assert live.progress.live.refresh_per_second == LIVE_REFRESH_PER_SECOND <= 4
    shown = [task for task in live.progress.tasks if task.visible]
    assert len(shown) == 29  # what 30 lines show (the terminal would crop the rest anyway)
    with live:
        live("done", SimpleNamespace(index=150, ok=True, median_ms=12.0))  # a hidden line: no error
        live.progress.refresh()
    drawn = console.file.getvalue()
    assert "mirror-28" in drawn and "mirror-29" not in drawn
