"""bench --conda: each mirror's conda channels timed by conda's own first request (loopback only)."""

from __future__ import annotations

import pytest

from bench_servers import RAW, Behaviour, LoopbackServers
from mirrorctl.bench import conda, run_bench
from mirrorctl.catalog import CondaMirror, Mirror
from mirrorctl.errors import UsageError


@pytest.fixture
def servers():
    with LoopbackServers() as pool:
        yield pool


def mirror(name, server, layout="full"):
    return Mirror(name=name, url=server.url, conda=CondaMirror(url=server.base + "/anaconda", layout=layout))


def test_conda_bench_ranks_by_the_channel_and_asks_only_the_start_of_repodata(servers):
    slow, fast = servers.start(Behaviour(delay=0.08)), servers.start(Behaviour(delay=0.005))
    report = run_bench([mirror("slow", slow), mirror("fast", fast, layout="cloud")], samples=2, timeout=5,
                       endpoint="conda", proxy="")
    assert report.fastest == "fast" and report.endpoint == "conda" and report.to_dict()["endpoint"] == "conda"
    assert [r.path for r in slow.requests] == ["/anaconda/pkgs/main/noarch/repodata.json"] * 3
    assert [r.path for r in fast.requests] == ["/anaconda/cloud/conda-forge/noarch/repodata.json"] * 3
    assert all(r.headers["range"] == conda.RANGE for r in fast.requests)
    winner = next(r for r in report.results if r.name == "fast")
    assert winner.api == "repodata" and winner.bytes == 65536 and winner.status == 206
    assert not any(r.path.startswith("/simple/") for s in (slow, fast) for r in s.requests)  # not the PyPI index


def test_a_server_ignoring_range_is_read_only_up_to_the_bound(servers):
    whole = servers.start(Behaviour(serial_in="no-range"))  # answers 200 with the whole file
    report = run_bench([mirror("whole", whole)], samples=2, timeout=5, endpoint="conda", proxy="")
    assert report.fastest == "whole", report.results[0].error
    assert report.results[0].status == 200


def test_a_mirror_without_conda_channels_fails_without_a_request(servers):
    server = servers.start()
    report = run_bench([Mirror(name="pypi-only", url=server.url)], samples=1, timeout=5, endpoint="conda", proxy="")
    assert report.results[0].error == "no conda channels for this mirror in the catalogue"
    assert server.request_count == 0


def test_an_answer_that_is_not_repodata_fails(servers):
    portal = servers.start(Behaviour(kind=RAW, body=b"<html>welcome</html>", content_type="text/html"))
    missing = servers.start(Behaviour(status=404))
    report = run_bench([mirror("portal", portal), mirror("missing", missing)], samples=1, timeout=5,
                       endpoint="conda", proxy="")
    errors = {r.name: r.error for r in report.results}
    assert errors["portal"] == "not a conda repodata.json"
    assert errors["missing"].startswith("HTTP 404 (no repodata.json at http://127.0.0.1:")
    assert report.fastest is None


def test_conda_and_throughput_do_not_go_together():
    with pytest.raises(UsageError, match="--throughput measures PyPI files"):
        run_bench([], endpoint="conda", throughput=True)


def test_one_winner_per_tool_each_by_its_own_endpoint(servers, monkeypatch, sandbox):
    from mirrorctl.cli.app import make_context
    from mirrorctl.cli.bench import pick_fastest_per_tool

    fast, slow = servers.start(Behaviour(delay=0.005)), servers.start(Behaviour(delay=0.08))
    # "index": a fast PyPI index, slow conda channels; "channels": the other way round
    catalog = f"""
[[mirror]]
name = "index"
url = "{fast.url}"
[mirror.conda]
url = "{slow.base}/anaconda"

[[mirror]]
name = "channels"
url = "{slow.url}"
[mirror.conda]
url = "{fast.base}/anaconda"
"""
    monkeypatch.setattr("mirrorctl.catalog.builtin_catalog_text", lambda: catalog)
    ctx = make_context(root=None, venv=None, project=None)
    chosen = pick_fastest_per_tool(ctx, ["pip", "uv", "conda"], as_json=True, samples=2, no_proxy=True)
    assert {t: m.name for t, m in chosen.items()} == {"pip": "index", "uv": "index", "conda": "channels"}
    assert len([r for r in fast.requests if r.path.startswith("/simple/")]) == 3  # one index bench (2 + warm-up)
    assert len([r for r in fast.requests if r.path.endswith("repodata.json")]) == 3  # one conda bench


def test_cli_bench_conda_json(run, servers, monkeypatch):
    import mirrorctl.cli.bench  # noqa: F401  (registers `bench`)

    server = servers.start()
    catalog = f"""
[[mirror]]
name = "loop"
url = "{server.url}"
title = "loopback"
[mirror.conda]
url = "{server.base}/anaconda"
layout = "full"

[[mirror]]
name = "pypi-only"
url = "{server.url}"
title = "no conda"
"""
    monkeypatch.setattr("mirrorctl.catalog.builtin_catalog_text", lambda: catalog)
    result = run("bench", "--conda", "--samples", "1", "--json", "--no-proxy")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["endpoint"] == "conda" and data["fastest"] == "loop"
    assert [r["name"] for r in data["results"]] == ["loop"]  # mirrors without conda channels are not probed
    assert data["results"][0]["url"] == f"{server.base}/anaconda"  # the conda mirror, not the PyPI index
    assert server.requests[0].path == "/anaconda/pkgs/main/noarch/repodata.json"


def test_cli_bench_conda_apply_switches_conda_only(run, servers, monkeypatch, sandbox):
    import mirrorctl.cli.bench  # noqa: F401  (registers `bench`)

    server = servers.start()
    monkeypatch.setattr("mirrorctl.catalog.builtin_catalog_text", lambda: f"""
[[mirror]]
name = "loop"
url = "{server.url}"
[mirror.conda]
url = "{server.base}/anaconda"
""")
    result = run("bench", "--conda", "--samples", "1", "--no-proxy", "--apply", "--json")
    assert result.exit_code == 0, result.stderr
    condarc = sandbox.home / ".condarc"
    assert f"{server.base}/anaconda/pkgs/main" in condarc.read_text()
    assert not sandbox.user_pip_conf.exists()  # pip was not switched by a conda measure
    refused = run("bench", "--conda", "--apply", "--tool", "pip", "--no-proxy")
    assert refused.exit_code == 2 and "switches conda only" in refused.stderr


@pytest.mark.parametrize("tool, hint", [
    ("conda", "--conda measures conda's channels; --apply --tool conda switches conda to the winner"),
    ("pip,conda", "--conda measures conda's channels"),
    ("pip", "add --apply to switch to the winner"),
])
def test_bench_tool_without_apply_says_which_option_was_meant(run, tool, hint):
    """`bench --tool conda`, as a new user would try it: the hint points to --conda (nothing is probed)."""
    import mirrorctl.cli.bench  # noqa: F401  (registers `bench`)

    result = run("bench", "http://127.0.0.1:9/simple", "--tool", tool)
    assert result.exit_code == 2, result.stderr
    assert "go with --apply" in result.stderr and hint in result.stderr, result.stderr
