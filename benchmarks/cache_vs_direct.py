"""Install the same ten wheels into a fresh virtualenv three times: straight from a loopback
mirror with 100 ms of injected latency per request, and through `mirrorctl cache` in front of
that same mirror. pip's own cache is off (``--no-cache-dir``) on both sides.

Goal (issue 10): the second and later installs through the cache at least 3x faster than straight.

    python benchmarks/cache_vs_direct.py [--latency 0.1] [--rounds 3] [--installer pip|uv]

Everything stays on 127.0.0.1 and in a temporary folder (HOME, the state folder, the engine's
data); the cache is stopped at the end. Needs devpi-server (``pip install 'pymirrorctl[cache]'``)
and pypiserver.
"""

from __future__ import annotations

import argparse
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the wheel maker and pypiserver runner of the tests

from servers import PypiServer, free_port, make_wheel  # noqa: E402

PACKAGES = [f"cachebench-{i}" for i in range(10)]


def make_wheels(folder: Path, payload: int) -> None:
    """Ten wheels; each carries ``payload`` random bytes so that files are not trivially small."""
    import zipfile

    for name in PACKAGES:
        wheel = make_wheel(folder, name)
        with zipfile.ZipFile(wheel, "a") as zf:  # an extra data file (not in RECORD: pip accepts that for data)
            zf.writestr(f"{name.replace('-', '_')}/blob.bin", os.urandom(payload))


class SlowProxy:
    """A loopback reverse proxy that waits ``latency`` seconds before forwarding each GET."""

    def __init__(self, upstream: str, latency: float):
        self.upstream = upstream.rstrip("/")
        self.latency = latency
        self.port = free_port()
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                self._forward("GET")

            def do_HEAD(self) -> None:  # noqa: N802 - uv asks for a wheel's size first
                self._forward("HEAD")

            def _forward(self, method: str) -> None:
                outer.requests += 1
                time.sleep(outer.latency)
                headers = {k: self.headers[k] for k in ("Accept", "Range") if self.headers.get(k)}
                req = urllib.request.Request(outer.upstream + self.path, headers=headers, method=method)
                try:
                    with urllib.request.urlopen(req, timeout=30) as answer:
                        status, body, got = answer.status, answer.read(), answer.headers
                except urllib.error.HTTPError as exc:
                    status, body, got = exc.code, exc.read(), exc.headers
                self.send_response(status)
                for key in ("Content-Type", "Content-Range", "Accept-Ranges", "Last-Modified", "ETag"):
                    if got.get(key):
                        self.send_header(key, got[key])
                length = got.get("Content-Length") if method == "HEAD" else None
                self.send_header("Content-Length", length or str(len(body)))
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:
                pass  # a client closing a kept-alive connection (uv does) is no news

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.port}/simple/"

    def __enter__(self) -> "SlowProxy":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def sandbox_env(root: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith(("PIP_", "UV_", "XDG_", "VIRTUAL_ENV", "MIRRORCTL_"))}
    home = root / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_STATE_HOME=str(home / ".state"),
               XDG_CONFIG_DIRS=str(root / "xdg"), MIRRORCTL_STATE_DIR=str(root / "state"),
               PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1",
               UV_NO_CONFIG="1", PYTHONPATH=str(HERE.parent / "src"))
    return env


def timed_install(installer: str, index: str, venv: Path, env: dict) -> float:
    """Seconds for one install of the ten wheels into a new, empty virtualenv."""
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if installer == "uv":
        cmd = [str(Path(sys.executable).parent / "uv"), "pip", "install", "--no-cache", "--python", str(python),
               "--index-url", index, *PACKAGES]
    else:
        cmd = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-cache-dir",
               "--index-url", index, *PACKAGES]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{installer} install from {index} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def mirrorctl(env: dict, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "mirrorctl", *args], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    if proc.returncode != 0:
        raise SystemExit(f"mirrorctl {' '.join(args)} failed:\n{proc.stderr}")
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to each mirror request")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--payload", type=int, default=256 * 1024, help="random bytes in each wheel")
    parser.add_argument("--installer", choices=("pip", "uv"), default="pip")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="cache-bench-"))
    env = sandbox_env(root)
    try:
        make_wheels(root / "packages", args.payload)
        with PypiServer(root / "packages", root / "pypiserver.log") as origin, \
                SlowProxy(origin.url.rsplit("/simple/", 1)[0], args.latency) as mirror:
            import json

            port = str(free_port())
            mirrorctl(env, "cache", "start", mirror.url, "--port", port)
            try:
                cache_url = json.loads(mirrorctl(env, "cache", "status", "--json", "--no-check").stdout)["url"]
                rows = []
                for round_no in range(1, args.rounds + 1):
                    before = mirror.requests
                    direct = timed_install(args.installer, mirror.url, root / "venv-direct", env)
                    direct_requests = mirror.requests - before
                    before = mirror.requests
                    cached = timed_install(args.installer, cache_url, root / "venv-cache", env)
                    cache_requests = mirror.requests - before
                    floor = timed_install(args.installer, origin.url, root / "venv-floor", env)
                    rows.append((round_no, direct, direct_requests, cached, cache_requests, floor))
            finally:
                mirrorctl(env, "cache", "stop")
        print(f"{args.installer}, {len(PACKAGES)} wheels of {args.payload // 1024} KiB, "
              f"{args.latency * 1000:.0f} ms per mirror request, the installer's own cache off")
        print(f"{'install':>7}  {'straight':>9}  {'(mirror requests)':>17}  {'via cache':>9}  "
              f"{'(mirror requests)':>17}  {'speed-up':>8}  {'no latency':>10}")
        for round_no, direct, dreq, cached, creq, floor in rows:
            print(f"{round_no:>7}  {direct:>8.2f}s  {dreq:>17}  {cached:>8.2f}s  {creq:>17}  {direct / cached:>7.1f}x"
                  f"  {floor:>9.2f}s")
        print("(no latency: straight from the mirror without the injected latency, the installer's own floor)")
        later = rows[1:]
        if later:
            worst = min(d / c for _, d, _, c, _, _ in later)
            verdict = "met" if worst >= 3 else "NOT met"
            print(f"2nd and later installs: at least {worst:.1f}x faster through the cache (goal 3x: {verdict})")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
