"""bench -4 / -6: measure over one address family (IPv4 on 127.0.0.1, IPv6 on ::1; loopback only)."""

from __future__ import annotations

import socket

import pytest

from bench_servers import LoopbackServers
from mirrorctl.bench import run_bench
from mirrorctl.catalog import Mirror
from mirrorctl.errors import UsageError


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


needs_ipv6 = pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback (::1) here")


@pytest.fixture
def servers():
    with LoopbackServers() as pool:
        yield pool


@pytest.fixture
def dual(servers, monkeypatch):
    """``dual.test``: one name, an index on 127.0.0.1 and another on ::1 at the same port."""
    v6 = servers.start(host="::1")
    try:
        v4 = servers.start(port=v6.port)
    except Exception:  # noqa: BLE001 - the port is taken on 127.0.0.1
        pytest.skip("could not bind the same port on 127.0.0.1 and ::1")
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host in ("dual.test", b"dual.test"):
            found = []
            if family in (0, socket.AF_INET6):
                found.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", int(port), 0, 0)))
            if family in (0, socket.AF_INET):
                found.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port))))
            return found
        return real(host, port, family, type, proto, flags)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return v4, v6


def bench(url, **options):
    return run_bench([Mirror(name="m", url=url)], samples=2, timeout=5, proxy="", **options)


@needs_ipv6
@pytest.mark.parametrize("family", [4, 6])
def test_one_family_only(dual, family):
    v4, v6 = dual
    report = bench(f"http://dual.test:{v4.port}/simple", family=family)
    assert report.results[0].ok, report.results[0].error
    assert report.family == family and report.to_dict()["family"] == family
    used, unused = (v4, v6) if family == 4 else (v6, v4)
    assert used.request_count == 3 and unused.request_count == 0


def test_ipv4_over_127_0_0_1(servers):
    server = servers.start()
    assert bench(server.url, family=4).results[0].ok


@needs_ipv6
def test_ipv6_over_the_ipv6_loopback(servers):
    server = servers.start(host="::1")
    assert server.url.startswith("http://[::1]:")
    report = bench(server.url, family=6)
    assert report.results[0].ok, report.results[0].error


@needs_ipv6
def test_a_literal_address_of_the_other_family_fails_before_connecting(servers):
    server = servers.start(host="::1")
    report = bench(server.url, family=4)
    assert report.results[0].error == "::1 is an IPv6 address: not reachable with -4"
    assert server.connections == 0


def test_the_family_is_4_or_6():
    with pytest.raises(UsageError, match="address family must be 4 or 6"):
        bench("http://127.0.0.1:1/simple", family=5)


def test_cli_minus_4_and_minus_6_together_is_a_usage_error(run):
    import mirrorctl.cli.bench  # noqa: F401  (registers `bench`)

    result = run("bench", "http://127.0.0.1:1/simple", "-4", "-6")
    assert result.exit_code == 2
    assert "-4 and -6 contradict each other" in result.stderr


def test_cli_bench_minus_4_in_json(run, servers):
    server = servers.start()
    result = run("bench", server.url, "-4", "--samples", "1", "--json", "--no-proxy")
    assert result.exit_code == 0, result.stderr
    assert result.json()["family"] == 4 and result.json()["fastest"]
