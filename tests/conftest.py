"""Shared fixtures. Every test runs in a sandbox: nothing reaches this machine's own configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

SANDBOX_PREFIXES = ("PIP_", "UV_", "PIPENV_", "CONDA", "PDM_", "POETRY_", "MIRRORCTL_", "XDG_", "VIRTUAL_ENV",
                    "PYTHONUSERBASE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "ZDOTDIR",
                    "WORKON_HOME", "PSMODULEPATH")


def _machine_sets_index() -> bool:
    """Whether this machine's /etc/pip.conf (which the real pip always reads) sets an index."""
    import configparser

    parser = configparser.RawConfigParser()
    try:
        parser.read("/etc/pip.conf")
    except configparser.Error:
        return True
    return any(key.replace("_", "-").lstrip("-") == "index-url"
               for section in parser.sections() for key in parser.options(section))


# tests that expect pip's built-in default index cannot hold where the machine's own
# global pip.conf names another one; they say so instead of failing
pip_default_index = pytest.mark.skipif(_machine_sets_index(),
                                       reason="this machine's /etc/pip.conf sets an index-url")


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# the real pipenv judges some tests; its test extra installs it (Python >= 3.10)
needs_pipenv = pytest.mark.skipif(not _installed("pipenv"), reason="the real pipenv is not installed here")


@dataclass
class Sandbox:
    root: Path
    home: Path
    config: Path  # XDG_CONFIG_HOME
    state: Path  # XDG_STATE_HOME
    etc: Path  # a --root for global scope

    @property
    def user_pip_conf(self) -> Path:
        return self.config / "pip" / "pip.conf"

    @property
    def global_pip_conf(self) -> Path:
        return self.etc / "etc" / "pip.conf"


@pytest.fixture(autouse=True)
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """HOME, XDG_*, APPDATA in temp folders; PIP_*, UV_*, PIPENV_*, CONDA*, PDM_* removed."""
    for name in list(os.environ):
        if name.upper().startswith(SANDBOX_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    root = tmp_path / "sandbox"
    box = Sandbox(root=root, home=root / "home", config=root / "home" / ".config",
                  state=root / "home" / ".local" / "state", etc=root / "sysroot")
    for folder in (box.home, box.etc):
        folder.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(box.home))
    monkeypatch.setenv("USERPROFILE", str(box.home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(box.config))
    monkeypatch.setenv("XDG_STATE_HOME", str(box.state))
    monkeypatch.setenv("XDG_DATA_HOME", str(box.home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(box.home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(root / "xdg-dirs"))
    monkeypatch.setenv("APPDATA", str(box.home / "AppData" / "Roaming"))
    monkeypatch.setenv("LOCALAPPDATA", str(box.home / "AppData" / "Local"))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")  # pip's own chatter; no index setting
    monkeypatch.setenv("PIP_NO_INPUT", "1")
    monkeypatch.setenv("SHELL", "/bin/bash")  # user-scope shell files: a known shell, in the sandbox HOME
    # messages in English whatever the developer's locale (it wins over LANG and LC_*; the Chinese tests set their own)
    monkeypatch.setenv("MIRRORCTL_LANG", "en")
    # a URL given to `use`/`add` is checked with a request before it is written; most tests give
    # made-up hosts (pypi.corp.example): no lookup of them. tests/test_first_hour.py checks for real.
    monkeypatch.setenv("MIRRORCTL_NO_VERIFY", "1")
    # tools "in use" are found on PATH: keep this machine's (and this venv's) tools out of it;
    # a test puts a tool there with the on_path fixture
    (root / "bin").mkdir()
    monkeypatch.setenv("PATH", os.pathsep.join([str(root / "bin"), "/usr/bin", "/bin"]))
    monkeypatch.chdir(root)
    # run as root with a HOME another user owns, mirrorctl keeps its journal in root's own home
    # (from the password database): in tests, never the real one
    from mirrorctl import context

    monkeypatch.setattr(context, "_own_home", lambda: root / "own-home")
    from mirrorctl import render

    render.reset_consoles()
    return box


@pytest.fixture(autouse=True)
def network_guard():
    """No connection and no DNS lookup off loopback (tests/netguard.py): refused before the
    system call, and the test fails. In this process only: subprocesses are not guarded."""
    from netguard import install

    guard = install()
    guard.violations.clear()
    guard.on = True
    try:
        yield guard
    finally:
        guard.on = False
    if guard.violations:
        found, guard.violations[:] = list(guard.violations), []
        pytest.fail("network access off loopback: " + "; ".join(found[:5]), pytrace=False)


@pytest.fixture
def index(sandbox: Sandbox):
    """A real pypiserver on 127.0.0.1 serving one wheel (mirrorctl-demo 1.0); .requests() is its log."""
    from servers import PypiServer, make_wheel

    packages = sandbox.root / "packages"
    make_wheel(packages)
    with PypiServer(packages, sandbox.root / "pypiserver.log") as server:
        yield server


@pytest.fixture
def on_path(sandbox: Sandbox):
    """on_path("conda") puts an executable of that name (a stub, or a link to ``target``) on PATH."""

    def _put(name: str, target: Optional[Path] = None) -> Path:
        exe = sandbox.root / "bin" / name
        if target is not None:
            exe.symlink_to(target)
        else:
            exe.write_text("#!/bin/sh\nexit 0\n")
            exe.chmod(0o755)
        return exe

    return _put


@dataclass
class RunResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        import json

        return json.loads(self.stdout)


@pytest.fixture
def run(monkeypatch):
    """Run the mirrorctl CLI in-process: run("use", "tuna") -> RunResult."""
    from typer.testing import CliRunner

    from mirrorctl import render
    from mirrorctl.cli import load_app

    app = load_app()

    def _run(*args: str, input: Optional[str] = None) -> RunResult:
        render.reset_consoles()
        monkeypatch.setattr(sys, "argv", ["mirrorctl", *args])  # the journal records the command line
        try:
            runner = CliRunner(mix_stderr=False)
        except TypeError:  # click >= 8.2 always keeps stderr apart
            runner = CliRunner()
        result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
        render.reset_consoles()
        return RunResult(result.exit_code, result.stdout, result.stderr)

    return _run


@pytest.fixture
def run_cli():
    """Run the mirrorctl CLI as a real process (python -m mirrorctl) in the sandboxed environment."""

    def _run(*args: str, env: Optional[dict] = None, cwd: Optional[Path] = None) -> RunResult:
        proc = subprocess.run([sys.executable, "-m", "mirrorctl", *args], capture_output=True, text=True,
                              env={**os.environ, **(env or {})}, cwd=cwd, stdin=subprocess.DEVNULL, timeout=120)
        return RunResult(proc.returncode, proc.stdout, proc.stderr)

    return _run


def make_venv(path: Path) -> Path:
    """A real virtualenv whose python runs the machine's pip (sys.prefix is ``path``)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(path)],
                   check=True, capture_output=True)
    return path


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@pytest.fixture
def venv(sandbox: Sandbox) -> Path:
    return make_venv(sandbox.root / "venv")


def real_pip(*args: str, python: Optional[Path] = None, env: Optional[dict] = None,
             check: bool = True) -> subprocess.CompletedProcess:
    """The real pip, in the sandboxed environment."""
    proc = subprocess.run([str(python or sys.executable), "-m", "pip", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"pip {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def pip_config_list(python: Optional[Path] = None, env: Optional[dict] = None) -> dict:
    """`pip config list` parsed: {"global.index-url": "...", ...}."""
    out = real_pip("config", "list", python=python, env=env).stdout
    values = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip("'")
    return values


_EFFECTIVE = """
import json, sys
from pip._internal.commands import create_command
out = {}
for name in sys.argv[1:]:
    opts, _ = create_command(name).parse_args([])
    out[name] = {"index_url": opts.index_url, "trusted_hosts": opts.trusted_hosts,
                 "extra_index_urls": opts.extra_index_urls}
print(json.dumps(out))
"""


def pip_effective(*commands: str, python: Optional[Path] = None, env: Optional[dict] = None) -> dict:
    """What the real pip resolves, through its own option parser (config files, sections, PIP_* vars)."""
    import json

    proc = subprocess.run([str(python or sys.executable), "-c", _EFFECTIVE, *(commands or ("install",))],
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"pip could not load its configuration:\n{proc.stderr}")
    return json.loads(proc.stdout)
