"""mirrorctl bench against hostile servers: each costs its own mirror one timeout at most.

Loopback servers only. The redirect rule is checked without any packet leaving the
machine: the ``connections`` fixture records every connection attempt and refuses
(locally, before any packet) any that is not to 127.0.0.1, so a regression shows as
a recorded attempt, never as a request to a link-local address. The time bounds
below tell a hang from a finish (the old parser ran for minutes); they are not
performance thresholds.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import List, Tuple

import pytest

from bench_servers import RAW, Behaviour, LoopbackServers, simple_html, simple_json
from mirrorctl import bench as core
from mirrorctl.bench import listing as bench_parse
from mirrorctl.bench import run_bench
from mirrorctl.bench.listing import MAX_PAGE_BYTES, parse_listing
from mirrorctl.netpolicy import redirect_refusal
from mirrorctl.catalog import Mirror
from mirrorctl.errors import ExitCode, UsageError

#: a hang and a finish differ by minutes: this margin over the timeout tells them apart
MARGIN = 20.0


@pytest.fixture
def servers():
    with LoopbackServers() as pool:
        yield pool


@pytest.fixture
def connections(monkeypatch):
    """Every address a socket of this process tries to connect to; any but 127.0.0.1 is refused here.

    The name ``remote.test`` resolves to 127.0.0.1 (no DNS query): a mirror that looks remote.
    """
    attempts: List[Tuple[str, int]] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(address) -> None:
        host = address[0] if isinstance(address, tuple) else str(address)
        attempts.append((host, address[1] if isinstance(address, tuple) else 0))
        if host != "127.0.0.1":
            raise ConnectionRefusedError(f"test guard: no connection to {host}")

    def connect(self, address):
        check(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode("ascii")
        if host == "remote.test":
            host = "127.0.0.1"
        elif isinstance(host, str) and host not in ("127.0.0.1", "localhost"):
            try:
                socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host.split("%")[0])
            except OSError:
                raise socket.gaierror(socket.EAI_NONAME, f"test guard: no DNS lookup of {host}") from None
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts


def bench(servers_and_names, *, timeout: float = 3.0, samples: int = 2, **options):
    """run_bench over (name, server) pairs; the report and the wall time it took."""
    ms = [Mirror(name=name, url=server if isinstance(server, str) else server.url) for name, server in servers_and_names]
    started = time.monotonic()
    report = run_bench(ms, samples=samples, timeout=timeout, **options)
    return report, time.monotonic() - started


def results(report):
    return {r.name: r for r in report.results}


# -- pages that would stall or crash the parser ----------------------------------------------


@pytest.mark.parametrize("body", [
    b"<a x" * 250_000,  # 1 MB of unclosed anchors: the old expression backtracked for minutes
    b"<a href='" + b"x" * 1_000_000,  # an attribute that never closes
    b"<a href=x>" + b"<b" * 500_000,  # an anchor whose text never closes
], ids=["unclosed-a", "unclosed-quote", "unclosed-text"])
def test_a_page_of_unclosed_tags_costs_its_mirror_one_timeout_at_most(servers, body):
    hostile = servers.start(Behaviour(kind=RAW, body=body))
    healthy = servers.start()
    report, took = bench([("hostile", hostile), ("healthy", healthy)], timeout=3)
    assert took < 3 + MARGIN
    assert report.fastest == "healthy"
    assert results(report)["hostile"].error == "not a Simple-API page"
    assert results(report)["hostile"].status == 200


def test_the_parser_reads_hostile_html_in_one_pass():
    started = time.monotonic()
    for body in (b"<a x" * 250_000, b"<a href='" + b"x" * 1_000_000, b"<a " + b"href=\"" * 200_000):
        assert parse_listing(body, "text/html", "http://127.0.0.1/simple/pip/", "pip") is None
    assert time.monotonic() - started < MARGIN


def test_parsing_runs_inside_the_sample_deadline(servers, monkeypatch):
    async def endless(*args, **kwargs):
        while True:  # a parser that never ends, but yields to the loop as the real one does
            await asyncio.sleep(0)

    from mirrorctl.bench import probe

    monkeypatch.setattr(probe, "read_listing", endless)
    server = servers.start()
    report, took = bench([("slowparse", server)], timeout=1)
    assert took < 1 + MARGIN
    result = report.results[0]
    assert not result.ok and result.error == "timed out after 1.0 s (reading the page)"
    assert result.status == 200 and result.bytes  # what was seen before the parse is kept


def test_deeply_nested_json_fails_its_mirror_only(servers):
    depth = 200_000
    body = b'{"meta": {"api-version": "1.1"}, "files": ' + b"[" * depth + b"]" * depth + b"}"
    hostile = servers.start(Behaviour(kind=RAW, body=body, content_type="application/vnd.pypi.simple.v1+json"))
    healthy = servers.start()
    report, took = bench([("nested", hostile), ("healthy", healthy)])
    assert took < 3 + MARGIN
    assert report.fastest == "healthy"
    assert results(report)["nested"].error == "unreadable page (nested too deeply)"


def test_any_error_while_reading_a_page_fails_its_mirror_only(servers, monkeypatch):
    real = core.read_listing
    broken_url = None

    async def flaky(body, content_type, base_url, project):
        if base_url.startswith(broken_url):
            raise RecursionError("maximum recursion depth exceeded")
        return await real(body, content_type, base_url, project)

    from mirrorctl.bench import probe

    monkeypatch.setattr(probe, "read_listing", flaky)
    broken, healthy = servers.start(), servers.start()
    broken_url = broken.url
    report, _ = bench([("broken", broken), ("healthy", healthy)])
    assert report.fastest == "healthy"
    assert "RecursionError" in results(report)["broken"].error


def test_an_unexpected_failure_in_a_probe_fails_that_mirror_only(servers, monkeypatch):
    from mirrorctl.bench.probe import Probe

    real = Probe.sample

    async def sample(self, number):
        if self.mirror.name == "broken":
            raise RuntimeError("bug")
        return await real(self, number)

    monkeypatch.setattr(Probe, "sample", sample)
    report, _ = bench([("broken", servers.start()), ("healthy", servers.start())])
    assert report.fastest == "healthy"
    assert results(report)["broken"].error == "probe failed (RuntimeError: bug)"


def test_a_serial_with_thousands_of_digits_is_no_serial():
    page = simple_html("pip", ["24.0"], None).replace(b"</html>", b"</html><!--SERIAL " + b"9" * 5000 + b"-->")
    listing = parse_listing(page, "text/html", "http://127.0.0.1/simple/pip/", "pip")
    assert listing is not None and listing.serial is None and listing.versions == ["24.0"]


@pytest.mark.parametrize("oversize", ["html", "json"])
def test_a_page_larger_than_the_bound_fails_clearly(servers, oversize):
    filler = b" " * (MAX_PAGE_BYTES + 1)
    if oversize == "json":
        body, ctype = simple_json("pip", ["24.0"], 1000)[:-1] + filler + b"}", "application/vnd.pypi.simple.v1+json"
    else:
        body, ctype = simple_html("pip", ["24.0"], 1000) + filler, "text/html"
    big = servers.start(Behaviour(kind=RAW, body=body, content_type=ctype))
    healthy = servers.start()
    report, took = bench([("big", big), ("healthy", healthy)], samples=1)
    assert took < 3 + MARGIN
    assert report.fastest == "healthy"
    assert results(report)["big"].error == f"page larger than {MAX_PAGE_BYTES // 2**20} MB: not a project page"


# -- another project's page --------------------------------------------------------------------


@pytest.mark.parametrize("api", ["html", "json"])
def test_a_page_of_another_project_is_a_failure_and_never_the_freshness_reference(servers, api):
    imposter = servers.start(Behaviour(page_project="requests", serial=999_999, json=api == "json"))
    honest = servers.start(Behaviour(serial=1000, json=api == "json"))
    report, _ = bench([("imposter", imposter), ("honest", honest)], max_lag=0)
    assert report.fastest == "honest"
    assert report.reference == "honest"
    assert results(report)["honest"].lag == 0 and not results(report)["honest"].stale
    error = results(report)["imposter"].error
    assert error.startswith("not this project's page")
    assert "requests" in error


def test_a_page_listing_no_file_of_the_project_names_what_it_lists():
    listing = parse_listing(simple_html("requests", ["2.0"], 5), "text/html", "http://127.0.0.1/simple/pip/", "pip")
    assert listing is not None  # a Simple-API page...
    with pytest.raises(bench_parse.PageError, match=r"not this project's page \(no file of 'pip': it lists requests\)"):
        bench_parse.check_project(listing, "pip")  # ...but not pip's
    bench_parse.check_project(listing, "requests")
    assert bench_parse.file_of("pip-1.0-py2.7.egg", "pip") and not bench_parse.file_of("pip_tools-7.0.tar.gz", "pip")


# -- redirects ---------------------------------------------------------------------------------


@pytest.mark.parametrize("target, reason", [
    ("http://169.254.169.254/latest/meta-data", "redirect to the link-local address 169.254.169.254 refused"),
    ("http://2852039166/simple", "redirect to the link-local address 2852039166 refused"),  # 169.254.169.254
    ("http://[fe80::1]/simple", "redirect to the link-local address fe80::1 refused"),
    ("http://[::ffff:169.254.169.254]/simple", "redirect to the link-local address ::ffff:169.254.169.254 refused"),
    ("file:///etc/passwd", "redirect to a file: URL refused (only http and https)"),
    ("ftp://127.0.0.1/simple", "redirect to a ftp: URL refused (only http and https)"),
])
def test_a_refused_redirect_opens_no_connection(servers, connections, target, reason):
    hostile = servers.start(Behaviour(redirect_to=target))
    healthy = servers.start()
    report, took = bench([("hostile", hostile), ("healthy", healthy)])
    assert took < 3 + MARGIN
    assert report.fastest == "healthy"
    assert results(report)["hostile"].error == reason
    assert results(report)["hostile"].status == 301
    assert [host for host, _ in connections if host != "127.0.0.1"] == []
    assert len(hostile.requests) == 1  # asked once, never followed


def test_a_remote_mirror_may_not_redirect_to_this_machine(servers, connections):
    local = servers.start()  # what a remote mirror must not reach through a redirect
    remote = servers.start(Behaviour(redirect_to=local.url))
    remote_url = f"http://remote.test:{remote.port}/simple"  # resolves to 127.0.0.1, but only the test knows
    report, _ = bench([("remote", remote_url)])
    assert report.results[0].error == "redirect from remote.test to this machine (127.0.0.1) refused"
    assert local.request_count == 0 and local.connections == 0
    assert remote.request_count == 1


def test_a_local_mirror_may_redirect_to_this_machine(servers, connections):
    target = servers.start()
    moved = servers.start(Behaviour(redirect_to=target.url))
    report, _ = bench([("moved", moved)])
    assert report.fastest == "moved"
    assert report.results[0].final_url == f"{target.url}/pip/"


@pytest.mark.parametrize("origin, target, refused", [
    ("https://mirror.example/simple/pip/", "https://other.example/simple/pip/", False),
    ("https://mirror.example/simple/pip/", "http://127.0.0.1:3141/simple/pip/", True),
    ("https://mirror.example/simple/pip/", "http://localhost/simple/pip/", True),
    ("https://mirror.example/simple/pip/", "http://[::1]/simple/pip/", True),
    ("https://mirror.example/simple/pip/", "http://0.0.0.0/simple/pip/", True),
    ("https://mirror.example/simple/pip/", "http://127.1/simple/pip/", True),
    ("http://127.0.0.1:3141/root/pypi/+simple/pip/", "http://localhost:3141/x/", False),
    ("http://localhost:3141/simple/pip/", "http://169.254.169.254/", True),
    ("https://mirror.example/simple/pip/", "http://[fe80::1%25eth0]/", True),
    ("https://mirror.example/simple/pip/", "http://0xa9.0xfe.0xa9.0xfe/", True),
    ("https://mirror.example/simple/pip/", "javascript:alert(1)", True),
    ("http://mirror.example/simple/pip/", "http://169.253.1.1/", False),
    ("https://mirror.example/simple/pip/", "http://169.253.1.1/", True),  # from https to plain http
])
def test_redirect_policy(origin, target, refused):
    assert (redirect_refusal(origin, target) is not None) == refused


# -- bounded options ---------------------------------------------------------------------------


@pytest.fixture
def cli(run):
    import mirrorctl.cli.bench  # noqa: F401  (registers `bench`)

    return run


@pytest.mark.parametrize("args, message", [
    (["--samples", "0"], "--samples must be from 1 to 50, not 0"),
    (["--samples", "51"], "--samples must be from 1 to 50, not 51"),
    (["--timeout", "0"], "--timeout must be a number of seconds above 0 and at most 60, not 0.0"),
    (["--timeout", "61"], "--timeout must be a number of seconds above 0 and at most 60, not 61.0"),
    (["--timeout", "nan"], "--timeout must be a number of seconds above 0 and at most 60, not nan"),
    (["--timeout", "inf"], "--timeout must be a number of seconds above 0 and at most 60, not inf"),
])
def test_samples_and_timeout_are_bounded(cli, connections, args, message):
    result = cli("bench", "http://127.0.0.1:9/simple", *args)
    assert result.exit_code == ExitCode.USAGE
    assert message in result.stderr
    assert connections == []  # refused before anything is probed


def test_bounds_hold_for_the_library_too():
    with pytest.raises(UsageError):
        run_bench([], samples=core.MAX_SAMPLES + 1)
    with pytest.raises(UsageError):
        run_bench([], timeout=core.MAX_TIMEOUT + 1)
    run_bench([], samples=core.MAX_SAMPLES, timeout=core.MAX_TIMEOUT)  # the bounds themselves are fine
