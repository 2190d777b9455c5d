"""Every byte back under faults: a six-file `use` killed, interrupted or failing at every step.

The faults come from outside mirrorctl's code: tests/fault_driver.py counts the file-system steps
of a real `mirrorctl use` process through Python's audit hooks and, at the chosen step, kills it
(SIGKILL), sends it a real SIGINT (Ctrl-C), or makes the step fail with ENOSPC; optionally a second
fault while it puts things back. Then a fresh `mirrorctl undo` must leave every file as it was
before the faulted command, with no stray file. A real full file system (a tiny tmpfs, as root)
covers the writes and fsyncs that audit hooks cannot see.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

DRIVER = Path(__file__).with_name("fault_driver.py")
TOOLS = ("conda", "uv", "pdm", "pipenv")
PIP_CONF = b"# lab settings (keep)\r\n[global]\r\ntimeout = 60\r\nindex-url = https://pypi.org/simple\r\n\r\n; end\r\n"
CONDARC = b"# my conda\nchannels:\n  - defaults\nauto_activate_base: false\n"
BASHRC = b"# ~/.bashrc\nalias ll='ls -l'\nexport EDITOR=vi\n"


def make_world(root: Path) -> dict:
    """A HOME where pip, conda, pipenv, uv and PDM are in use: three files to edit, three to create (pipenv: ~/.bashrc and the login file ~/.profile)."""
    home, state, bin_dir = root / "home", root / "state", root / "bin"
    (home / ".config" / "pip").mkdir(parents=True)
    (home / ".config" / "pip" / "pip.conf").write_bytes(PIP_CONF)
    os.chmod(home / ".config" / "pip" / "pip.conf", 0o640)
    (home / ".condarc").write_bytes(CONDARC)
    (home / ".bashrc").write_bytes(BASHRC)
    bin_dir.mkdir()
    for name in TOOLS:
        exe = bin_dir / name
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
    return {**os.environ, "HOME": str(home), "USERPROFILE": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_STATE_HOME": str(home / ".local" / "state"), "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_CACHE_HOME": str(home / ".cache"), "XDG_CONFIG_DIRS": str(root / "xdg"),
            "MIRRORCTL_STATE_DIR": str(state), "PATH": os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"]),
            "SHELL": "/bin/bash", "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "200"}


def snapshot(home: Path) -> dict:
    """Every file (bytes and mode) and folder under HOME."""
    out = {}
    for path in sorted(home.rglob("*")):
        rel = str(path.relative_to(home))
        st = path.lstat()
        out[rel] = ("dir",) if stat.S_ISDIR(st.st_mode) else (path.read_bytes(), stat.S_IMODE(st.st_mode))
    return out


def mirrorctl(env: dict, *args: str, plan: str = "", log: Path | None = None, watch: Path | None = None):
    if plan or log:  # through the driver
        argv = [sys.executable, str(DRIVER), *args]
        env = {**env, "FAULT_PLAN": plan, "FAULT_WATCH": str(watch), "FAULT_LOG": str(log or "")}
    else:
        argv = [sys.executable, "-m", "mirrorctl", *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)


def steps_of(root: Path, *args: str, plan: str = "") -> list[str]:
    env = make_world(root)
    log = root.with_name(root.name + ".steps.log")  # outside the watched folder
    mirrorctl(env, *args, plan=plan, log=log, watch=root)
    return log.read_text().splitlines() if log.exists() else []


def run_case(root: Path, plan: str) -> str | None:
    """Fault a `use tuna` by ``plan``, then `undo`; None if every byte is back, else what went wrong."""
    env = make_world(root)
    home = Path(env["HOME"])
    before = snapshot(home)
    faulted = mirrorctl(env, "use", "tuna", plan=plan, watch=root)
    if "Traceback" in faulted.stderr or "internal error" in faulted.stderr:
        return f"{plan}: the faulted command crashed: {faulted.stderr.strip()[-300:]}"
    undo = mirrorctl(env, "undo")
    if undo.returncode not in (0, 8):
        return f"{plan}: undo exited {undo.returncode}: {undo.stderr.strip()}"
    after = snapshot(home)
    if after != before:
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        return f"{plan}: not as before (faulted exit {faulted.returncode}, undo exit {undo.returncode}): {changed}"
    again = mirrorctl(env, "undo")  # the change before it (none here) is not taken back as well
    if again.returncode != 8:
        return f"{plan}: a second undo found something ({again.returncode}): {again.stdout} {again.stderr}"
    return None


def run_all(tmp_path: Path, plans: list[str]) -> list[str]:
    def one(n_plan):
        n, plan = n_plan
        root = tmp_path / f"case{n}"
        root.mkdir()
        try:
            return run_case(root, plan)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return [r for r in pool.map(one, enumerate(plans)) if r]


@pytest.fixture(scope="module")
def steps(tmp_path_factory) -> list[str]:
    root = tmp_path_factory.mktemp("count")
    return steps_of(root / "world", "use", "tuna")


def test_the_use_under_test_writes_six_files(tmp_path):
    env = make_world(tmp_path)
    result = mirrorctl(env, "use", "tuna", "--json")
    assert result.returncode == 0, result.stderr
    data = __import__("json").loads(result.stdout)
    assert sorted(data["tools"]) == ["conda", "pdm", "pip", "pipenv", "uv"]
    actions = sorted(f["action"] for f in data["files"])
    assert len(data["files"]) == 6 and actions.count("create") == 3 and actions.count("modify") == 3


def test_every_step_is_seen(steps):
    events = {line.split()[1] for line in steps}
    assert {"open", "os.rename"} <= events and len(steps) >= 15, steps


@pytest.mark.parametrize("kind", ["kill", "int", "enospc"])
def test_a_fault_at_every_step_leaves_every_byte_back_after_undo(tmp_path, steps, kind):
    failures = run_all(tmp_path, [f"{n}:{kind}" for n in range(1, len(steps) + 1)])
    assert not failures, "\n".join(failures)


def test_a_second_fault_while_putting_back_still_leaves_every_byte_back(tmp_path, steps):
    """ENOSPC where the first file is swapped in, where the last one is, and at the commit mark starts
    a rollback; a kill hits each step of that rollback, and a second ENOSPC each step of the longest
    one. (Every first step is covered by the test above; this matrix is the costly one.)"""
    swaps = [n for n, line in enumerate(steps, 1)
             if line.split()[1] in ("os.rename", "os.link") and "/home/" in line.split(" ", 2)[2]]
    commit_mark = max(n for n, line in enumerate(steps, 1) if "entry.json" in line)
    firsts = [swaps[0], swaps[-1], commit_mark]
    plans = []
    for n in firsts:
        extra = len(steps_of(tmp_path / "count", "use", "tuna", plan=f"{n}:enospc")) - n
        shutil.rmtree(tmp_path / "count", ignore_errors=True)
        plans += [f"{n}:enospc,{m}:kill" for m in range(n + 1, n + extra + 1)]
        if n == firsts[-2]:  # the last swap: every file is in, the longest rollback
            plans += [f"{n}:enospc,{m}:enospc" for m in range(n + 1, n + extra + 1)]
    assert len(swaps) >= 8 and len(plans) > 2 * len(firsts)
    failures = run_all(tmp_path, plans)
    assert not failures, f"{len(failures)} of {len(plans)} failed:\n" + "\n".join(failures)
