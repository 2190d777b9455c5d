"""mirrorctl bench: probes against loopback indexes only (127.0.0.1 and a name under .invalid).

No assertion here depends on how fast this machine is: the tests check behaviour
(ordering, reasons, request counts, which mirror may win), never durations.
Latencies injected into the servers are far apart so that their order survives
a noisy machine.
"""

from __future__ import annotations

import io
import json
from typing import List, Tuple

import pytest

from bench_servers import (BLACKHOLE, CLOSE, DRIP, NOT_SIMPLE, REDIRECT_LOOP, Behaviour, IndexServer, LoopbackServers,
                           free_port, self_signed_cert, server_ssl_context, simple_html)
from mirrorctl import bench as core
from mirrorctl.bench import (PIP_ACCEPT, BenchReport, ProbeProgress, ProbeResult, parse_listing, pick_file, run_bench,
                             select_mirrors, version_from_filename, version_key)
from mirrorctl.catalog import Catalog, Mirror, parse_catalog
from mirrorctl.errors import ExitCode, NoHealthyMirrorError, UsageError

DNS_FAIL_URL = "https://mirror.invalid/simple"


@pytest.fixture
def servers():
    with LoopbackServers() as pool:
        yield pool


def mirrors(*pairs: Tuple[str, object]) -> List[Mirror]:
    out = []
    for name, target in pairs:
        url = target.url if isinstance(target, IndexServer) else str(target)
        out.append(Mirror(name=name, url=url))
    return out


def by_name(report: BenchReport) -> dict:
    return {r.name: r for r in report.results}


# -- ranking ------------------------------------------------------------------------


def test_ranks_healthy_mirrors_by_median_latency(servers):
    slow = servers.start(Behaviour(delay=0.12))
    fast = servers.start(Behaviour(delay=0.0))
    middle = servers.start(Behaviour(delay=0.06))
    report = run_bench(mirrors(("slow", slow), ("fast", fast), ("middle", middle)), samples=3, timeout=5)
    assert report.fastest == "fast"
    assert [r.name for r in report.results] == ["fast", "middle", "slow"]
    assert [r.rank for r in report.results] == [1, 2, 3]
    assert report.ranked_by == "latency"
    for r in report.results:
        assert r.ok and r.error is None and r.status == 200
        assert len(r.samples_ms) == 3
        assert r.median_ms is not None and r.p90_ms is not None and r.p90_ms >= r.median_ms
        assert r.connect_ms is not None and r.tls_ms is None  # plain http: no TLS
        assert r.bytes and r.bytes > 0


def test_each_mirror_is_sampled_over_one_kept_alive_connection(servers):
    server = servers.start()
    report = run_bench(mirrors(("one", server)), samples=5, timeout=5)
    assert report.results[0].ok
    assert server.connections == 1
    assert server.request_count == 6  # one untimed warm-up request, then the 5 samples


def test_probe_is_pips_request_for_the_project_page_never_the_root(servers):
    server = servers.start()
    run_bench(mirrors(("one", server)), samples=2, timeout=5, package="Typing_Extensions")
    assert [r.path for r in server.requests] == ["/simple/typing-extensions/"] * 3  # warm-up + 2 samples
    assert all(r.headers["accept"] == PIP_ACCEPT for r in server.requests)
    assert all(r.method == "GET" for r in server.requests)


def test_index_url_with_trailing_slash_and_query_is_probed_properly(servers):
    server = servers.start()
    run_bench([Mirror("one", server.url + "/")], samples=1, timeout=5)
    assert server.requests[0].path == "/simple/pip/"
    assert core.project_url("https://h.example/simple/?x=1", "pip") == "https://h.example/simple/pip/?x=1"


def test_ties_go_to_catalogue_order():
    def result(name: str, index: int, median: float) -> ProbeResult:
        return ProbeResult(name=name, url=f"https://{name}.example/simple", ok=True, median_ms=median,
                           samples_ms=[median], index=index)

    ranked = core.rank([result("b", 0, 20.0), result("a", 1, 20.0), result("c", 2, 10.0)], "latency")
    assert [r.name for r in ranked] == ["c", "b", "a"]


def test_events_report_progress_then_the_result(servers):
    good = servers.start()
    bad = servers.start(Behaviour(status=500))
    events: List[Tuple[str, object]] = []
    run_bench(mirrors(("good", good), ("bad", bad)), samples=3, timeout=5, on_event=lambda k, p: events.append((k, p)))
    good_events = [(k, p) for k, p in events if p.name == "good"]
    assert [k for k, _ in good_events] == ["start", "sample", "sample", "sample", "done"]
    assert [p.done for k, p in good_events if k == "sample"] == [1, 2, 3]
    assert isinstance(good_events[0][1], ProbeProgress)
    assert isinstance(good_events[-1][1], ProbeResult) and good_events[-1][1].ok
    assert [k for k, p in events if p.name == "bad"] == ["start", "done"]


# -- failures are results -------------------------------------------------------------


def test_http_500_never_wins_and_is_not_sampled_again(servers):
    broken = servers.start(Behaviour(status=500))  # answers at once: faster than the healthy one
    healthy = servers.start(Behaviour(delay=0.05))
    report = run_bench(mirrors(("broken", broken), ("healthy", healthy)), samples=5, timeout=5)
    results = by_name(report)
    assert report.fastest == "healthy"
    assert not results["broken"].ok
    assert results["broken"].error == "HTTP 500"
    assert results["broken"].status == 500
    assert results["broken"].rank is None and results["broken"].median_ms is None
    assert broken.request_count == 1


def test_a_mirror_failing_a_later_sample_is_failed(servers):
    flaky = servers.start(Behaviour(fail_after=2))
    report = run_bench(mirrors(("flaky", flaky)), samples=5, timeout=5)
    result = report.results[0]
    assert not result.ok and report.fastest is None
    assert result.error == "HTTP 500 (on sample 2 of 5)"  # the warm-up and sample 1 were answered
    assert len(result.samples_ms) == 1
    assert flaky.request_count == 3


def test_page_that_is_not_a_simple_api_page_never_wins(servers):
    portal = servers.start(Behaviour(kind=NOT_SIMPLE))
    healthy = servers.start(Behaviour(delay=0.05))
    report = run_bench(mirrors(("portal", portal), ("healthy", healthy)), samples=3, timeout=5)
    assert report.fastest == "healthy"
    assert by_name(report)["portal"].error == "not a Simple-API page"
    assert by_name(report)["portal"].status == 200
    assert portal.request_count == 1


def test_404_says_the_project_is_missing(servers):
    server = servers.start(Behaviour(status=404))
    report = run_bench(mirrors(("nope", server)), samples=2, timeout=5)
    assert report.results[0].error.startswith("HTTP 404")


def test_server_that_never_answers_costs_one_request_and_one_timeout(servers):
    hole = servers.start(Behaviour(kind=BLACKHOLE))
    healthy = servers.start()
    report = run_bench(mirrors(("hole", hole), ("healthy", healthy)), samples=5, timeout=0.5)
    result = by_name(report)["hole"]
    assert not result.ok
    assert result.error == "timed out after 0.5 s (connected, but no answer)"
    assert hole.connections == 1 and hole.request_count == 1
    assert report.fastest == "healthy"


def test_slow_drip_is_cut_by_the_overall_deadline(servers):
    # one byte every 50 ms never trips a per-read timeout: only the overall deadline stops it
    drip = servers.start(Behaviour(kind=DRIP, drip_interval=0.05))
    report = run_bench(mirrors(("drip", drip)), samples=5, timeout=0.5)
    result = report.results[0]
    assert not result.ok
    assert result.error == "timed out after 0.5 s (the answer came too slowly)"
    assert result.samples_ms == []
    assert drip.request_count == 1


def test_redirect_loop(servers):
    loop = servers.start(Behaviour(kind=REDIRECT_LOOP))
    report = run_bench(mirrors(("loop", loop)), samples=3, timeout=5)
    assert report.results[0].error == "redirect loop"
    assert not report.results[0].ok


def test_a_redirect_is_followed_and_reported(servers):
    target = servers.start()
    moved = servers.start(Behaviour(redirect_to=target.url))
    report = run_bench(mirrors(("moved", moved)), samples=2, timeout=5)
    result = report.results[0]
    assert result.ok
    assert result.final_url == target.url + "/pip/"


def test_dns_failure():
    report = run_bench(mirrors(("nowhere", DNS_FAIL_URL)), samples=3, timeout=5)
    assert report.results[0].error == "DNS lookup failed for mirror.invalid"
    assert report.fastest is None


def test_a_dns_lookup_that_hangs_costs_one_timeout_and_is_abandoned(monkeypatch):
    import socket
    import threading

    real = socket.getaddrinfo
    release = threading.Event()
    state = {"entered": False, "finished": False}

    def stuck(host, *args, **kwargs):
        if host in ("hang.invalid", b"hang.invalid"):  # anyio passes the IDNA-encoded bytes
            state["entered"] = True
            release.wait(60)
            state["finished"] = True
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    try:
        report = run_bench(mirrors(("hang", "http://hang.invalid/simple")), samples=3, timeout=0.3)
        # run_bench returned while the lookup was still stuck: it did not wait for the thread
        assert state["entered"] and not state["finished"]
    finally:
        release.set()
    assert report.results[0].error == "timed out after 0.3 s (connecting)"


def test_connection_refused():
    report = run_bench(mirrors(("closed", f"http://127.0.0.1:{free_port()}/simple")), samples=3, timeout=5)
    assert report.results[0].error == "connection refused"


def test_connection_closed_without_an_answer(servers):
    rude = servers.start(Behaviour(kind=CLOSE))
    report = run_bench(mirrors(("rude", rude)), samples=3, timeout=5)
    assert report.results[0].error == "the server closed the connection without answering"
    assert rude.request_count == 1


def test_every_kind_of_failure_at_once_still_names_the_healthy_winner(servers):
    pairs = [
        ("hole", servers.start(Behaviour(kind=BLACKHOLE))),
        ("drip", servers.start(Behaviour(kind=DRIP))),
        ("loop", servers.start(Behaviour(kind=REDIRECT_LOOP))),
        ("error", servers.start(Behaviour(status=503))),
        ("portal", servers.start(Behaviour(kind=NOT_SIMPLE))),
        ("dns", DNS_FAIL_URL),
        ("refused", f"http://127.0.0.1:{free_port()}/simple"),
        ("good", servers.start(Behaviour(delay=0.01))),
    ]
    report = run_bench(mirrors(*pairs), samples=3, timeout=0.5)
    assert report.fastest == "good"
    assert report.results[0].name == "good"
    failed = report.results[1:]
    assert [r.name for r in failed] == ["hole", "drip", "loop", "error", "portal", "dns", "refused"]
    assert all(not r.ok and r.error for r in failed)


def test_no_healthy_mirror_is_an_error_only_when_a_winner_is_needed(servers):
    ms = mirrors(("error", servers.start(Behaviour(status=500))), ("dns", DNS_FAIL_URL))
    report = run_bench(ms, samples=2, timeout=5)
    assert report.fastest is None and report.winner is None
    with pytest.raises(NoHealthyMirrorError) as caught:
        core.winning_mirror(report, ms)
    assert caught.value.exit_code == ExitCode.NO_HEALTHY_MIRROR
    assert "error: HTTP 500" in caught.value.message and "dns: DNS lookup failed" in caught.value.message


def test_winning_mirror_is_the_catalogue_entry(servers):
    ms = [Mirror("b", servers.start(Behaviour(delay=0.08)).url, title="B"), Mirror("a", servers.start().url, title="A")]
    report = run_bench(ms, samples=2, timeout=5)
    assert core.winning_mirror(report, ms) is ms[1]


def test_empty_selection():
    report = run_bench([], samples=2)
    assert report.results == [] and report.fastest is None


# -- freshness --------------------------------------------------------------------------


def test_serial_from_header_comment_and_json_and_lag_behind_the_freshest(servers):
    ms = mirrors(
        ("header", servers.start(Behaviour(serial=1000, serial_in="header"))),
        ("comment", servers.start(Behaviour(serial=990, serial_in="comment"))),
        ("json", servers.start(Behaviour(serial=950, serial_in="json", json=True))),
    )
    report = run_bench(ms, samples=1, timeout=5)
    results = by_name(report)
    assert {n: r.serial for n, r in results.items()} == {"header": 1000, "comment": 990, "json": 950}
    assert {n: r.lag for n, r in results.items()} == {"header": 0, "comment": 10, "json": 50}
    assert all(r.lag_unit == "serial" for r in results.values())
    assert results["json"].api == "json" and results["header"].api == "html"
    assert report.reference == "header"


def test_max_lag_keeps_a_stale_mirror_from_winning(servers):
    stale = servers.start(Behaviour(serial=900))  # the fastest, but behind
    fresh = servers.start(Behaviour(serial=1000, delay=0.08))
    report = run_bench(mirrors(("stale", stale), ("fresh", fresh)), samples=2, timeout=5, max_lag=50)
    results = by_name(report)
    assert report.fastest == "fresh"
    assert results["stale"].ok and results["stale"].stale and results["stale"].lag == 100
    assert results["stale"].rank is None
    assert [r.name for r in report.results] == ["fresh", "stale"]
    # without --max-lag the lag is reported, and speed decides
    report = run_bench(mirrors(("stale", stale), ("fresh", fresh)), samples=2, timeout=5)
    assert report.fastest == "stale" and by_name(report)["stale"].lag == 100


def test_newest_version_is_the_fallback_without_a_serial(servers):
    ms = mirrors(
        ("current", servers.start(Behaviour(serial=None, versions=("23.3", "24.0", "24.1rc1")))),
        ("behind", servers.start(Behaviour(serial=None, versions=("23.3",)))),
    )
    report = run_bench(ms, samples=1, timeout=5, max_lag=1)
    results = by_name(report)
    assert results["current"].newest_version == "24.1rc1"
    assert results["current"].lag == 0 and results["current"].lag_unit == "releases"
    assert results["behind"].lag == 2 and results["behind"].stale
    assert report.fastest == "current"


# -- throughput -------------------------------------------------------------------------


def test_throughput_downloads_one_linked_file_bounded_in_bytes(servers):
    server = servers.start(Behaviour(file_size=400_000))
    report = run_bench(mirrors(("one", server)), samples=2, timeout=5, throughput=True, throughput_bytes=100_000)
    result = report.results[0]
    assert report.ranked_by == "throughput"
    assert result.ok and result.throughput_mbps and result.throughput_mbps > 0
    assert 100_000 <= result.throughput_bytes < 400_000
    files = [r.path for r in server.requests if r.path.startswith("/files/")]
    assert files == ["/files/pip-24.0-py3-none-any.whl"]  # the newest release's pure wheel, once


def test_throughput_is_bounded_in_time(servers):
    server = servers.start(Behaviour(file_size=50_000_000, file_rate=200_000))  # would take minutes
    report = run_bench(mirrors(("slow", server)), samples=1, timeout=5, throughput=True, throughput_seconds=0.3)
    result = report.results[0]
    assert result.ok and result.throughput_bytes and result.throughput_bytes < 50_000_000


def test_throughput_ranks_by_bandwidth_not_latency(servers):
    narrow = servers.start(Behaviour(file_size=2_000_000, file_rate=100_000))  # fast page, thin pipe
    wide = servers.start(Behaviour(file_size=2_000_000, delay=0.03))
    report = run_bench(mirrors(("narrow", narrow), ("wide", wide)), samples=2, timeout=5, throughput=True,
                       throughput_seconds=1.0)
    assert report.fastest == "wide"
    assert [r.name for r in report.results] == ["wide", "narrow"]


def test_a_failed_download_fails_the_mirror(servers):
    server = servers.start(Behaviour(file_base=f"http://127.0.0.1:{free_port()}"))  # files on a closed port
    report = run_bench(mirrors(("nofiles", server)), samples=2, timeout=5, throughput=True)
    result = report.results[0]
    assert not result.ok and report.fastest is None
    assert result.error == "download failed: connection refused"
    assert len(result.samples_ms) == 2


def test_file_to_time_is_the_newest_pure_wheel():
    files = [(name, f"https://f.example/{name}") for name in
             ("pip-24.0.tar.gz", "pip-23.3-py3-none-any.whl", "pip-24.0-cp312-cp312-win_amd64.whl",
              "pip-24.0-py3-none-any.whl")]
    assert pick_file(files, ["23.3", "24.0"], "pip")[0] == "pip-24.0-py3-none-any.whl"
    assert pick_file(files[:1], ["24.0"], "pip")[0] == "pip-24.0.tar.gz"
    assert pick_file([], [], "pip") is None


# -- network settings -----------------------------------------------------------------


def test_explicit_proxy_is_used(servers):
    proxy = servers.start()
    report = run_bench(mirrors(("far", "http://mirror.invalid/simple")), samples=2, timeout=5, proxy=proxy.base)
    assert report.results[0].ok, report.results[0].error
    assert all(r.absolute and r.target == "http://mirror.invalid/simple/pip/" for r in proxy.requests)


def test_proxy_from_environment_and_no_proxy(servers, monkeypatch):
    proxy = servers.start()
    monkeypatch.setenv("HTTP_PROXY", proxy.base)
    report = run_bench(mirrors(("far", "http://mirror.invalid/simple")), samples=1, timeout=5)
    assert report.results[0].ok, report.results[0].error
    assert proxy.requests[0].absolute
    monkeypatch.setenv("NO_PROXY", "mirror.invalid")
    report = run_bench(mirrors(("far", "http://mirror.invalid/simple")), samples=1, timeout=5)
    assert report.results[0].error == "DNS lookup failed for mirror.invalid"
    assert proxy.request_count == 2  # warm-up + 1 sample, through the proxy; none after NO_PROXY


def test_bad_proxy_is_a_usage_error():
    with pytest.raises(UsageError):
        run_bench(mirrors(("x", "http://mirror.invalid/simple")), proxy="ftp://user:secret@proxy.invalid")


@pytest.fixture
def tls_server(servers, tmp_path):
    pair = self_signed_cert(tmp_path)
    if pair is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = pair
    return servers.start(ssl_context=server_ssl_context(cert, key)), cert


def test_tls_is_verified_and_a_self_signed_certificate_fails(tls_server):
    server, _cert = tls_server
    report = run_bench([Mirror("self", server.url)], samples=2, timeout=5)
    result = report.results[0]
    assert not result.ok
    assert result.error.startswith("TLS: certificate verify failed")
    assert server.request_count == 0


def test_tls_with_a_trusted_ca_bundle_reports_handshake_time(tls_server):
    server, cert = tls_server
    report = run_bench([Mirror("self", server.url)], samples=2, timeout=5, ca_bundle=str(cert))
    result = report.results[0]
    assert result.ok, result.error
    assert result.tls_ms is not None and result.connect_ms is not None


def test_missing_ca_bundle_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError):
        run_bench(mirrors(("x", DNS_FAIL_URL)), ca_bundle=str(tmp_path / "missing.pem"))


def test_pip_proxy_and_cert_settings_are_read_like_pip(sandbox, monkeypatch):
    from mirrorctl.context import Context

    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("[global]\nproxy = http://global.proxy:3128\ncert = /tmp/user.pem\n"
                                     "[install]\nproxy = http://install.proxy:3128\n")
    settings = core.pip_network_settings(Context.from_os())
    assert settings == {"proxy": "http://install.proxy:3128", "ca_bundle": "/tmp/user.pem"}
    monkeypatch.setenv("PIP_PROXY", "http://env.proxy:8080")
    assert core.pip_network_settings(Context.from_os())["proxy"] == "http://env.proxy:8080"


def test_credentials_are_sent_but_never_shown(servers):
    server = servers.start(Behaviour(status=500))
    url = server.url.replace("http://", "http://alice:s3cret@")
    report = run_bench([Mirror("private", url)], samples=1, timeout=5)
    assert server.requests[0].headers["authorization"].startswith("Basic ")
    text = json.dumps(report.to_dict())
    assert "s3cret" not in text and "alice:****@" in text
    assert report.results[0].url == url  # the real URL stays in the result, for `use`


def test_every_sample_sends_the_warm_up_request_credentials_included(servers):
    """Samples go to the transport directly, without the client's per-request work: they must
    still send what the client sent first (URL credentials as Authorization, pip's Accept...)."""
    server = servers.start(Behaviour())
    url = server.url.replace("http://", "http://alice:s3cret@")
    report = run_bench([Mirror("private", url)], samples=3, timeout=5)
    assert report.results[0].ok
    pages = [r for r in server.requests if r.path.endswith("/pip/")]
    assert len(pages) == 4  # the warm-up and 3 samples
    wanted = ("authorization", "accept", "user-agent", "cache-control", "host")
    first = {key: pages[0].headers.get(key) for key in wanted}
    assert first["authorization"].startswith("Basic ") and first["accept"] == PIP_ACCEPT
    for page in pages[1:]:
        assert {key: page.headers.get(key) for key in wanted} == first


# -- arguments and selection -------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{"samples": 0}, {"timeout": 0}, {"timeout": -1.0}, {"package": "not a name"},
                                    {"package": ""}, {"max_lag": -1}])
def test_bad_arguments_are_usage_errors(kwargs):
    with pytest.raises(UsageError):
        run_bench(mirrors(("x", DNS_FAIL_URL)), **kwargs)


CATALOGUE = """
[[mirror]]
name = "alpha"
aliases = ["a"]
url = "https://alpha.invalid/simple"

[[mirror]]
name = "flaky"
url = "https://flaky.invalid/simple"
unreliable = true

[[mirror]]
name = "beta"
url = "https://beta.invalid/simple"
"""


def test_selection_skips_unreliable_mirrors_unless_named():
    catalog = Catalog(mirrors=parse_catalog(CATALOGUE, source="builtin", origin="test"))
    default = select_mirrors(catalog)
    assert [m.name for m in default.mirrors] == ["alpha", "beta"]
    assert [m.name for m in default.skipped] == ["flaky"]
    assert [m.name for m in select_mirrors(catalog, include_unreliable=True).mirrors] == ["alpha", "flaky", "beta"]
    named = select_mirrors(catalog, ["flaky", "a", "alpha"])
    assert [m.name for m in named.mirrors] == ["flaky", "alpha"] and named.skipped == []


def test_selection_names_urls_after_their_host():
    catalog = Catalog(mirrors=parse_catalog(CATALOGUE, source="builtin", origin="test"))
    chosen = select_mirrors(catalog, ["http://127.0.0.1:8001/simple", "http://127.0.0.1:8002/simple",
                                      "https://alpha.invalid/simple"]).mirrors
    assert [m.name for m in chosen] == ["127.0.0.1:8001", "127.0.0.1:8002", "alpha"]


# -- reading pages -------------------------------------------------------------------------


def test_parse_html_listing_resolves_links_and_reads_the_serial():
    body = simple_html("pip", ["23.3", "24.0"], 4242)
    listing = parse_listing(body, "text/html; charset=utf-8", "https://m.example/simple/pip/", "pip")
    assert listing.api == "html" and listing.serial == 4242
    assert listing.files[0] == ("pip-23.3-py3-none-any.whl", "https://m.example/files/pip-23.3-py3-none-any.whl")
    assert listing.versions == ["23.3", "24.0"]


def test_parse_json_listing():
    body = json.dumps({"meta": {"api-version": "1.1", "_last-serial": 7}, "name": "pip",
                       "files": [{"filename": "pip-1.0.tar.gz", "url": "https://f.example/pip-1.0.tar.gz"}]}).encode()
    listing = parse_listing(body, "application/vnd.pypi.simple.v1+json", "https://m.example/simple/pip/", "pip")
    assert listing.api == "json" and listing.serial == 7 and listing.versions == ["1.0"]


@pytest.mark.parametrize("body", [
    b"<html><body><a href='/login'>log in</a></body></html>",
    b"<html><body><a href='/simple/pip/'>pip</a><a href='/simple/six/'>six</a></body></html>",  # the root
    b'{"files": []}',
    b"{not json",
    b"",
])
def test_pages_without_files_are_not_simple_api_pages(body):
    assert parse_listing(body, "", "https://m.example/simple/pip/", "pip") is None


def test_version_order_follows_pep_440():
    ordered = ["1.0.dev1", "1.0a1", "1.0b2", "1.0rc1", "1.0", "1.0.post1", "1.1", "2!0.1"]
    keys = [version_key(v) for v in ordered]
    assert keys == sorted(keys)
    assert version_key("1.0") == version_key("1.0.0")
    assert version_key("not-a-version") is None


@pytest.mark.parametrize("filename, expected", [
    ("pip-24.0-py3-none-any.whl", "24.0"),
    ("pip-24.0.tar.gz", "24.0"),
    ("typing_extensions-4.9.0.tar.gz", "4.9.0"),
    ("other-1.0.tar.gz", None),
    ("pip-24.0.exe", None),
])
def test_version_from_filename(filename, expected):
    project = "typing-extensions" if filename.startswith("typing") else "pip"
    assert version_from_filename(filename, project) == expected


def test_error_messages_mask_passwords():
    assert core.scrub("proxy http://bob:hunter2@p.example:3128 refused") == "proxy http://bob:****@p.example:3128 refused"
    assert core.seconds(3) == "3.0 s" and core.seconds(0.25) == "0.25 s"


def test_p90_is_nearest_rank():
    assert core.percentile([5.0, 1.0, 3.0, 2.0, 4.0], 90) == 5.0
    assert core.percentile([1.0], 90) == 1.0
    assert core.percentile([], 90) is None


# -- rendering -------------------------------------------------------------------------------


def _report_with_everything(servers) -> BenchReport:
    ms = mirrors(
        ("slow", servers.start(Behaviour(delay=0.08, serial=1000))),
        ("quick", servers.start(Behaviour(serial=1000))),
        ("old", servers.start(Behaviour(serial=10))),
        ("dead", servers.start(Behaviour(status=500))),
    )
    return run_bench(ms, samples=2, timeout=5, max_lag=100)


def test_table_is_sorted_fastest_first_with_failures_and_reasons(servers):
    from rich.console import Console

    from mirrorctl.render.bench import print_bench

    report = _report_with_everything(servers)
    console = Console(file=io.StringIO(), width=200, record=True, color_system=None)
    print_bench(report, console, skipped=[Mirror("douban", "https://pypi.doubanio.com/simple", unreliable=True)])
    text = console.export_text()
    rows = [line.split()[:2] for line in text.split("fastest:")[0].splitlines()[2:] if line.strip()]
    assert rows == [["1", "quick"], ["2", "slow"], ["~", "old"], ["✗", "dead"]]
    assert "HTTP 500" in text and "stale: 990 serials behind slow (more than 100)" in text
    assert "fastest: quick" in text
    assert "█" in text
    assert "douban" in text


def test_json_document_shape(servers):
    from mirrorctl.render.bench import bench_json

    report = _report_with_everything(servers)
    data = json.loads(json.dumps(bench_json(report)))
    assert data["fastest"] == "quick"
    assert [r["name"] for r in data["results"]] == ["quick", "slow", "old", "dead"]
    for key in ("name", "url", "ok", "median_ms", "p90_ms", "samples_ms", "status", "error", "serial", "lag"):
        assert all(key in r for r in data["results"])
    dead = data["results"][-1]
    assert dead["ok"] is False and dead["error"] == "HTTP 500" and dead["median_ms"] is None


def test_live_progress_only_on_a_terminal():
    from rich.console import Console

    from mirrorctl.render.bench import live_progress

    ms = mirrors(("x", DNS_FAIL_URL))
    pipe = Console(file=io.StringIO(), force_terminal=False)
    with live_progress(ms, samples=3, console=pipe) as callback:
        assert callback is None
    terminal = Console(file=io.StringIO(), force_terminal=True)
    with live_progress(ms, samples=3, console=terminal, enabled=False) as callback:
        assert callback is None
    with live_progress(ms, samples=3, console=terminal) as callback:
        assert callback is not None
        run_bench(ms, samples=3, timeout=5, on_event=callback)


# -- the command line ------------------------------------------------------------------------


@pytest.fixture
def cli(run):
    import mirrorctl.cli.bench  # noqa: F401  (registers `bench` even before cli/__init__ imports it)

    return run


def test_cli_bench_json(cli, servers):
    fast, slow = servers.start(), servers.start(Behaviour(delay=0.08))
    result = cli("bench", fast.url, slow.url, "--samples", "2", "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["fastest"] == f"127.0.0.1:{fast.port}"
    assert len(data["results"]) == 2 and data["results"][0]["samples_ms"]


def test_cli_bench_table(cli, servers):
    fast = servers.start()
    result = cli("bench", fast.url, f"http://127.0.0.1:{free_port()}/simple", "--samples", "2")
    assert result.exit_code == 0, result.stderr
    assert "fastest: 127.0.0.1" in result.stdout
    assert "connection refused" in result.stdout


def test_cli_bench_exits_7_when_nothing_is_healthy(cli, servers):
    result = cli("bench", servers.start(Behaviour(status=500)).url, "--samples", "2", "--json")
    assert result.exit_code == ExitCode.NO_HEALTHY_MIRROR
    assert result.json()["fastest"] is None
    assert "no healthy mirror" in result.stderr


def test_cli_bench_apply_switches_pip_to_the_winner(cli, servers, sandbox):
    fast, slow = servers.start(), servers.start(Behaviour(delay=0.08))
    result = cli("bench", slow.url, fast.url, "--samples", "2", "--apply", "--tool", "pip", "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["fastest"] == f"127.0.0.1:{fast.port}"
    assert data["applied"]["mirror"]["url"] == fast.url
    assert fast.url in sandbox.user_pip_conf.read_text()


def test_cli_bench_apply_with_no_healthy_mirror_writes_nothing(cli, servers, sandbox):
    result = cli("bench", servers.start(Behaviour(kind=NOT_SIMPLE)).url, "--apply", "--tool", "pip")
    assert result.exit_code == ExitCode.NO_HEALTHY_MIRROR
    assert "not a Simple-API page" in result.stdout
    assert "no healthy mirror" in result.stderr
    assert not sandbox.user_pip_conf.exists()


def test_cli_tool_without_apply_is_a_usage_error(cli):
    result = cli("bench", DNS_FAIL_URL, "--tool", "pip")
    assert result.exit_code == ExitCode.USAGE


def _loopback_catalogue(monkeypatch, entries: List[Tuple[str, str, bool]]) -> None:
    text = "".join(f'[[mirror]]\nname = "{n}"\nurl = "{u}"\nunreliable = {str(x).lower()}\n\n' for n, u, x in entries)
    monkeypatch.setattr("mirrorctl.catalog.builtin_catalog_text", lambda: text)


def test_cli_bench_default_is_the_catalogue_without_unreliable_mirrors(cli, servers, monkeypatch):
    good, flaky = servers.start(), servers.start()
    _loopback_catalogue(monkeypatch, [("good", good.url, False), ("flaky", flaky.url, True)])
    result = cli("bench", "--samples", "1", "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert [r["name"] for r in data["results"]] == ["good"]
    assert data["skipped"] == [{"name": "flaky", "url": flaky.url, "reason": "unreliable"}]
    assert flaky.request_count == 0
    named = cli("bench", "flaky", "--samples", "1", "--json")
    assert named.json()["fastest"] == "flaky"


def test_use_fastest_benches_the_catalogue(cli, servers, monkeypatch, sandbox):
    fast, slow = servers.start(), servers.start(Behaviour(delay=0.08))
    _loopback_catalogue(monkeypatch, [("slow", slow.url, False), ("fast", fast.url, False)])
    result = cli("use", "fastest", "--tool", "pip")
    assert result.exit_code == 0, result.stderr
    assert "fastest: fast" in result.stdout
    assert fast.url in sandbox.user_pip_conf.read_text()
