"""How fast and how right is `mirrorctl bench`? Loopback indexes with injected latency, one run.

Starts K loopback Simple-API indexes (127.0.0.1 only) that answer the project page
after a fixed delay, and prints:

  * mirrorctl bench's wall time: the core call (first call in the process, so it pays
    for importing httpx, and the median of warm calls) and the CLI as a fresh process;
  * the floor: samples x the slowest latency (no bench can take less);
  * a sequential baseline: the same measurement, one mirror after another;
  * what a black-hole mirror (accepts, never answers) and a slow-drip mirror add;
  * accuracy: mirrors at 20/40/80/160 ms +-25 % jitter, how many of N runs the 20 ms one wins.

Goals (issue 3): wall <= 1.2 x floor + 0.3 s; >= 4 x faster than sequential with 5 mirrors;
a black hole adds <= one --timeout; the 20 ms mirror wins 20 runs out of 20.

    python benchmarks/bench_parallel.py [--k 5] [--latency-ms 100] [--samples 5] [--runs 20]

The servers run in a thread of this process (asyncio, one loop): their delays are
asyncio sleeps, so they overlap like real remote servers would. The CLI is timed as a
fresh process with bytecode caching on (as for an installed package), after one
untimed run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from bench_servers import BLACKHOLE, DRIP, Behaviour, LoopbackServers  # noqa: E402


def mirrors_for(servers, prefix: str = "m"):
    from mirrorctl.catalog import Mirror

    return [Mirror(name=f"{prefix}{i}", url=s.url) for i, s in enumerate(servers)]


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def cli_wall(urls, samples: int, timeout: float, ok_codes=(0,)):
    """`python -m mirrorctl bench URL... --json` as a fresh process (Python start-up included)."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("PIP_", "HTTP_PROXY", "HTTPS_PROXY",
                                                                              "ALL_PROXY"))}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its bytecode compiled
    cmd = [sys.executable, "-m", "mirrorctl", "bench", *urls, "--samples", str(samples), "--timeout", str(timeout),
           "--json"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok_codes:
        return None, (proc.stderr.strip().splitlines() or ["exit %d" % proc.returncode])[-1]
    return elapsed, json.loads(proc.stdout)["fastest"]


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=5, help="loopback mirrors (default 5)")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="injected latency of each mirror (default 100)")
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=2.0, help="--timeout for the black-hole test (default 2)")
    parser.add_argument("--runs", type=int, default=20, help="accuracy runs (default 20)")
    parser.add_argument("--warm-runs", type=int, default=5)
    args = parser.parse_args()

    k, samples, latency = args.k, args.samples, args.latency_ms / 1000

    with LoopbackServers() as pool:
        servers = [pool.start(Behaviour(delay=latency)) for _ in range(k)]
        mirrors = mirrors_for(servers)
        floor = samples * latency
        limit = 1.2 * floor + 0.3

        # --- the core, first call in this process (imports httpx), then warm calls
        from mirrorctl.bench import run_bench

        cold, report = timed(lambda: run_bench(mirrors, samples=samples, timeout=args.timeout))
        assert report.fastest is not None, [r.error for r in report.results]
        warm_runs = [timed(lambda: run_bench(mirrors, samples=samples, timeout=args.timeout))[0]
                     for _ in range(args.warm_runs)]
        warm = statistics.median(warm_runs)

        # --- the same measurement, one mirror after another
        sequential, _ = timed(lambda: [run_bench([m], samples=samples, timeout=args.timeout) for m in mirrors])

        # --- the CLI as a fresh process (one untimed run first: bytecode, disk cache)
        cli_wall([s.url for s in servers], 1, args.timeout)
        cli, cli_fastest = cli_wall([s.url for s in servers], samples, args.timeout)
        # its fixed cost: the same command against one mirror that refuses at once
        fixed = [cli_wall([f"http://127.0.0.1:{closed_port()}/simple"], samples, args.timeout, ok_codes=(7,))[0]
                 for _ in range(3)]
        fixed_cost = statistics.median(fixed) if all(f is not None for f in fixed) else None

        # --- a black hole and a slow drip next to the same mirrors
        hole = pool.start(Behaviour(kind=BLACKHOLE))
        with_hole, hole_report = timed(lambda: run_bench(mirrors + mirrors_for([hole], "hole"), samples=samples,
                                                         timeout=args.timeout))
        drip = pool.start(Behaviour(kind=DRIP, drip_interval=0.05))
        with_drip, drip_report = timed(lambda: run_bench(mirrors + mirrors_for([drip], "drip"), samples=samples,
                                                         timeout=args.timeout))
        hole_result = next(r for r in hole_report.results if r.name == "hole0")
        drip_result = next(r for r in drip_report.results if r.name == "drip0")

    # --- accuracy: 20/40/80/160 ms with +-25 % jitter
    wins = 0
    medians = {20: [], 40: [], 80: [], 160: []}
    with LoopbackServers() as pool:
        jittered = [pool.start(Behaviour(delay=ms / 1000, jitter=0.25, seed=ms)) for ms in medians]
        from mirrorctl.catalog import Mirror

        ms_mirrors = [Mirror(name=f"{ms}ms", url=s.url) for ms, s in zip(medians, jittered)]
        for _ in range(args.runs):
            report = run_bench(ms_mirrors, samples=samples, timeout=args.timeout)
            wins += report.fastest == "20ms"
            for r in report.results:
                if r.median_ms is not None:
                    medians[int(r.name[:-2])].append(r.median_ms)

    print(f"mirrorctl bench, {k} loopback mirrors at {latency * 1000:.0f} ms each, {samples} samples "
          f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    print(f"  floor (samples x slowest latency)      {floor:6.3f} s")
    print(f"  goal: 1.2 x floor + 0.3 s              {limit:6.3f} s")
    print(f"  run_bench, first call (imports httpx)  {cold:6.3f} s   {verdict(cold <= limit)}")
    print(f"  run_bench, warm (median of {len(warm_runs)})          {warm:6.3f} s   {verdict(warm <= limit)}"
          f"   [{min(warm_runs):.3f} .. {max(warm_runs):.3f}]")
    if cli is not None:
        print(f"  `mirrorctl bench` as a new process     {cli:6.3f} s   {verdict(cli <= limit)}"
              f"   (Python start-up and imports included)")
        if fixed_cost is not None:
            print(f"    of which fixed cost of the process   {fixed_cost:6.3f} s"
                  f"   (median of 3 runs against a port that refuses at once)")
    else:
        print(f"  `mirrorctl bench` as a new process     not measured: {cli_fastest}")
    print(f"  sequential (one mirror after another)  {sequential:6.3f} s")
    speedup = sequential / warm
    print(f"  speed-up over sequential (warm)        {speedup:6.1f} x   {verdict(speedup >= 4 or k < 5)}"
          f"   (cold: {sequential / cold:.1f} x; at most {k:.0f} x with {k} equal mirrors)")
    added = with_hole - warm
    print(f"  black hole added (--timeout {args.timeout:g})       {added:6.3f} s   {verdict(added <= args.timeout)}"
          f"   -> {hole_result.error}; requests sent to it: {hole.request_count}")
    added_drip = with_drip - warm
    print(f"  slow drip added (--timeout {args.timeout:g})        {added_drip:6.3f} s   "
          f"{verdict(added_drip <= args.timeout)}   -> {drip_result.error}")
    spread = ", ".join(f"{ms} ms: median {statistics.median(v):.1f}" for ms, v in medians.items() if v)
    print(f"  accuracy, 20/40/80/160 ms +-25 % jitter: the 20 ms mirror won {wins}/{args.runs}   "
          f"{verdict(wins == args.runs)}")
    print(f"    measured ({spread})")


if __name__ == "__main__":
    main()
