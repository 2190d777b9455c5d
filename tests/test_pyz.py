"""mirrorctl.pyz: built here (scripts/build_pyz.py), run with `python -I -S` on every Python installed.

The pyz is built once for this module. Its dependencies come from a folder of the pinned wheels
when there is one (``MIRRORCTL_PYZ_WHEELS``, else build/pyz-wheels: ``scripts/build_pyz.py
--wheels build/pyz-wheels --fetch`` fills it), so that it serves Python 3.9 on; otherwise from this
test environment as installed (nothing is downloaded), and then it serves the Python that built it
and newer, which the tests check too: an older Python gets a one-line refusal, not a traceback.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Optional

import pytest

from conftest import real_pip

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "scripts" / "build_pyz.py"
# read now: the sandbox fixture removes MIRRORCTL_* from the environment of each test
WHEELS = Path(os.environ.get("MIRRORCTL_PYZ_WHEELS") or REPO / "build" / "pyz-wheels")
PYENV = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
TIMEOUT = 120


def _interpreter(minor: int) -> Optional[Path]:
    """A CPython 3.<minor> installed here (pyenv's, else on PATH), or None."""
    for candidate in sorted(PYENV.glob(f"versions/3.{minor}.*/bin/python"), reverse=True):
        if candidate.is_file():
            return candidate
    for folder in ("/usr/bin", "/usr/local/bin"):
        candidate = Path(folder) / f"python3.{minor}"
        if candidate.is_file():
            return candidate
    return None


SUPPORTED = [9, 10, 11, 12, 13, 14]  # the pyz serves Python 3.9 on
TOO_OLD = [6, 7, 8]


@pytest.fixture(params=SUPPORTED, ids=lambda minor: f"py3.{minor}", scope="module")
def python(request, pyz) -> Path:
    """Each Python >= 3.9 installed here; one the pyz cannot serve must refuse it in one line."""
    exe = _interpreter(request.param)
    if exe is None:
        pytest.skip(f"no Python 3.{request.param} installed here")
    if (3, request.param) < pyz.floor:
        proc = _run([str(exe), "-I", "-S", str(pyz.path), "--version"])
        assert proc.returncode == 1 and proc.stdout == "", proc
        assert f"needs Python {pyz.floor[0]}.{pyz.floor[1]} or newer" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
        pytest.skip(f"this pyz was built from unpinned packages for Python >= {pyz.info['python'][2:]}; "
                    f"fill {WHEELS} (scripts/build_pyz.py --wheels DIR --fetch) to run it on 3.{request.param}")
    return exe


class Pyz:
    def __init__(self, path: Path):
        self.path = path
        with zipfile.ZipFile(path) as archive:
            self.names = archive.namelist()
            self.info = json.loads(archive.read("mirrorctl_pyz.json"))
        self.floor = tuple(int(part) for part in self.info["python"].lstrip(">=").split("."))

    def top_level_modules(self) -> list[str]:
        """The importable top-level names in the zip (packages and single-file modules)."""
        found = set()
        for name in self.names:
            first = name.split("/")[0]
            if name.endswith(".py") and "/" not in name and first != "__main__.py":
                found.add(first[:-3])
            elif "/" in name and name.endswith("/__init__.py") and name.count("/") == 1:
                found.add(first)
            elif "/" in name and name.count("/") == 2 and name.endswith("/__init__.py") and first == "ruamel":
                found.add(name.rsplit("/", 1)[0].replace("/", "."))  # ruamel.yaml: a namespace package
        return sorted(found)


def _build_module():
    """scripts/build_pyz.py, imported (it is a script, not a package)."""
    sys.path.insert(0, str(BUILD.parent))
    try:
        import build_pyz
    finally:
        sys.path.pop(0)
    return build_pyz


def _pinned_wheels_present() -> bool:
    if not WHEELS.is_dir():
        return False
    build_pyz = _build_module()
    pins, _ = build_pyz.read_pins()
    have = {(build_pyz.canonical(w.name.split("-")[0]), w.name.split("-")[1]) for w in WHEELS.glob("*.whl")}
    return all((name, version) in have for name, version in pins.items())


@pytest.fixture(scope="module")
def pyz(tmp_path_factory) -> Pyz:
    out = tmp_path_factory.mktemp("pyz") / "mirrorctl.pyz"
    if _pinned_wheels_present():
        source = ["--wheels", str(WHEELS)]
    else:
        source = ["--from-env", "--unpinned"]
    proc = subprocess.run([sys.executable, str(BUILD), "-o", str(out), *source],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return Pyz(out)


def _run(argv: list, env: Optional[dict] = None, cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def _mirrorctl(python: Path, pyz: Pyz, *args: str) -> subprocess.CompletedProcess:
    """`python -I -S mirrorctl.pyz ARGS`: no site-packages, no PYTHON* variables."""
    return _run([str(python), "-I", "-S", str(pyz.path), *args])


# --- what goes in ---------------------------------------------------------------------------

def test_the_pyz_holds_mirrorctl_its_catalogue_and_only_pure_python(pyz):
    names = set(pyz.names)
    assert {"__main__.py", "mirrorctl/__init__.py", "mirrorctl/cli/__init__.py", "mirrorctl/mirrors.toml"} <= names
    assert (REPO / "mirrors.toml").read_bytes() == zipfile.ZipFile(pyz.path).read("mirrorctl/mirrors.toml")
    assert not [n for n in names if n.endswith((".so", ".pyd", ".dylib", ".pyc")) or "__pycache__" in n]
    # each dependency's licence travels with it (its dist-info), the installer's RECORD does not
    assert any(re.match(r"certifi-[^/]+\.dist-info/(licenses/)?LICENSE", n) for n in names)
    assert not [n for n in names if n.endswith(".dist-info/RECORD")]
    for top in ("typer", "rich", "httpx", "httpcore", "h11", "anyio", "idna", "certifi", "tomlkit",
                "configupdater", "ruamel.yaml", "fasteners", "shellingham", "pygments", "markdown_it"):
        assert top in pyz.top_level_modules(), top
    assert pyz.path.read_bytes().startswith(b"#!/usr/bin/env python3\n")


def test_the_pins_cover_every_dependency_on_every_supported_python():
    """scripts/pyz-requirements.txt names every distribution that mirrorctl's dependencies pull in
    on Python 3.9 to 3.14, and on Python 3.9 each pinned version satisfies what asks for it."""
    import tomllib

    from packaging.requirements import Requirement

    build_pyz = _build_module()
    pins, floor = build_pyz.read_pins()
    assert floor == (3, 9)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.9"
    requires = {"mirrorctl": [Requirement(r) for r in project["dependencies"]]}
    if _pinned_wheels_present():  # each pinned wheel's own requirements, as released
        for wheel in WHEELS.glob("*.whl"):
            name = build_pyz.canonical(wheel.name.split("-")[0])
            if pins.get(name) != wheel.name.split("-")[1]:
                continue
            with zipfile.ZipFile(wheel) as archive:
                meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
                text = archive.read(meta).decode()
            requires[name] = [Requirement(line.split(":", 1)[1].strip()) for line in text.splitlines()
                              if line.startswith("Requires-Dist:")]
    missing = []
    platforms = [("Linux", "linux", "posix"), ("Windows", "win32", "nt"), ("Darwin", "darwin", "posix")]
    for who, reqs in requires.items():
        for req in reqs:
            for minor, (system, platform, os_name) in itertools.product(range(9, 15), platforms):
                env = {"python_version": f"3.{minor}", "python_full_version": f"3.{minor}.0", "extra": "",
                       "platform_python_implementation": "CPython", "implementation_name": "cpython",
                       "platform_system": system, "sys_platform": platform, "os_name": os_name}
                if req.marker is not None and not req.marker.evaluate(env):
                    continue
                name = build_pyz.canonical(req.name)
                if name == "ruamel-yaml-clib":
                    continue  # compiled and optional: ruamel.yaml runs without it
                if name not in pins:
                    missing.append(f"{who} needs {req} on 3.{minor} ({system})")
                elif minor == 9 and not req.specifier.contains(pins[name], prereleases=True):
                    missing.append(f"{who} needs {req} on 3.9; the pin is {pins[name]}")
    assert not missing, missing


def test_the_build_refuses_a_compiled_extension(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_pyz = _build_module()
    pins, _ = build_pyz.read_pins()
    for name, version in pins.items():
        with zipfile.ZipFile(wheels / f"{name.replace('-', '_')}-{version}-py3-none-any.whl", "w") as whl:
            whl.writestr(f"{name.replace('-', '_')}/__init__.py", "")
            if name == "fasteners":
                whl.writestr("fasteners/_speedups.cpython-311-x86_64-linux-gnu.so", b"\x7fELF")
    proc = _run([sys.executable, str(BUILD), "--wheels", str(wheels), "-o", str(tmp_path / "x.pyz")])
    assert proc.returncode == 1
    assert "fasteners/_speedups.cpython-311-x86_64-linux-gnu.so is a compiled extension" in proc.stderr
    assert not (tmp_path / "x.pyz").exists()


# --- what it does, on each Python -----------------------------------------------------------

def test_use_status_undo_with_nothing_installed(python, pyz, sandbox, index):
    version = _mirrorctl(python, pyz, "--version")
    assert version.returncode == 0 and version.stdout.startswith("mirrorctl "), version

    used = _mirrorctl(python, pyz, "use", index.url, "--tool", "pip")
    assert used.returncode == 0, used.stderr
    text = sandbox.user_pip_conf.read_text()
    assert f"index-url = {index.url}" in text and f"trusted-host = 127.0.0.1:{index.port}" in text

    # that Python's own pip now installs from the loopback index
    target = sandbox.root / "dl"
    proc = real_pip("download", "--no-deps", "--no-cache-dir", "-d", str(target), "mirrorctl-demo",
                    python=python, check=False)
    if "No module named pip" not in proc.stderr:
        assert proc.returncode == 0, proc.stderr
        assert [p.name for p in target.iterdir()] == ["mirrorctl_demo-1.0-py3-none-any.whl"]
        assert "/simple/mirrorctl-demo/" in index.requests()

    status = _mirrorctl(python, pyz, "status", "--json")
    assert status.returncode == 0, status.stderr
    pip = _tool(status.stdout, "pip")
    assert pip["index_url"] in (index.url, index.url.rstrip("/"))
    assert pip["origin"]["path"] == str(sandbox.user_pip_conf)
    plain = _mirrorctl(python, pyz, "status")
    assert plain.returncode == 0 and str(sandbox.user_pip_conf) in plain.stdout

    undone = _mirrorctl(python, pyz, "undo")
    assert undone.returncode == 0, undone.stderr
    assert not sandbox.user_pip_conf.exists()
    again = _mirrorctl(python, pyz, "undo")
    assert again.returncode == 8, again  # NOTHING_TO_UNDO
    assert _tool(_mirrorctl(python, pyz, "status", "--json").stdout, "pip")["origin"]["kind"] == "default"


def _tool(status_json: str, name: str) -> dict:
    return next(tool for tool in json.loads(status_json)["tools"] if tool["tool"] == name)


def test_bench_a_loopback_index(python, pyz, sandbox, index):
    proc = _mirrorctl(python, pyz, "bench", index.url, "--package", "mirrorctl-demo", "--samples", "2",
                      "--timeout", "20", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert index.url.rstrip("/") in json.dumps(report)
    assert report["fastest"] is not None
    assert "/simple/mirrorctl-demo/" in index.requests()
    # an index that is not there: a named failure and exit 7, not a traceback
    dead = _mirrorctl(python, pyz, "bench", "http://127.0.0.1:9/simple/", "--samples", "1", "--json")
    assert dead.returncode == 7, dead
    assert "Traceback" not in dead.stderr


# what the check below runs inside the interpreter: the real command through the pyz's own
# __main__, then, at exit, every bundled module imported and where each loaded module came from
_AUDIT = r"""
import atexit, json, runpy, sys, sysconfig
pyz, out, args = sys.argv[1], sys.argv[2], sys.argv[3:]

def audit():
    import importlib, zipfile, ssl
    with zipfile.ZipFile(pyz) as archive:
        tops = set()
        for name in archive.namelist():
            parts = name.split("/")
            if len(parts) == 1 and name.endswith(".py") and name != "__main__.py":
                tops.add(name[:-3])
            elif len(parts) == 2 and parts[1] == "__init__.py":
                tops.add(parts[0])
    tops.add("ruamel.yaml")
    failed = {}
    for name in sorted(tops):
        try:
            importlib.import_module(name)
        except Exception as exc:
            failed[name] = repr(exc)
    import certifi, httpx
    with open(certifi.where(), "rb") as bundle:
        pem = bundle.read().count(b"-----BEGIN CERTIFICATE-----")
    httpx.create_ssl_context()  # loads certifi's bundle out of the zip
    from ruamel.yaml import YAML
    import io
    yaml = YAML()
    doc = yaml.load("# keep\nchannels: [defaults]\n")
    doc["channels"].append("conda-forge")
    buf = io.StringIO()
    yaml.dump(doc, buf)
    files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
    paths = sysconfig.get_paths()
    with open(out, "w") as handle:
        json.dump({"files": files, "failed": failed, "tops": sorted(tops), "certificates": pem, "version": list(sys.version_info[:2]),
                   "yaml": buf.getvalue(), "stdlib": [paths["stdlib"], paths["platstdlib"]],
                   "path": sys.path}, handle)

atexit.register(audit)
sys.argv = [pyz] + args
sys.path.insert(0, pyz)  # where `python mirrorctl.pyz` keeps it (run_path takes its own copy out after)
runpy.run_path(pyz, run_name="__main__")
"""


def _audit(python: Path, pyz: Pyz, tmp: Path, flags: list, *args: str) -> dict:
    out = tmp / "audit.json"
    proc = _run([str(python), *flags, "-c", _AUDIT, str(pyz.path), str(out), *args])
    assert proc.returncode == 0 and out.is_file(), proc.stderr
    return json.loads(out.read_text())


def _outsiders(found: dict, pyz: Pyz) -> list:
    stdlib = tuple(str(Path(p)) + os.sep for p in found["stdlib"])
    prefix = str(pyz.path) + os.sep
    return sorted(f"{name}: {file}" for name, file in found["files"].items()
                  if file and not file.startswith(prefix) and not file.startswith(stdlib))


def test_every_module_comes_from_the_pyz(python, pyz, sandbox, index):
    # bench (httpx, anyio, certifi) against the loopback index, then a use that edits INI, YAML and TOML
    found = _audit(python, pyz, sandbox.root, ["-I", "-S"], "bench", index.url, "--package", "mirrorctl-demo",
                   "--samples", "1", "--timeout", "20", "--json")
    assert not _outsiders(found, pyz)
    found = _audit(python, pyz, sandbox.root, ["-I", "-S"], "use", "tuna", "--tool", "pip", "--tool", "conda",
                   "--tool", "uv", "--tool", "pdm", "--dry-run")
    assert not found["failed"], found["failed"]
    assert not _outsiders(found, pyz)
    prefix = str(pyz.path) + os.sep
    for name in ["mirrorctl.catalog", "mirrorctl.targets.conda", *found["tops"]]:  # every bundled module
        assert (found["files"].get(name) or "").startswith(prefix), (name, found["files"].get(name))
    assert {"mirrorctl", "typer", "rich", "httpx", "certifi", "tomlkit", "ruamel.yaml", "fasteners"} <= set(found["tops"])
    assert found["certificates"] > 50  # certifi's bundle, read out of the zip into a real file
    assert found["yaml"] == "# keep\nchannels: [defaults, conda-forge]\n"
    if tuple(found["version"]) < (3, 11):  # the catalogue is read with tomli there (tomllib after)
        assert found["files"]["tomli"].startswith(prefix)


def test_the_pyz_wins_over_installed_packages(pyz, sandbox, index):
    """With site-packages on (this test environment, with other versions of every dependency
    installed), the pyz's own copies are still the ones imported."""
    if tuple(sys.version_info[:2]) < pyz.floor:
        pytest.skip("this Python is older than the pyz serves")
    found = _audit(Path(sys.executable), pyz, sandbox.root, ["-I"], "status")
    assert any("site-packages" in entry for entry in found["path"])  # the installed ones were reachable
    assert not found["failed"], found["failed"]
    assert not _outsiders(found, pyz)
    assert found["files"]["typer"].startswith(str(pyz.path) + os.sep)


@pytest.mark.parametrize("minor", TOO_OLD, ids=lambda minor: f"py3.{minor}")
def test_an_older_python_is_told_in_one_line(minor, pyz):
    exe = _interpreter(minor)
    if exe is None:
        pytest.skip(f"no Python 3.{minor} installed here")
    proc = _run([str(exe), "-I", "-S", str(pyz.path), "use", "tuna"])
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines()[0].startswith(
        f"mirrorctl: this mirrorctl.pyz needs Python {pyz.floor[0]}.{pyz.floor[1]} or newer (this is 3.{minor}.")
    assert "Traceback" not in proc.stderr
