"""The distribution name (pymirrorctl) and the install lines of README and docs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DIST = "pymirrorctl"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("hatchling")
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--no-index", "-w", str(out), str(REPO)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return next(out.glob(f"{DIST}-*.whl"))


def test_the_wheel_is_named_pymirrorctl_and_installs_the_mirrorctl_command(wheel):
    with zipfile.ZipFile(wheel) as zf:
        dist_info = next(n.split("/")[0] for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = zf.read(f"{dist_info}/METADATA").decode()
        entry_points = zf.read(f"{dist_info}/entry_points.txt").decode()
    assert re.search(r"^Name: pymirrorctl$", metadata, re.M)
    assert re.search(r"^mirrorctl = mirrorctl\.cli:main$", entry_points, re.M)


def test_the_installed_wheel_runs_from_its_own_environment(wheel, tmp_path):
    """Install the wheel into a new virtualenv (its dependencies borrowed from the test environment,
    no index) and run the `mirrorctl` script it puts on PATH."""
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only what the venv itself holds
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.check_output([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                        text=True, env=env).strip())
    (site / "borrowed-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                           str(wheel)], capture_output=True, text=True, timeout=300, env=env)
    if proc.returncode != 0 and "no such option: --python" in proc.stderr:
        pytest.skip("this pip cannot install into another environment (--python needs pip >= 22.3)")
    assert proc.returncode == 0, proc.stderr
    version = subprocess.run([str(venv / "bin" / "mirrorctl"), "--version"], capture_output=True, text=True, timeout=120,
                             env=env)
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("mirrorctl ")
    where = subprocess.check_output([str(python), "-c", "import mirrorctl; print(mirrorctl.__file__)"], text=True,
                                    env=env)
    assert where.startswith(str(site)), where


def _install_lines() -> list[tuple[str, str]]:
    out = []
    for doc in [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]:
        for line in doc.read_text(encoding="utf-8").splitlines():
            for match in re.finditer(r"\b(?:pipx|pip|uv tool|uv pip)\s+install\b([^`#\n&;|]*)", line):
                out.append((doc.name, match.group(1)))
    return out


def test_no_install_line_names_the_unrelated_mirrorctl_distribution():
    lines = _install_lines()
    assert lines, "the README has install lines"
    for doc, args in lines:
        words = [w.strip("'\"") for w in args.split() if not w.startswith("-")]
        assert "mirrorctl" not in words, f"{doc}: `install{args}` installs someone else's project"
        assert not any(w.startswith("mirrorctl[") for w in words), f"{doc}: `install{args}`"
