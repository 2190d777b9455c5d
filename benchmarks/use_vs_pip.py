"""Time `mirrorctl use` against `pip config --user set`, side by side, in one run (issue 11, point 8).

Each run is a fresh process in a fresh throw-away HOME (so `use` really writes pip.conf and its
journal entry each time, and pip really writes its file), interleaved so that machine noise hits
both alike. `mirrorctl use URL --tool pip` writes the index through the whole transaction (lock,
journal, durable writes); `--no-verify`, as pip checks nothing either. Also timed: `python -c pass`
(the interpreter's own start-up, the floor of both), `mirrorctl --version`, and "core only": the
same switch with no CLI framework at all (the core's ``ops.use_mirror`` called straight from
``python -c``, its result rendered as `use` renders it), the floor that any lazier framework
import could reach.
Goal: `use` at most half of pip's time.

    python benchmarks/use_vs_pip.py [--runs 21]
"""

from __future__ import annotations

import argparse
import statistics
import shutil
import sys
import tempfile
from pathlib import Path

from status_vs_pip import print_times, sandbox_env, time_once  # this folder is on sys.path when run

URL = "https://pypi.tuna.tsinghua.edu.cn/simple"

# `use URL --tool pip --no-verify` without typer: the same context, core call, rendering and guard
CORE_ONLY = f"""
import sys
from mirrorctl import i18n
i18n.setup()
from mirrorctl import ops
from mirrorctl.cli.guard import guarded, make_context
from mirrorctl.context import Scope
from mirrorctl.render.results import render_change

def run():
    result = ops.use_mirror(make_context(), {URL!r}, tools=["pip"], scope=Scope.USER, dry_run=False, check=False,
                            command="mirrorctl use", verify=False)
    render_change(result, False)

sys.exit(guarded(run, verbose=False))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    mirrorctl = shutil.which("mirrorctl", path=str(Path(sys.executable).parent))
    ours = [mirrorctl] if mirrorctl else [sys.executable, "-m", "mirrorctl"]
    commands = {
        "mirrorctl use": ours + ["use", URL, "--tool", "pip", "--no-verify"],
        "pip config set": [sys.executable, "-m", "pip", "config", "--user", "set", "global.index-url", URL],
        "core only": [sys.executable, "-c", CORE_ONLY],
        "mirrorctl --version": ours + ["--version"],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs + 1):
            for name, cmd in commands.items():
                home = Path(tmp) / f"{run}-{len(times[name])}-{name.replace(' ', '_')}"
                home.mkdir()
                elapsed = time_once(cmd, sandbox_env(home))
                if run:  # the first round warms the file cache and writes bytecode
                    times[name].append(elapsed)
    print(f"{args.runs} runs each, interleaved, fresh processes and fresh HOMEs, python {sys.version.split()[0]}")
    print_times(times, ours="mirrorctl use", theirs="pip config set")
    floor = statistics.median(times["core only"]) / statistics.median(times["pip config set"])
    print(f"ratio core only/pip config set = {floor:.2f} (the same switch with no CLI framework imported)")

if __name__ == "__main__":
    main()
