"""The HTTP policy (src/mirrorctl/netpolicy.py) and the tests' own network guard (tests/netguard.py).

Loopback only: every request here goes to a server on 127.0.0.1 (or ::1).
"""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest

from bench_servers import Behaviour, LoopbackServers
from mirrorctl import netpolicy
from mirrorctl.errors import UsageError
from mirrorctl.netpolicy import RedirectRefused, TooLarge


@pytest.fixture
def servers():
    with LoopbackServers() as pool:
        yield pool


# -- the guard ---------------------------------------------------------------------------------


def test_the_guard_refuses_a_connection_off_loopback_before_the_system_call(network_guard):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setblocking(False)  # a real connect() would return at once (EINPROGRESS) and bind a local port
        with pytest.raises(ConnectionRefusedError, match="test network guard"):
            sock.connect(("192.0.2.1", 80))  # TEST-NET-1
        assert sock.getsockname()[1] == 0  # no local port: connect() never reached the kernel
    assert network_guard.violations == ["socket.connect to ('192.0.2.1', 80)"]
    network_guard.violations.clear()  # seen, and meant: this test must not fail for it


def test_the_guard_refuses_a_dns_lookup_and_lets_loopback_through(network_guard):
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("pypi.org", 443)
    assert network_guard.violations == ["socket.getaddrinfo of 'pypi.org'"]
    network_guard.violations.clear()
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("mirror.invalid", 443)  # the DNS-failure stand-in: refused quietly
    assert network_guard.violations == []
    assert socket.getaddrinfo("127.0.0.1", 80)  # literal addresses need no lookup
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=5):
            pass


# -- one capped GET under the policy ----------------------------------------------------------


def test_get_reads_a_page(servers):
    server = servers.start()
    got = netpolicy.get(server.url + "/pip/", max_bytes=1 << 20, timeout=5)
    assert got.status == 200 and b"pip-24.0" in got.body and not got.redirected
    assert server.requests[0].headers["user-agent"].startswith("mirrorctl/")


def test_get_caps_the_size(servers):
    server = servers.start()
    with pytest.raises(TooLarge):
        netpolicy.get(server.url + "/pip/", max_bytes=100, timeout=5)


def test_get_follows_an_allowed_redirect_and_refuses_link_local_before_connecting(servers, network_guard):
    target = servers.start()
    moved = servers.start(Behaviour(redirect_to=target.url))
    got = netpolicy.get(moved.url + "/pip/", timeout=5)
    assert got.redirected and got.url == target.url + "/pip/"
    metadata = servers.start(Behaviour(redirect_to="http://169.254.169.254/latest"))
    with pytest.raises(RedirectRefused, match="link-local address 169.254.169.254 refused"):
        netpolicy.get(metadata.url + "/pip/", timeout=5)
    assert network_guard.violations == []  # refused by the policy, not by the guard: no attempt at all


def test_get_refuses_a_redirect_from_a_remote_host_to_this_machine():
    assert netpolicy.redirect_refusal("https://mirror.example/simple/", "http://127.0.0.1:8080/x") == \
        "redirect from mirror.example to this machine (127.0.0.1) refused"
    assert netpolicy.redirect_refusal("http://127.0.0.1:1/simple/", "http://127.0.0.1:2/x") is None


def test_a_redirect_from_https_to_plain_http_is_refused():
    """What was asked over TLS is not measured (nor read) in the clear."""
    assert netpolicy.redirect_refusal("https://mirror.example/simple/", "http://mirror.example/simple/pip/") == \
        "redirect from https to plain http (http://mirror.example/simple/pip/) refused"
    assert "secret" not in netpolicy.redirect_refusal("https://mirror.example/", "http://u:secret@mirror.example/x")
    assert netpolicy.redirect_refusal("https://127.0.0.1:1/simple/", "HTTP://127.0.0.1:1/pip/") is not None
    assert netpolicy.redirect_refusal("https://mirror.example/simple/", "https://cdn.example/simple/pip/") is None
    assert netpolicy.redirect_refusal("http://mirror.example/simple/", "http://mirror.example/simple/pip/") is None


def test_a_bad_ca_bundle_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="cannot use the CA bundle"):
        netpolicy.ssl_context(str(tmp_path / "missing.pem"))


def test_a_bad_ca_bundle_loaded_ahead_is_the_same_usage_error(tmp_path):
    missing = str(tmp_path / "missing.pem")
    netpolicy.prefetch_ssl_context(missing)  # the error happens in the loading thread...
    with pytest.raises(UsageError, match="cannot use the CA bundle"):
        netpolicy.ssl_context(missing)  # ...and is raised here, where the context is asked for
    with pytest.raises(UsageError, match="cannot use the CA bundle"):
        netpolicy.ssl_context(missing)  # and again (failures are not kept)


def test_a_context_loaded_ahead_is_the_one_given_and_verifies(tmp_path, monkeypatch):
    from bench_servers import self_signed_cert

    made = self_signed_cert(tmp_path)
    if made is None:
        pytest.skip("needs the openssl command")
    cert = made[0]
    netpolicy.prefetch_ssl_context(str(cert))
    netpolicy.prefetch_ssl_context(str(cert))  # asked twice: loaded once
    context = netpolicy.ssl_context(str(cert))
    assert netpolicy.ssl_context(str(cert)) is context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert len(context.get_ca_certs()) == 1
    # without a bundle: httpx's trust store (SSL_CERT_FILE honoured, as httpx does)
    monkeypatch.setattr(netpolicy, "_SSL_CACHE", {})
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    netpolicy.prefetch_ssl_context(None)
    default = netpolicy.ssl_context(None)
    assert [c["subject"] for c in default.get_ca_certs()] == [c["subject"] for c in context.get_ca_certs()]


def test_describe_error_names_the_cause():
    assert netpolicy.describe_error(httpx.ConnectError("x"), host="h") == "could not connect (x)"
    refused = httpx.ConnectError("boom")
    refused.__cause__ = ConnectionRefusedError()
    assert netpolicy.describe_error(refused) == "connection refused"


# -- the address family -------------------------------------------------------------------------


def test_family_refusal_for_literal_addresses():
    assert netpolicy.family_refusal("http://[::1]:8080/simple", 4) == "::1 is an IPv6 address: not reachable with -4"
    assert netpolicy.family_refusal("http://127.0.0.1:8080/simple", 6) == \
        "127.0.0.1 is an IPv4 address: not reachable with -6"
    assert netpolicy.family_refusal("http://127.0.0.1:8080/simple", 4) is None
    assert netpolicy.family_refusal("https://mirror.example/simple", 6) is None  # a name: the lookup decides


def test_get_over_ipv4_only(servers):
    server = servers.start()
    got = netpolicy.get(f"http://localhost:{server.port}/simple/pip/", timeout=5, family=4)
    assert got.status == 200
