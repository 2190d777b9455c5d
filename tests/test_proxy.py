"""bench through proxies people use (Clash, V2Ray: SOCKS5 on 127.0.0.1), against loopback only.

A real SOCKS5 proxy (tests/socks_proxy.py) forwards to loopback index servers
(tests/bench_servers.py). Nothing connects anywhere but 127.0.0.1; ``.invalid`` names stand
in for names that must not resolve here (the proxy maps them to 127.0.0.1 itself).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench_servers import LoopbackServers, free_port
from mirrorctl.errors import ExitCode
from socks_proxy import Socks5Proxy

PROXY_VARIABLES = ("ALL_PROXY", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def no_proxy_from_this_machine(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def servers():
    with LoopbackServers() as pool:
        yield pool


@pytest.fixture
def proxy():
    with Socks5Proxy(hosts={"mirror.invalid": "127.0.0.1"}) as p:
        yield p


@pytest.fixture
def cli(run):
    import mirrorctl.cli.bench  # noqa: F401  (registers `bench`)

    return run


def refused_proxy() -> str:
    return f"socks5://127.0.0.1:{free_port()}"


def test_bench_through_a_socks5_proxy_measures_the_mirror(cli, servers, proxy):
    mirror = servers.start()
    result = cli("bench", mirror.url, "--samples", "3", "--proxy", proxy.url, "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["fastest"] == f"127.0.0.1:{mirror.port}"
    assert data["results"][0]["ok"] and len(data["results"][0]["samples_ms"]) == 3
    assert data["proxy"]["url"] == proxy.url and data["proxy"]["source"] == "--proxy"
    assert data["results"][0]["proxy"] == proxy.url
    assert ("ipv4", "127.0.0.1", mirror.port) in proxy.log  # the proxy carried the connection
    assert len(mirror.page_requests()) == 4 and not any(r.absolute for r in mirror.requests)


def test_the_table_says_which_proxy_was_used(cli, servers, proxy, monkeypatch):
    mirror = servers.start()
    monkeypatch.setenv("ALL_PROXY", proxy.url)
    result = cli("bench", mirror.url, "--samples", "1")
    assert result.exit_code == 0, result.stderr
    assert f"through the proxy {proxy.url} (from ALL_PROXY)" in result.stdout
    direct = cli("bench", mirror.url, "--samples", "1", "--no-proxy")
    assert "no proxy (--no-proxy)" in direct.stdout


@pytest.mark.parametrize("variable", ["ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy"])
def test_proxy_from_the_environment(cli, servers, proxy, monkeypatch, variable):
    mirror = servers.start()
    monkeypatch.setenv(variable, proxy.url)
    result = cli("bench", mirror.url, "--samples", "1", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["proxy"]["source"] == variable
    assert proxy.log == [("ipv4", "127.0.0.1", mirror.port)]


def test_https_proxy_is_not_used_for_http_urls_and_no_proxy_exempts_hosts(cli, servers, proxy, monkeypatch):
    mirror = servers.start()
    monkeypatch.setenv("HTTPS_PROXY", refused_proxy())  # only for https:// mirrors
    assert cli("bench", mirror.url, "--samples", "1").exit_code == 0
    monkeypatch.setenv("ALL_PROXY", refused_proxy())
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.0/8")
    result = cli("bench", mirror.url, "--samples", "1", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["results"][0]["proxy"] is None


def test_pip_config_proxy_is_used(cli, servers, proxy, sandbox):
    mirror = servers.start()
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text(f"[global]\nproxy = {proxy.url}\n")
    result = cli("bench", mirror.url, "--samples", "1", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["proxy"]["source"] == f"pip config ({sandbox.user_pip_conf})"
    assert proxy.log == [("ipv4", "127.0.0.1", mirror.port)]


@pytest.mark.parametrize("off", [["--proxy", ""], ["--no-proxy"]])
def test_no_proxy_option_bypasses_the_environment_and_pip_config(cli, servers, proxy, sandbox, monkeypatch, off):
    mirror = servers.start()
    monkeypatch.setenv("ALL_PROXY", proxy.url)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text(f"[global]\nproxy = {proxy.url}\n")
    result = cli("bench", mirror.url, "--samples", "2", "--json", *off)
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["proxy"]["url"] is None and data["proxy"]["source"] == "--no-proxy"
    assert proxy.log == []  # the proxy never saw a connection
    assert len(mirror.page_requests()) == 3


def test_an_empty_pip_proxy_turns_the_environment_off_as_pip_does(cli, servers, monkeypatch):
    mirror = servers.start()
    monkeypatch.setenv("ALL_PROXY", refused_proxy())
    monkeypatch.setenv("PIP_PROXY", "")
    result = cli("bench", mirror.url, "--samples", "1", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["proxy"]["source"] == "PIP_PROXY"


def test_a_refused_proxy_is_reported_once_as_the_proxys_failure(cli, servers):
    dead = refused_proxy()
    mirrors = [servers.start().url for _ in range(3)]
    result = cli("bench", *mirrors, "--samples", "2", "--proxy", dead)
    assert result.exit_code == ExitCode.NO_HEALTHY_MIRROR
    message = f"the proxy {dead} refused the connection"
    assert message in result.stderr
    assert (result.stdout + result.stderr).count("refused") == 1, (result.stdout, result.stderr)
    assert result.stdout.strip() == ""  # no table of three failed mirrors
    assert all(s.request_count == 0 for s in servers.servers)
    data = cli("bench", *mirrors, "--samples", "2", "--proxy", dead, "--json").json()
    assert data["proxy"]["error"] == message
    assert all(r["proxy"] == dead for r in data["results"])


def test_a_mute_proxy_is_reported_once_as_the_proxys_failure(cli, servers):
    import socket

    with socket.socket() as mute:  # accepts connections (the kernel does), never says a word
        mute.bind(("127.0.0.1", 0))
        mute.listen(16)
        url = f"socks5://127.0.0.1:{mute.getsockname()[1]}"
        result = cli("bench", servers.start().url, servers.start().url, "--timeout", "0.5", "--proxy", url)
    assert result.exit_code == ExitCode.NO_HEALTHY_MIRROR
    assert f"the proxy {url} did not answer within 0.5 s" in result.stderr
    assert result.stdout.strip() == ""


def test_socks5h_sends_the_host_name_to_the_proxy(cli, servers, proxy):
    mirror = servers.start()
    url = f"http://mirror.invalid:{mirror.port}/simple"  # does not resolve here: only the proxy knows it
    result = cli("bench", url, "--samples", "2", "--proxy", proxy.url.replace("socks5:", "socks5h:"), "--json")
    assert result.exit_code == 0, result.stderr
    assert proxy.log == [("domain", "mirror.invalid", mirror.port)]
    assert mirror.page_requests()[0].headers["host"] == f"mirror.invalid:{mirror.port}"


def test_username_and_password_authentication(cli, servers):
    mirror = servers.start()
    with Socks5Proxy(users={"alice": "s3cret"}) as proxy:
        good = proxy.url.replace("://", "://alice:s3cret@")
        result = cli("bench", mirror.url, "--samples", "1", "--proxy", good, "--json")
        assert result.exit_code == 0, result.stderr
        assert result.json()["proxy"]["url"] == proxy.url.replace("://", "://alice:****@")
        assert "s3cret" not in result.stdout
        bad = proxy.url.replace("://", "://alice:wrong@")
        failed = cli("bench", mirror.url, "--samples", "1", "--proxy", bad)
        assert failed.exit_code == ExitCode.NO_HEALTHY_MIRROR
        assert f"the proxy socks5://alice:****@127.0.0.1:{proxy.port} rejected the user name and password" \
            in failed.stderr
        assert "wrong" not in failed.stderr + failed.stdout
        anonymous = cli("bench", mirror.url, "--samples", "1", "--proxy", proxy.url)
        assert f"the proxy {proxy.url} wants a user name and password" in anonymous.stderr
        assert proxy.auth_failures == 1


def test_bad_proxy_urls_are_usage_errors(cli, monkeypatch):
    result = cli("bench", "http://mirror.invalid/simple", "--proxy", "ftp://127.0.0.1:21")
    assert result.exit_code == ExitCode.USAGE and "socks5" in result.stderr
    result = cli("bench", "http://mirror.invalid/simple", "--proxy", "socks5://127.0.0.1:1", "--no-proxy")
    assert result.exit_code == ExitCode.USAGE


def test_use_fastest_goes_through_the_proxy_too(cli, servers, proxy, monkeypatch, sandbox):
    mirror = servers.start()
    text = f'[[mirror]]\nname = "loop"\nurl = "{mirror.url}"\n'
    monkeypatch.setattr("mirrorctl.catalog.builtin_catalog_text", lambda: text)
    monkeypatch.setenv("ALL_PROXY", proxy.url)
    result = cli("use", "fastest", "--tool", "pip")
    assert result.exit_code == 0, result.stderr
    assert proxy.log and all(entry == ("ipv4", "127.0.0.1", mirror.port) for entry in proxy.log)
    assert mirror.url in sandbox.user_pip_conf.read_text()
    monkeypatch.setenv("ALL_PROXY", refused_proxy())
    failed = cli("use", "fastest", "--tool", "pip")
    assert failed.exit_code == ExitCode.NO_HEALTHY_MIRROR and "refused the connection" in failed.stderr


def test_socks_works_in_a_plain_install(run_cli, servers, proxy):
    """socksio (httpx's `socks` extra) is a dependency, not a test extra; a real process uses it."""
    import tomlkit

    pyproject = tomlkit.parse((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert any(dep.replace(" ", "").startswith("socksio") for dep in pyproject["project"]["dependencies"])
    mirror = servers.start()
    result = run_cli("bench", mirror.url, "--samples", "1", "--json", env={"ALL_PROXY": proxy.url})
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["proxy"]["source"] == "ALL_PROXY"
    assert proxy.log == [("ipv4", "127.0.0.1", mirror.port)]
