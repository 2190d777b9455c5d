"""PDM: [pypi] url in the user config.toml and the project's pdm.toml, judged by the real PDM."""

import json
import os
import subprocess
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from mirrorctl.catalog import Mirror
from mirrorctl.context import Context, Scope
from mirrorctl.targets import pdm

PDM = Path(sys.executable).parent / "pdm"
TUNA = "https://pypi.tuna.tsinghua.edu.cn/simple"
ALIYUN = "https://mirrors.aliyun.com/pypi/simple"
A = "https://a.example/simple"
B = "https://b.example/simple"
C = "https://c.example/simple"

pytestmark = pytest.mark.skipif(not PDM.exists(), reason="the real PDM is not installed here")

QUIET = {"PDM_CHECK_UPDATE": "false"}  # no update check (no network); not an index setting

# what PDM itself uses: the sources of the project it finds from the current folder
_SOURCES = """
import json
from pdm.core import Core
project = Core().create_project(None)
print(json.dumps([{"name": s.name, "url": s.url, "verify_ssl": s.verify_ssl} for s in project.sources]))
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def user_config(sandbox) -> Path:
    return sandbox.config / "pdm" / "config.toml"


def pdm_config(key: str, cwd) -> str:
    """`pdm config KEY`, as a user would ask it."""
    proc = subprocess.run([str(PDM), "config", key], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **QUIET}, stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def pdm_pypi_source(cwd) -> dict:
    """The ``pypi`` source PDM really resolves with (pyproject sources, env, project, user config)."""
    proc = subprocess.run([sys.executable, "-c", _SOURCES], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **QUIET}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return next(s for s in json.loads(proc.stdout) if s["name"] == "pypi")


def pdm_status(run, *args):
    result = run("status", "--tool", "pdm", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return result.json()["tools"][0]


@pytest.fixture
def project(sandbox) -> Path:
    folder = sandbox.root / "proj"
    write(folder / "pyproject.toml", '[project]\nname = "demo"\nversion = "0.1.0"\n')
    return folder


def test_user_scope_real_pdm_reports_it(run, sandbox):
    result = run("use", "tuna", "--tool", "pdm")
    assert result.exit_code == 0, result.stderr
    assert user_config(sandbox).read_text() == f'[pypi]\nurl = "{TUNA}"\n'
    assert pdm_config("pypi.url", sandbox.root) == TUNA
    assert pdm_pypi_source(sandbox.root)["url"] == TUNA
    assert pdm_status(run)["origin"]["path"] == str(user_config(sandbox))


def test_project_scope_real_pdm_reports_it_and_it_beats_the_user_file(run, sandbox, project):
    assert run("use", "aliyun", "--tool", "pdm").exit_code == 0
    result = run("use", "tuna", "--tool", "pdm", "--scope", "project", "--project", str(project))
    assert result.exit_code == 0, result.stderr
    assert (project / "pdm.toml").read_text() == f'[pypi]\nurl = "{TUNA}"\n'
    assert pdm_config("pypi.url", project) == TUNA
    assert pdm_config("pypi.url", sandbox.root) == ALIYUN  # outside the project: the user file
    st = pdm_status(run, "--project", str(project))
    assert st["index_url"] == TUNA and [s["value"] for s in st["shadowed"]] == [ALIYUN]


def test_a_subfolder_configures_the_project_root_pdm_finds(run, sandbox, project):
    sub = project / "src" / "demo"
    sub.mkdir(parents=True)
    assert run("use", "tuna", "--tool", "pdm", "--scope", "project", "--project", str(sub)).exit_code == 0
    assert (project / "pdm.toml").exists() and not (sub / "pdm.toml").exists()
    assert pdm_config("pypi.url", sub) == TUNA


@pytest.mark.parametrize("user, proj, legacy, env", [
    (A, None, None, None),
    (A, B, None, None),
    (None, B, None, None),
    (A, B, C, None),
    (A, B, None, TUNA),
    (None, None, None, TUNA),
    (None, None, None, None),
])
def test_status_agrees_with_the_real_pdm(run, sandbox, project, monkeypatch, user, proj, legacy, env):
    if user:
        write(user_config(sandbox), f'[pypi]\nurl = "{user}"\n')
    if proj:
        write(project / "pdm.toml", f'[pypi]\nurl = "{proj}"\n')
    if legacy:
        write(project / ".pdm.toml", f'[pypi]\nurl = "{legacy}"\n')
    if env:
        monkeypatch.setenv("PDM_PYPI_URL", env)
    st = pdm_status(run, "--project", str(project))
    assert st["index_url"] == pdm_config("pypi.url", project) == pdm_pypi_source(project)["url"]
    expected = env or legacy or proj or user
    assert st["origin"]["kind"] == ("env" if env else "file" if expected else "default")


def test_a_pypi_source_in_pyproject_wins_and_use_says_so(run, sandbox, project):
    write(project / "pyproject.toml", '[project]\nname = "demo"\nversion = "0"\n\n'
                                      f'[[tool.pdm.source]]\nname = "pypi"\nurl = "{A}"\n')
    result = run("use", "tuna", "--tool", "pdm", "--scope", "project", "--project", str(project))
    assert result.exit_code == 0
    assert f"pdm will still use {A}" in result.stderr and "tool.pdm.source" in result.stderr
    st = pdm_status(run, "--project", str(project))
    assert st["index_url"] == A == pdm_pypi_source(project)["url"]


def test_http_mirror_is_trusted_and_the_trust_goes_on_https(run, sandbox, project):
    assert run("use", "http://mirror.lan:8080/simple", "--tool", "pdm").exit_code == 0
    assert user_config(sandbox).read_text() == '[pypi]\nurl = "http://mirror.lan:8080/simple"\nverify_ssl = false\n'
    source = pdm_pypi_source(sandbox.root)
    assert source == {"name": "pypi", "url": "http://mirror.lan:8080/simple", "verify_ssl": False}
    assert run("use", "tuna", "--tool", "pdm").exit_code == 0
    assert user_config(sandbox).read_text() == f'[pypi]\nurl = "{TUNA}"\n'
    assert pdm_pypi_source(sandbox.root)["verify_ssl"] is True
    assert pdm.environment(Mirror(name="lan", url="http://mirror.lan/simple")) == {
        "PDM_PYPI_URL": "http://mirror.lan/simple", "PDM_PYPI_VERIFY_SSL": "false"}
    assert pdm.environment(Mirror(name="tuna", url=TUNA)) == {"PDM_PYPI_URL": TUNA}


COMMENTED = (
    "# my PDM settings\n"
    "[python]\n"
    "use_venv = true\n"
    "\n"
    "[pypi]\n"
    'url = "https://old.example/simple"  # from a guide\n'
    "json_api = true\n"
    "\n"
    "[pypi.private]\n"
    'url = "https://private.example/simple"\n'
)


def test_commented_config_round_trip_reset_and_undo(run, sandbox):
    path = write(user_config(sandbox), COMMENTED)
    dry = run("use", "tuna", "--tool", "pdm", "--dry-run")
    assert dry.exit_code == 0 and f'+url = "{TUNA}"' in dry.stdout and path.read_text() == COMMENTED
    assert run("use", "tuna", "--tool", "pdm").exit_code == 0
    assert path.read_text() == COMMENTED.replace('url = "https://old.example/simple"  # from a guide', f'url = "{TUNA}"')
    first = path.read_bytes()
    again = run("use", "tuna", "--tool", "pdm")
    assert again.exit_code == 0 and "already" in again.stdout and path.read_bytes() == first
    assert pdm_config("pypi.url", sandbox.root) == TUNA
    assert pdm_config("pypi.private.url", sandbox.root) == "https://private.example/simple"
    assert run("reset", "--tool", "pdm").exit_code == 0
    assert path.read_text() == COMMENTED.replace('url = "https://old.example/simple"  # from a guide\n', "")
    assert pdm_config("pypi.url", sandbox.root) == "https://pypi.org/simple"
    assert run("undo").exit_code == 0 and run("undo").exit_code == 0
    assert path.read_text() == COMMENTED


def test_reset_of_a_file_mirrorctl_created_removes_it(run, sandbox):
    assert run("use", "http://mirror.lan/simple", "--tool", "pdm").exit_code == 0
    assert run("reset", "--tool", "pdm").exit_code == 0
    assert not user_config(sandbox).exists()
    assert run("reset", "--tool", "pdm").exit_code == 0


def test_pdm_config_file_moves_the_user_file(run, sandbox, monkeypatch):
    moved = sandbox.root / "elsewhere" / "pdm.toml"
    monkeypatch.setenv("PDM_CONFIG_FILE", str(moved))
    assert run("use", "tuna", "--tool", "pdm").exit_code == 0
    assert moved.exists() and not user_config(sandbox).exists()
    assert pdm_config("pypi.url", sandbox.root) == TUNA
    assert pdm_status(run)["origin"]["path"] == str(moved)


def test_bad_toml_is_refused_in_one_line_and_nothing_is_written(run, sandbox):
    path = write(user_config(sandbox), "[pypi]\nurl = https://x\n")
    result = run("use", "tuna", "--tool", "pdm")
    assert result.exit_code == 4
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "line 2" in lines[0]
    assert path.read_text() == "[pypi]\nurl = https://x\n" and run("history", "--json").json() == []
    assert run("status", "--tool", "pdm").exit_code == 4


@pytest.mark.parametrize("content, key", [
    ("pypi = 3\n", "pypi"),
    ('pypi = "https://a.example/simple"\n', "pypi"),
    ("[pypi]\nurl = 3\n", "pypi.url"),
    ('[pypi]\nurl = ["https://a.example/simple"]\n', "pypi.url"),
    ('"pypi.url" = 3\n', "pypi.url"),
])
def test_a_value_of_the_wrong_type_is_refused_in_one_line_naming_file_and_key(run, sandbox, project, content, key):
    path = write(user_config(sandbox), content)
    for command in (("use", "tuna"), ("use", "http://mirror.lan/simple"), ("reset",)):
        result = run(*command, "--tool", "pdm")
        assert result.exit_code == 4, (command, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and f"{key} " in lines[0], result.stderr
    assert path.read_text() == content and run("history", "--json").json() == []
    status = run("status", "--tool", "pdm")
    assert status.exit_code == 4 and str(path) in status.stderr and key in status.stderr
    local = write(project / "pdm.toml", content)  # the project's file, the same
    result = run("use", "tuna", "--tool", "pdm", "--scope", "project", "--project", str(project))
    assert result.exit_code == 4 and str(local) in result.stderr and local.read_text() == content


def test_pypi_that_is_not_a_table_breaks_the_real_pdm_too(sandbox):
    write(user_config(sandbox), "pypi = 3\n")
    proc = subprocess.run([str(PDM), "config", "pypi.url"], capture_output=True, text=True, cwd=sandbox.root,
                          env={**os.environ, **QUIET}, stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode != 0


def test_a_pypi_source_in_pyproject_with_a_url_that_is_not_a_string_is_reported(run, sandbox, project):
    pyproject = write(project / "pyproject.toml", '[project]\nname = "demo"\nversion = "0"\n\n'
                                                  '[[tool.pdm.source]]\nname = "pypi"\nurl = 3\n')
    result = run("status", "--tool", "pdm", "--project", str(project))
    assert result.exit_code == 4 and str(pyproject) in result.stderr and "tool.pdm.source[0].url" in result.stderr


# what PDM computes for its site file (platformdirs' site_config_path), and its user file
_PDM_PATHS = """
from pdm.project.config import Config
import platformdirs
Config.get_defaults()
print(Config.site.config_file)
print(platformdirs.user_config_path("pdm") / "config.toml")
"""


@pytest.mark.parametrize("dirs", [None, "", ":", "  ", "rel:{x1}", ":{x2}", "{x1}:{x2}"])
@pytest.mark.parametrize("home", [None, "", "rel", "{x1}"])
def test_site_and_user_files_are_those_pdm_computes(sandbox, dirs, home):
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_CONFIG_DIRS", "XDG_CONFIG_HOME")}
    fill = {"x1": sandbox.root / "x1", "x2": sandbox.root / "x2"}
    if dirs is not None:
        env["XDG_CONFIG_DIRS"] = dirs.format(**fill)
    if home is not None:
        env["XDG_CONFIG_HOME"] = home.format(**fill)
    proc = subprocess.run([sys.executable, "-c", _PDM_PATHS], capture_output=True, text=True, env=env,
                          cwd=sandbox.root, timeout=120)
    assert proc.returncode == 0, proc.stderr
    site, user = proc.stdout.split("\n")[:2]
    ctx = Context(environ=env, platform="linux", cwd=sandbox.root)
    assert (str(pdm.site_file(ctx)), str(pdm.user_file(ctx))) == (site, user)


def test_the_site_file_with_xdg_config_dirs_unset_is_etc_xdg_under_root(run, sandbox, monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_DIRS")
    site = write(sandbox.etc / "etc" / "xdg" / "pdm" / "config.toml", f'[pypi]\nurl = "{A}"\n')
    st = pdm_status(run, "--root", str(sandbox.etc))
    assert st["index_url"] == A and st["origin"]["path"] == str(site)
    assert {f["path"]: f["kind"] for f in st["files"]}[str(site)] == "site"
    assert run("use", "tuna", "--tool", "pdm", "--root", str(sandbox.etc)).exit_code == 0
    st = pdm_status(run, "--root", str(sandbox.etc))
    assert st["index_url"] == TUNA and [s["value"] for s in st["shadowed"]] == [A]
    assert site.read_text() == f'[pypi]\nurl = "{A}"\n'  # the site file is only read


def test_in_use(run, sandbox, project, on_path):
    assert "pdm" not in run("use", "tuna", "--json").json()["tools"]
    on_path("pdm")
    assert "pdm" in run("use", "tuna", "--json").json()["tools"]
    ctx = Context(environ={**os.environ, "PATH": ""}, platform="linux", cwd=project)
    assert pdm.in_use(ctx, Scope.USER)  # configured there now
    assert not pdm.in_use(ctx, Scope.PROJECT)
    write(project / "pdm.lock", "# lock\n")
    assert pdm.in_use(ctx, Scope.PROJECT)


def test_paths_on_windows_macos_and_linux():
    win = Context(environ={"USERPROFILE": "C:\\Users\\li", "LOCALAPPDATA": "C:\\Users\\li\\AppData\\Local",
                           "PROGRAMDATA": "C:\\ProgramData"}, platform="win32", cwd=PureWindowsPath("C:\\work"))
    assert str(pdm.config_path(win, Scope.USER)) == "C:\\Users\\li\\AppData\\Local\\pdm\\pdm\\config.toml"
    assert str(pdm.site_file(win)) == "C:\\ProgramData\\pdm\\pdm\\config.toml"
    mac = Context(environ={"HOME": "/Users/li"}, platform="darwin", cwd=PurePosixPath("/"))
    assert str(pdm.config_path(mac, Scope.USER)) == "/Users/li/Library/Application Support/pdm/config.toml"
    assert str(pdm.site_file(mac)) == "/Library/Application Support/pdm/config.toml"
    mac_xdg = Context(environ={"HOME": "/Users/li", "XDG_CONFIG_HOME": "/cfg"}, platform="darwin")
    assert str(pdm.config_path(mac_xdg, Scope.USER)) == "/cfg/pdm/config.toml"
    linux = Context(environ={"HOME": "/home/li", "XDG_CONFIG_DIRS": "/a:/b"}, platform="linux",
                    root=PurePosixPath("/img"))
    assert str(pdm.config_path(linux, Scope.USER)) == "/home/li/.config/pdm/config.toml"
    assert str(pdm.site_file(linux)) == "/img/a/pdm/config.toml"
    for value, site in ((":", "/Library/Application Support/pdm/config.toml"), ("rel:/a", "/a/pdm/config.toml")):
        mac_dirs = Context(environ={"HOME": "/Users/li", "XDG_CONFIG_DIRS": value}, platform="darwin")
        assert str(pdm.site_file(mac_dirs)) == site
    unset = Context(environ={"HOME": "/home/li"}, platform="linux", root=PurePosixPath("/img"))
    assert str(pdm.site_file(unset)) == "/img/etc/xdg/pdm/config.toml"
    relative = Context(environ={"HOME": "/home/li", "XDG_CONFIG_HOME": "rel"}, platform="linux")
    assert str(pdm.config_path(relative, Scope.USER)) == "/home/li/.config/pdm/config.toml"
    with pytest.raises(Exception) as err:
        pdm.config_path(linux, Scope.GLOBAL)
    assert "--scope user or project" in err.value.hint
