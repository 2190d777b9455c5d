"""Fresh by default: a mirror behind the others cannot win unless --allow-stale (loopback indexes only)."""

from __future__ import annotations

import pytest

from bench_servers import Behaviour, LoopbackServers
from mirrorctl.bench import run_bench
from mirrorctl.bench.rank import DEFAULT_MAX_SERIAL_LAG
from mirrorctl.catalog import Mirror
from mirrorctl.errors import NoHealthyMirrorError

#: about an hour of the official index's events, as the default assumes (several hundred an hour)
AN_HOUR = 1200


@pytest.fixture
def servers():
    with LoopbackServers() as pool:
        yield pool


def bench(*named, **options):
    return run_bench([Mirror(name=n, url=s.url) for n, s in named], samples=2, timeout=5, proxy="", **options)


def by_name(report):
    return {r.name: r for r in report.results}


def test_a_mirror_an_hour_behind_is_passed_over_by_default(servers):
    behind = servers.start(Behaviour(serial=25_000_000 - AN_HOUR, serial_in="header"))
    fresh = servers.start(Behaviour(serial=25_000_000, serial_in="header", delay=0.05))
    report = bench(("behind", behind), ("fresh", fresh))
    assert report.fastest == "fresh"
    stale = by_name(report)["behind"]
    assert stale.ok and stale.stale and stale.rank is None
    assert stale.stale_reason == f"{AN_HOUR} serials behind fresh (more than {DEFAULT_MAX_SERIAL_LAG})"
    assert report.to_dict()["results"][1]["stale_reason"] == stale.stale_reason


def test_a_mirror_a_few_minutes_behind_still_wins(servers):
    recent = servers.start(Behaviour(serial=25_000_000 - 50, serial_in="header"))
    fresh = servers.start(Behaviour(serial=25_000_000, serial_in="header", delay=0.05))
    assert bench(("recent", recent), ("fresh", fresh)).fastest == "recent"


def test_a_mirror_missing_the_newest_release_is_passed_over(servers):
    old = servers.start(Behaviour(versions=("23.3", "24.0"), serial=None, serial_in=None))
    new = servers.start(Behaviour(versions=("23.3", "24.0", "24.1"), serial=None, serial_in=None, delay=0.05))
    report = bench(("old", old), ("new", new))
    assert report.fastest == "new"
    assert by_name(report)["old"].stale_reason == "1 release behind new (more than 0)"


def test_a_mirror_with_serials_close_but_missing_the_release_is_passed_over(servers):
    old = servers.start(Behaviour(versions=("23.3", "24.0"), serial=999, serial_in="header"))
    new = servers.start(Behaviour(versions=("23.3", "24.0", "24.1"), serial=1000, serial_in="header", delay=0.05))
    report = bench(("old", old), ("new", new))
    assert report.fastest == "new"
    assert by_name(report)["old"].stale_reason == "missing 24.1, which another mirror has"


def test_allow_stale_takes_the_fastest_anyway(servers):
    behind = servers.start(Behaviour(serial=25_000_000 - AN_HOUR, serial_in="header"))
    fresh = servers.start(Behaviour(serial=25_000_000, serial_in="header", delay=0.05))
    report = bench(("behind", behind), ("fresh", fresh), allow_stale=True)
    assert report.fastest == "behind" and not by_name(report)["behind"].stale
    assert report.to_dict()["allow_stale"] is True


def test_max_lag_still_tunes_it(servers):
    behind = servers.start(Behaviour(serial=25_000_000 - AN_HOUR, serial_in="header"))
    fresh = servers.start(Behaviour(serial=25_000_000, serial_in="header", delay=0.05))
    assert bench(("behind", behind), ("fresh", fresh), max_lag=2 * AN_HOUR).fastest == "behind"


def test_when_every_answering_mirror_is_stale_the_error_says_how_to_go_on():
    from mirrorctl.bench import BenchReport, ProbeResult, winning_mirror

    stale = ProbeResult(name="behind", url="http://127.0.0.1:1/simple", ok=True, median_ms=5.0, lag=5000,
                        lag_unit="serial", stale=True, stale_reason="5000 serials behind x (more than 1000)")
    failed = ProbeResult(name="x", url="http://127.0.0.1:2/simple", error="HTTP 500 (on sample 2 of 2)", index=1)
    report = BenchReport(results=[stale], fastest=None, package="pip", samples=2, timeout=5, ranked_by="latency")
    with pytest.raises(NoHealthyMirrorError) as caught:
        winning_mirror(report, [Mirror(name="behind", url=stale.url)])
    assert "1 answered but is too far behind" in caught.value.message
    assert "--allow-stale" in caught.value.hint
    report.results.append(failed)
    with pytest.raises(NoHealthyMirrorError) as caught:
        winning_mirror(report, [Mirror(name="behind", url=stale.url)])
    assert "x: HTTP 500" in caught.value.message


def test_the_table_says_why_a_fast_mirror_was_passed_over(servers):
    from rich.console import Console

    from mirrorctl.render.bench import print_bench

    behind = servers.start(Behaviour(serial=25_000_000 - AN_HOUR, serial_in="header"))
    fresh = servers.start(Behaviour(serial=25_000_000, serial_in="header", delay=0.05))
    report = bench(("behind", behind), ("fresh", fresh))
    console = Console(width=200, record=True, color_system=None)
    print_bench(report, console)
    text = console.export_text()
    assert f"stale: {AN_HOUR} serials behind fresh" in text
    assert "passed over, faster but stale: behind" in text


def test_cli_bench_apply_never_picks_a_stale_mirror_unless_allowed(run, servers, sandbox):
    import mirrorctl.cli.bench  # noqa: F401  (registers `bench`)

    behind = servers.start(Behaviour(serial=25_000_000 - AN_HOUR, serial_in="header"))
    fresh = servers.start(Behaviour(serial=25_000_000, serial_in="header", delay=0.05))
    result = run("bench", behind.url, fresh.url, "--samples", "1", "--no-proxy", "--apply", "--tool", "pip", "--json")
    assert result.exit_code == 0, result.stderr
    assert fresh.url in sandbox.user_pip_conf.read_text()
    result = run("bench", behind.url, fresh.url, "--samples", "1", "--no-proxy", "--apply", "--tool", "pip",
                 "--allow-stale", "--json")
    assert result.exit_code == 0, result.stderr
    assert behind.url in sandbox.user_pip_conf.read_text()
