"""Start-up of `python3 mirrorctl.pyz` against the installed `mirrorctl` command, side by side.

Builds the pyz (scripts/build_pyz.py: from build/pyz-wheels when it holds the pinned wheels, else
from this environment) unless --pyz names one, then times `--version` and `status` as fresh
processes in a throw-away HOME holding one pip.conf, interleaved so that machine noise hits both
alike. The installed command is the one beside this Python (an installed package has its bytecode
cached; the pyz has none: zipimport compiles what it imports on every start). Prints the pyz's
size and, per command, the median and spread of each and the ratio.

    python benchmarks/pyz_startup.py [--runs 21] [--pyz mirrorctl.pyz] [--python /usr/bin/python3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from status_vs_pip import time_once  # one fresh process, timed; this folder is on sys.path when run
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PIP_CONF = "[global]\nindex-url = https://pypi.tuna.tsinghua.edu.cn/simple\n"


def sandbox_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith(("PIP_", "UV_", "PIPENV_", "CONDA", "PDM_", "XDG_", "VIRTUAL_ENV",
                                        "MIRRORCTL_", "PYTHON"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_STATE_HOME=str(home / ".state"),
               MIRRORCTL_STATE_DIR=str(home / ".mirrorctl-state"))
    return env


def build(out: Path) -> None:
    wheels = REPO / "build" / "pyz-wheels"
    source = ["--wheels", str(wheels)] if wheels.is_dir() else ["--from-env", "--unpinned"]
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_pyz.py"), "-o", str(out), *source], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--pyz", type=Path, help="a built mirrorctl.pyz (default: build one now)")
    parser.add_argument("--python", default=sys.executable, help="the Python that runs the pyz")
    args = parser.parse_args()
    installed = shutil.which("mirrorctl", path=str(Path(sys.executable).parent)) or shutil.which("mirrorctl")
    if installed is None:
        raise SystemExit("no installed `mirrorctl` command beside this Python or on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        (home / ".config" / "pip").mkdir(parents=True)
        (home / ".config" / "pip" / "pip.conf").write_text(PIP_CONF)
        pyz = args.pyz
        if pyz is None:
            pyz = Path(tmp) / "mirrorctl.pyz"
            build(pyz)
        env = sandbox_env(home)
        print(f"pyz: {pyz} ({pyz.stat().st_size / 1024:.0f} KiB), run by {args.python} -I")
        print(f"installed: {installed}")
        for args_ in (["--version"], ["status"]):
            sides = {"installed": [installed, *args_], "pyz": [args.python, "-I", str(pyz), *args_]}
            for cmd in sides.values():  # warm-up: the installed side writes its bytecode cache
                time_once(cmd, env)
            times = {name: [] for name in sides}
            for _ in range(args.runs):
                for name, cmd in sides.items():
                    times[name].append(time_once(cmd, env))
            label = "mirrorctl " + " ".join(args_)
            for name, values in times.items():
                ms = [v * 1000 for v in values]
                quart = statistics.quantiles(ms, n=4)
                print(f"{label:20} {name:10} median {statistics.median(ms):6.0f} ms"
                      f"  (quartiles {quart[0]:.0f}-{quart[2]:.0f}, {args.runs} runs)")
            ratio = statistics.median(times["pyz"]) / statistics.median(times["installed"])
            print(f"{label:20} pyz / installed: {ratio:.2f}x")


if __name__ == "__main__":
    main()
