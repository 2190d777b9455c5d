"""Time `mirrorctl status` against `pip config list`, side by side, in one run.

Both run as fresh processes in a throw-away HOME holding the same pip.conf, interleaved so that
machine noise hits both alike. Prints the median and spread of each, and the ratio.
Goal (issue 2): mirrorctl status at most half of pip's time.

    python benchmarks/status_vs_pip.py [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PIP_CONF = """# a typical campus machine
[global]
index-url = https://pypi.tuna.tsinghua.edu.cn/simple
timeout = 60

[install]
no-warn-script-location = true
"""


def sandbox_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith(("PIP_", "UV_", "PIPENV_", "CONDA", "PDM_", "XDG_", "VIRTUAL_ENV"))}
    # an installed package has its bytecode; let both sides write and use theirs
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_STATE_HOME=str(home / ".state"),
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def time_once(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    mirrorctl = shutil.which("mirrorctl", path=str(Path(sys.executable).parent)) or shutil.which("mirrorctl")
    commands = {
        "mirrorctl status": [mirrorctl, "status"] if mirrorctl else [sys.executable, "-m", "mirrorctl", "status"],
        "pip config list": [sys.executable, "-m", "pip", "config", "list"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / ".config" / "pip").mkdir(parents=True)
        (home / ".config" / "pip" / "pip.conf").write_text(PIP_CONF)
        env = sandbox_env(home)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for cmd in commands.values():  # warm the file cache once
            time_once(cmd, env)
        for _ in range(args.runs):
            for name, cmd in commands.items():
                times[name].append(time_once(cmd, env))
    print(f"{args.runs} runs each, interleaved, fresh processes, python {sys.version.split()[0]}")
    print_times(times, ours="mirrorctl status", theirs="pip config list")


def print_times(times: dict, *, ours: str, theirs: str) -> None:
    """Median, min and max of each command, then the ratio of ours to theirs against the goal of 0.5."""
    width = max(len(name) for name in times) + 2
    print(f"{'command':<{width}} {'median':>9} {'min':>9} {'max':>9}")
    for name, values in times.items():
        print(f"{name:<{width}} {statistics.median(values) * 1000:8.0f}ms {min(values) * 1000:8.0f}ms "
              f"{max(values) * 1000:8.0f}ms")
    mine, other = statistics.median(times[ours]), statistics.median(times[theirs])
    verdict = "meets" if mine <= other / 2 else "misses"
    print(f"ratio {ours}/{theirs} = {mine / other:.2f} ({verdict} the goal of <= 0.50)")


if __name__ == "__main__":
    main()
