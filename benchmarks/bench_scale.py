"""Does `mirrorctl bench` name the right winner at any scale? N loopback mirrors, one server process.

One separate server process (this file with ``--serve``) serves N Simple-API mirrors on
127.0.0.1, each with its own round trip: 50 to 150 ms, evenly spread (0.5 ms apart at 200),
assigned to the ports in a shuffled order. Each answer waits its round trip (times 1 +- the
jitter, uniformly drawn), and the first request on a new connection waits one round trip more
(as a TCP handshake would cost). Pages weigh about 80 KB, shaped like the official index's page
for pip. Nothing leaves 127.0.0.1.

For each N in 5, 12, 50, 200 and each jitter (0 and +-25 %) it runs `python -m mirrorctl bench
URL... --json` as a fresh process (the URLs in a new random order each run, so that catalogue
order cannot help) and prints:

* right: runs in which the fastest mirror won (at N=200: the winner's place among all, the goal
  being the five fastest);
* ideal: runs in which an ideal client would have won: the median of the delays the server
  really injected for that run's samples (the server logs them), lowest wins;
* agree: runs in which mirrorctl's winner is the ideal client's (with jitter the two can both
  miss the fastest mirror, and agreeing is what a faithful measure does);
* wall time, process start included, against the floor: samples x the slowest round trip + one
  handshake (one more round trip of the slowest mirror);
* CPU time (user + system of the bench process) and its peak memory (max RSS);
* a sequential curl loop in the same run (one curl per mirror, one request each: time to first
  byte minus connect), its wall time and whether it picked the right one.

    python benchmarks/bench_scale.py [--sizes 5,12,50,200] [--runs 10] [--runs-200 3] [--samples 5]

Goals (issue 11): right in >= 9 of 10 runs at N <= 60 without jitter, among the five fastest at
200; with jitter as often as the ideal client; wall <= 1.3 x floor + 0.5 s; CPU linear in N.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[1]
MIN_RTT, MAX_RTT = 0.050, 0.150


# ---------------------------------------------------------------------------
# the server process


def pip_like_page(versions: int = 180) -> bytes:
    """About 80 KB: pip's page as the official index serves it (a wheel and an sdist per release)."""
    rows = []
    for i in range(versions):
        version = f"{i // 10 + 1}.{i % 10}"
        for name in (f"pip-{version}-py3-none-any.whl", f"pip-{version}.tar.gz"):
            rows.append(f'    <a href="https://files.example/packages/{i:02x}/{name}#sha256={"ab" * 32}" '
                        f'data-requires-python="&gt;=3.7" >{name}</a><br />')
    return ("<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n"
            "    <title>Links for pip</title>\n  </head>\n  <body>\n    <h1>Links for pip</h1>\n"
            + "\n".join(rows) + "\n  </body>\n</html>\n<!--SERIAL 25000000-->").encode()


class Mirror(asyncio.Protocol):
    def __init__(self, server: "Server", rtt: float) -> None:
        self.server, self.rtt, self.buffer, self.first = server, rtt, b"", True
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            path = head.split(b" ", 2)[1].decode()
            self.answer(path)

    def answer(self, path: str) -> None:
        loop = asyncio.get_running_loop()
        if path.startswith("/_delays"):
            body = json.dumps(self.server.log).encode()
            self.server.log = {}
            self.send(body, "application/json")
            return
        delay = self.rtt * (1 + random.uniform(-self.server.jitter, self.server.jitter))
        port = self.transport.get_extra_info("sockname")[1]
        self.server.log.setdefault(str(port), []).append([round(delay * 1000, 3), self.first])
        if self.first:
            delay += self.rtt  # the handshake's round trip
            self.first = False
        loop.call_later(delay, self.send, self.server.page, "text/html")

    def send(self, body: bytes, ctype: str) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype.encode() + b"\r\nContent-Length: "
                                 + str(len(body)).encode() + b"\r\n\r\n" + body)


class Server:
    def __init__(self, jitter: float) -> None:
        self.jitter, self.page, self.log = jitter, pip_like_page(), {}


async def serve(count: int, jitter: float, seed: int) -> None:
    random.seed(seed)
    server = Server(jitter)
    rtts = [MIN_RTT + (MAX_RTT - MIN_RTT) * i / max(1, count - 1) for i in range(count)]
    order = list(range(count))
    random.shuffle(order)  # which port gets which round trip
    loop = asyncio.get_running_loop()
    ports = {}
    for slot in order:
        rtt = rtts[slot]
        listener = await loop.create_server(lambda rtt=rtt: Mirror(server, rtt), "127.0.0.1", 0, backlog=1024)
        ports[listener.sockets[0].getsockname()[1]] = rtt
    control = await loop.create_server(lambda: Mirror(server, 0.0), "127.0.0.1", 0)
    print(json.dumps({"mirrors": ports, "control": control.sockets[0].getsockname()[1],
                      "bytes": len(server.page)}), flush=True)
    await asyncio.Event().wait()


# ---------------------------------------------------------------------------
# the driver


def control_log(port: int) -> Dict[str, list]:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_delays", timeout=10) as answer:
        return json.loads(answer.read())


def run_measured(urls: List[str], samples: int, env: dict) -> dict:
    """The bench as a fresh process; CPU and peak memory of that process alone (wait4)."""
    cmd = [sys.executable, "-m", "mirrorctl", "bench", *urls, "--samples", str(samples), "--timeout", "3", "--json"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        data = out.read()
        if proc.returncode != 0:
            raise SystemExit(f"mirrorctl bench failed ({proc.returncode}): {err.read().decode()[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "report": json.loads(data)}


def curl_loop(urls: List[str]) -> tuple:
    """One curl per mirror, one after another: time to first byte minus connect; (wall, fastest url)."""
    start = time.perf_counter()
    best = None
    for url in urls:
        proc = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{time_connect} %{time_starttransfer}",
                               f"{url}/pip/"], capture_output=True, text=True, timeout=30)
        connect, first = (float(x) for x in proc.stdout.split())
        if best is None or first - connect < best[0]:
            best = (first - connect, url)
    return time.perf_counter() - start, best[1] if best else None


def one_config(count: int, jitter: float, runs: int, samples: int, env: dict, with_curl: bool) -> dict:
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(count), "--jitter", str(jitter),
                               "--seed", str(count * 100 + int(jitter * 100))], stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(server.stdout.readline())
        rtts = {int(port): rtt for port, rtt in info["mirrors"].items()}
        by_speed = sorted(rtts, key=rtts.get)
        urls = [f"http://127.0.0.1:{port}/simple" for port in rtts]
        floor = samples * MAX_RTT + MAX_RTT
        rows = []
        rng = random.Random(count)
        for _ in range(runs):
            rng.shuffle(urls)
            control_log(info["control"])  # clear
            got = run_measured(urls, samples, env)
            log = control_log(info["control"])
            port = int(got["report"]["fastest"].rsplit(":", 1)[1]) if got["report"]["fastest"] else None
            ideal = min(log, key=lambda p: statistics.median([d for d, first in log[p] if not first][:samples]
                                                             or [1e9]))
            rows.append({"place": by_speed.index(port) + 1 if port else None, "ideal": int(ideal) == by_speed[0],
                         "agree": port == int(ideal),
                         "wall": got["wall"], "cpu": got["cpu"], "rss": got["rss_mb"]})
        curl = curl_loop(urls) if with_curl else None
    finally:
        server.terminate()
        server.wait()
    return {"n": count, "jitter": jitter, "rows": rows, "floor": floor, "curl": curl,
            "curl_right": curl is not None and curl[1] is not None and int(curl[1].rsplit(":", 1)[1].split("/")[0])
            == by_speed[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", type=int)
    parser.add_argument("--jitter", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sizes", default="5,12,50,200")
    parser.add_argument("--jitters", default="0,0.25")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--runs-200", type=int, default=3, help="runs at N >= 100")
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--no-curl", action="store_true")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.jitter, args.seed))
        return
    home = Path(tempfile.mkdtemp(prefix="mirrorctl-scale-"))
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith(("PIP_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "XDG_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), MIRRORCTL_STATE_DIR=str(home / "state"),
               PYTHONPATH=str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", ""))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "mirrorctl", "--version"], env=env, capture_output=True)  # bytecode
    print(f"mirrorctl bench --samples {args.samples} --timeout 3; round trips {MIN_RTT * 1000:.0f}-"
          f"{MAX_RTT * 1000:.0f} ms evenly spread, +1 round trip per new connection, ~80 KB pages")
    print(f"{'N':>4} {'jitter':>6} {'runs':>4} {'right':>6} {'places':>14} {'ideal':>6} {'wall med':>8} "
          f"{'agree':>6} {'max':>6} {'floor':>6} {'goal':>6} {'CPU med':>7} {'CPU/N ms':>8} {'RSS MB':>6}  curl loop")
    try:
        for count in (int(x) for x in args.sizes.split(",")):
            for jitter in (float(x) for x in args.jitters.split(",")):
                runs = args.runs if count < 100 else args.runs_200
                res = one_config(count, jitter, runs, args.samples, env, with_curl=not args.no_curl and jitter == 0)
                rows = res["rows"]
                right = sum(1 for r in rows if r["place"] == 1)
                places = ",".join(str(r["place"]) for r in rows) if count >= 100 else ""
                walls = [r["wall"] for r in rows]
                cpu = statistics.median(r["cpu"] for r in rows)
                curl = (f"{res['curl'][0]:6.1f} s, {'right' if res['curl_right'] else 'WRONG'}"
                        if res["curl"] else "-")
                print(f"{count:>4} {jitter:>6.2f} {len(rows):>4} {right:>3}/{len(rows):<2} {places:>14} "
                      f"{sum(r['ideal'] for r in rows):>3}/{len(rows):<2} {statistics.median(walls):>7.2f}s "
                      f"{sum(r['agree'] for r in rows):>3}/{len(rows):<2} {max(walls):>5.2f}s {res['floor']:>5.2f}s {1.3 * res['floor'] + 0.5:>5.2f}s "
                      f"{cpu:>6.2f}s {cpu / count * 1000:>8.1f} {max(r['rss'] for r in rows):>6.0f}  {curl}",
                      flush=True)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
