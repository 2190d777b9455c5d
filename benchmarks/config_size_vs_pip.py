"""`mirrorctl use` / `status` against `pip config set` / `pip config list` on large pip.conf files.

Each command runs as a real process (``python -m ...``, the way a user runs it), on a pip.conf of
1,000, 10,000 and 100,000 lines (sections with comments, several keys and continuation lines), in
a sandbox: HOME, XDG_* and mirrorctl's folders in a temp folder, every PIP_* variable removed
(PIP_CONFIG_FILE included), no network (the index URL is never contacted). The file is put back
before every run, the runs of the two tools alternate, and both run from bytecode (a first,
uncounted round fills a bytecode cache in the sandbox). Two tables: the median wall-clock time of
``--repeat`` runs, and the median CPU time (user + system: steadier on a busy machine).

    PYTHONPATH=$PWD/src python benchmarks/config_size_vs_pip.py [--sizes 1000,10000,100000] [--repeat 5]

Target: mirrorctl no slower than pip at every size.
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

URL = "http://127.0.0.1:9/simple"


def pip_conf(lines: int) -> str:
    """A pip.conf of exactly ``lines`` lines that pip and mirrorctl both read."""
    out = ["# pip configuration, generated for the benchmark", "[global]",
           "index-url = https://old.example.invalid/simple", "timeout = 10", ""]
    i = 0
    while len(out) < lines:
        out += [f"[tool-{i}]", f"# settings of tool {i}", f"key-a = value {i}", f"key-b = value-{i}",
                "key-c =", f"    continued value {i}", ""]
        i += 1
    return "\n".join(out[:lines]) + "\n"


def sandbox_env(root: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith(("PIP_", "MIRRORCTL_")) and k != "PYTHONDONTWRITEBYTECODE"}
    home = root / "home"
    env.update(HOME=str(home), USERPROFILE=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_STATE_HOME=str(home / ".local" / "state"), XDG_CACHE_HOME=str(home / ".cache"),
               XDG_DATA_HOME=str(home / ".local" / "share"), XDG_CONFIG_DIRS=str(root / "xdg"),
               MIRRORCTL_STATE_DIR=str(root / "state"), MIRRORCTL_CONFIG_DIR=str(root / "mirrorctl"),
               PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1",
               # both tools run from bytecode, as installed (a source checkout may have none yet)
               PYTHONPYCACHEPREFIX=str(root / "pycache"))
    return env


def timed(argv: list, env: dict) -> tuple:
    """(wall-clock seconds, CPU seconds of the process: user + system)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_size(lines: int, repeat: int, python: str) -> dict:
    root = Path(tempfile.mkdtemp(prefix="mirrorctl-bench-"))
    try:
        env = sandbox_env(root)
        conf = Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
        conf.parent.mkdir(parents=True)
        text = pip_conf(lines)
        commands = {
            "mirrorctl use": [python, "-m", "mirrorctl", "use", URL, "--tool", "pip"],
            "pip config set": [python, "-m", "pip", "config", "--user", "set", "global.index-url", URL],
            "mirrorctl status": [python, "-m", "mirrorctl", "status", "--tool", "pip"],
            "pip config list": [python, "-m", "pip", "config", "list"],
        }
        times: dict = {name: [] for name in commands}
        for run in range(repeat + 1):  # the first round (not counted) writes the bytecode caches
            for name, argv in commands.items():
                conf.write_text(text)  # every run starts from the same file ...
                shutil.rmtree(root / "state", ignore_errors=True)  # ... and an empty journal
                result = timed(argv, env)
                if run:
                    times[name].append(result)
        # and mirrorctl's result is what pip reads back
        conf.write_text(text)
        timed(commands["mirrorctl use"], env)
        listed = subprocess.run(commands["pip config list"], env=env, capture_output=True, text=True).stdout
        assert f"global.index-url='{URL}'" in listed, listed[:500]
        return {"lines": lines, "bytes": len(text.encode()),
                "wall": {name: statistics.median(w for w, _ in values) for name, values in times.items()},
                "cpu": {name: statistics.median(c for _, c in values) for name, values in times.items()}}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="pip.conf sizes in lines, comma list")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command per size (median shown)")
    parser.add_argument("--python", default=sys.executable, help="the Python that runs both mirrorctl and pip")
    args = parser.parse_args()
    rows = [run_size(int(size), args.repeat, args.python) for size in args.sizes.split(",")]
    worse = []
    for measure, what in (("wall", "wall-clock"), ("cpu", "CPU (user + system)")):
        header = (f"{'lines':>7} {'bytes':>9} | {'mirrorctl use':>13} {'pip config set':>14} {'ratio':>5} | "
                  f"{'mirrorctl status':>16} {'pip config list':>15} {'ratio':>5}")
        print(f"\n{what} seconds, median of {args.repeat} runs (ratio: mirrorctl / pip, below 1 is faster)")
        print(header)
        print("-" * len(header))
        for row in rows:
            t = row[measure]
            use_ratio = t["mirrorctl use"] / t["pip config set"]
            status_ratio = t["mirrorctl status"] / t["pip config list"]
            print(f"{row['lines']:>7} {row['bytes']:>9} | {t['mirrorctl use']:>13.3f} {t['pip config set']:>14.3f} "
                  f"{use_ratio:>5.2f} | {t['mirrorctl status']:>16.3f} {t['pip config list']:>15.3f} {status_ratio:>5.2f}")
            worse += [f"use at {row['lines']} lines ({measure})"] if use_ratio > 1 else []
            worse += [f"status at {row['lines']} lines ({measure})"] if status_ratio > 1 else []
    print("\nslower than pip: " + (", ".join(worse) if worse else "none"))

if __name__ == "__main__":
    main()
