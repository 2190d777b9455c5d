"""`use fastest` measures with bench's options: pick_fastest takes them all (loopback indexes only)."""

from __future__ import annotations

import inspect

import pytest

from bench_servers import Behaviour, LoopbackServers
from mirrorctl.errors import UsageError


@pytest.fixture
def servers():
    with LoopbackServers() as pool:
        yield pool


@pytest.fixture
def ctx(sandbox):
    from mirrorctl.cli.app import make_context

    return make_context(root=None, venv=None, project=None)


def test_pick_fastest_takes_names_samples_timeout_and_package(servers, ctx):
    from mirrorctl.cli.bench import pick_fastest

    slow, fast = servers.start(Behaviour(delay=0.08)), servers.start()
    winner = pick_fastest(ctx, as_json=True, names=[slow.url, fast.url], samples=2, timeout=4, package="Typing_Extensions",
                          no_proxy=True)
    assert winner.url == fast.url
    assert [r.path for r in fast.requests] == ["/simple/typing-extensions/"] * 3  # warm-up + --samples 2, --package
    assert len(slow.requests) == 3


def test_pick_fastest_honours_max_lag(servers, ctx):
    from mirrorctl.cli.bench import pick_fastest

    stale_fast, fresh_slow = servers.start(Behaviour(serial=900)), servers.start(Behaviour(delay=0.05, serial=1000))
    winner = pick_fastest(ctx, as_json=True, names=[stale_fast.url, fresh_slow.url], samples=1, max_lag=0)
    assert winner.url == fresh_slow.url


def test_pick_fastest_checks_the_bounds_before_probing(servers, ctx):
    from mirrorctl.cli.bench import pick_fastest

    server = servers.start()
    with pytest.raises(UsageError, match="--samples must be from 1 to 50"):
        pick_fastest(ctx, as_json=True, names=[server.url], samples=0)
    assert server.request_count == 0


def test_bench_options_are_defined_once_for_use_fastest():
    from mirrorctl.cli import bench as cli_bench

    defaults = inspect.signature(cli_bench.bench).parameters
    for name, option in (("names", cli_bench.NAMES_ARGUMENT), ("samples", cli_bench.SAMPLES_OPTION),
                         ("timeout", cli_bench.TIMEOUT_OPTION), ("package", cli_bench.PACKAGE_OPTION),
                         ("throughput", cli_bench.THROUGHPUT_OPTION), ("max_lag", cli_bench.MAX_LAG_OPTION),
                         ("include_all", cli_bench.ALL_OPTION), ("proxy", cli_bench.PROXY_OPTION),
                         ("no_proxy", cli_bench.NO_PROXY_OPTION), ("ipv4", cli_bench.IPV4_OPTION),
                         ("ipv6", cli_bench.IPV6_OPTION), ("allow_stale", cli_bench.ALLOW_STALE_OPTION)):
        assert defaults[name].default is option
    picked = inspect.signature(cli_bench.pick_fastest).parameters
    for name in ("samples", "timeout", "package", "throughput", "max_lag", "include_all", "proxy", "no_proxy"):
        assert picked[name].default == defaults[name].default.default  # the same defaults as bench


def test_use_fastest_on_the_command_line_takes_bench_s_options(servers, run, sandbox):
    slow, fast = servers.start(Behaviour(delay=0.08)), servers.start()
    result = run("use", "fastest", slow.url, fast.url, "--samples", "2", "--timeout", "4", "--package", "requests",
                 "--no-proxy", "--tool", "pip", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["mirror"]["url"].rstrip("/") == fast.url.rstrip("/")
    assert [r.path for r in fast.requests] == ["/simple/requests/"] * 3
    assert fast.url.rstrip("/") in sandbox.user_pip_conf.read_text()


def test_measuring_options_with_a_named_mirror_are_a_usage_error(run, sandbox):
    for args in (["tuna", "aliyun"], ["tuna", "--samples", "3"], ["tuna", "--no-proxy"]):
        result = run("use", *args)
        assert result.exit_code == 2 and "only `use fastest` measures" in result.stderr, result.stderr
    assert not sandbox.user_pip_conf.exists()
