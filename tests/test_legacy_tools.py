"""easy_install (~/.pydistutils.cfg) and zc.buildout (~/.buildout/default.cfg): only with --tool.

easy_install is judged by setuptools' own reader of those files; buildout by zc.buildout's
parser when it is installed."""

import json
import os
import subprocess
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from mirrorctl.catalog import Mirror
from mirrorctl.context import Context, Scope
from mirrorctl.targets import buildout, easy_install

TUNA = "https://pypi.tuna.tsinghua.edu.cn/simple"
ALIYUN = "https://mirrors.aliyun.com/pypi/simple"

# setuptools reads ~/.pydistutils.cfg and ./setup.cfg the way easy_install did
_SETUPTOOLS = """
import json, warnings
warnings.simplefilter("ignore")
from setuptools.dist import Distribution
dist = Distribution()
dist.parse_config_files()
print(json.dumps(dist.get_option_dict("easy_install").get("index_url")))
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def setuptools_index_url(cwd):
    proc = subprocess.run([sys.executable, "-c", _SETUPTOOLS], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ), timeout=120)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    return found and found[1]


def tool_status(run, tool, *args):
    result = run("status", "--tool", tool, "--json", *args)
    assert result.exit_code == 0, result.stderr
    return result.json()["tools"][0]


def pydistutils(sandbox) -> Path:
    return sandbox.home / ".pydistutils.cfg"


def default_cfg(sandbox) -> Path:
    return sandbox.home / ".buildout" / "default.cfg"


# -- easy_install ----------------------------------------------------------------------

def test_easy_install_user_file_read_by_setuptools(run, sandbox):
    result = run("use", "tuna", "--tool", "easy_install")
    assert result.exit_code == 0, result.stderr
    assert pydistutils(sandbox).read_text() == f"[easy_install]\nindex_url = {TUNA}\n"
    assert setuptools_index_url(sandbox.root) == TUNA
    st = tool_status(run, "easy_install")
    assert st["mirror"] == "tuna" and st["origin"]["path"] == str(pydistutils(sandbox))


COMMENTED = (
    "# distutils settings\n"
    "[build_ext]\n"
    "inplace = 1\n"
    "\n"
    "[easy_install]\n"
    "; from an old guide\n"
    "index-url = https://old.example/simple\n"
    "zip_ok = false\n"
)


def test_easy_install_comments_kept_spelling_kept_reset_undo(run, sandbox):
    path = write(pydistutils(sandbox), COMMENTED)
    dry = run("use", "tuna", "--tool", "easy_install", "--dry-run")
    assert dry.exit_code == 0 and f"+index-url = {TUNA}" in dry.stdout and path.read_text() == COMMENTED
    assert run("use", "tuna", "--tool", "easy_install").exit_code == 0
    assert path.read_text() == COMMENTED.replace("https://old.example/simple", TUNA)
    assert setuptools_index_url(sandbox.root) == TUNA
    first = path.read_bytes()
    again = run("use", "tuna", "--tool", "easy_install")
    assert again.exit_code == 0 and "already" in again.stdout and path.read_bytes() == first
    assert run("reset", "--tool", "easy_install").exit_code == 0
    assert path.read_text() == COMMENTED.replace("index-url = https://old.example/simple\n", "")
    assert setuptools_index_url(sandbox.root) is None
    assert run("undo").exit_code == 0 and run("undo").exit_code == 0
    assert path.read_text() == COMMENTED


def test_easy_install_percent_is_escaped_for_configparser(run, sandbox):
    url = "https://user:p%40ss@mirror.example/simple"
    assert run("use", url, "--tool", "easy_install").exit_code == 0
    assert "p%%40ss" in pydistutils(sandbox).read_text()
    assert setuptools_index_url(sandbox.root) == url
    st = tool_status(run, "easy_install")
    assert st["index_url"] == "https://user:****@mirror.example/simple"  # status never shows a password


def test_easy_install_setup_cfg_of_the_project_wins(run, sandbox):
    write(pydistutils(sandbox), f"[easy_install]\nindex_url = {TUNA}\n")
    project = sandbox.root / "proj"
    write(project / "setup.cfg", f"[easy_install]\nindex_url = {ALIYUN}\n")
    st = tool_status(run, "easy_install", "--project", str(project))
    assert st["index_url"] == ALIYUN == setuptools_index_url(project)
    assert [s["value"] for s in st["shadowed"]] == [TUNA]


def test_easy_install_reset_removes_a_file_mirrorctl_created(run, sandbox):
    assert run("use", "tuna", "--tool", "easy_install").exit_code == 0
    assert run("reset", "--tool", "easy_install").exit_code == 0
    assert not pydistutils(sandbox).exists()
    assert run("reset", "--tool", "easy_install").exit_code == 0


# -- buildout --------------------------------------------------------------------------

def test_buildout_user_defaults(run, sandbox):
    result = run("use", "tuna", "--tool", "buildout")
    assert result.exit_code == 0, result.stderr
    assert default_cfg(sandbox).read_text() == f"[buildout]\nindex = {TUNA}\n"
    st = tool_status(run, "buildout")
    assert st["mirror"] == "tuna" and st["origin"]["section"] == "buildout"


def test_buildout_comments_kept_and_reset(run, sandbox):
    original = "# my defaults\n[buildout]\neggs-directory = /srv/eggs\nindex = https://old.example/simple\n"
    path = write(default_cfg(sandbox), original)
    assert run("use", "aliyun", "--tool", "buildout").exit_code == 0
    assert path.read_text() == original.replace("https://old.example/simple", ALIYUN)
    assert run("reset", "--tool", "buildout").exit_code == 0
    assert path.read_text() == "# my defaults\n[buildout]\neggs-directory = /srv/eggs\n"
    st = tool_status(run, "buildout")
    assert st["origin"]["kind"] == "default" and st["mirror"] == "official"


def test_buildout_home_and_dollar_escape(run, sandbox, monkeypatch):
    home = sandbox.root / "bhome"
    monkeypatch.setenv("BUILDOUT_HOME", str(home))
    assert run("use", "https://mirror.example/$weird/simple", "--tool", "buildout").exit_code == 0
    assert (home / "default.cfg").read_text() == "[buildout]\nindex = https://mirror.example/$$weird/simple\n"
    assert not default_cfg(sandbox).exists()
    assert tool_status(run, "buildout")["index_url"] == "https://mirror.example/$weird/simple"


def test_buildout_project_file_wins(run, sandbox):
    write(default_cfg(sandbox), f"[buildout]\nindex = {TUNA}\n")
    project = sandbox.root / "proj"
    write(project / "buildout.cfg", f"[buildout]\nparts =\nindex = {ALIYUN}\n")
    st = tool_status(run, "buildout", "--project", str(project))
    assert st["index_url"] == ALIYUN and [s["value"] for s in st["shadowed"]] == [TUNA]


def test_buildout_parser_reads_it(run, sandbox):
    configparser = pytest.importorskip("zc.buildout.configparser")
    assert run("use", "tuna", "--tool", "buildout").exit_code == 0
    with default_cfg(sandbox).open() as fp:
        parsed = configparser.parse(fp, str(default_cfg(sandbox)))
    assert parsed["buildout"]["index"] == TUNA


# -- both --------------------------------------------------------------------------------

def test_legacy_tools_are_configured_only_when_named(run, sandbox):
    write(pydistutils(sandbox), "[easy_install]\nzip_ok = false\n")
    write(default_cfg(sandbox), "[buildout]\n")
    result = run("use", "tuna", "--json")
    assert result.exit_code == 0 and result.json()["tools"] == ["pip"]
    assert pydistutils(sandbox).read_text() == "[easy_install]\nzip_ok = false\n"
    assert default_cfg(sandbox).read_text() == "[buildout]\n"
    assert easy_install.environment(Mirror(name="tuna", url=TUNA)) == {}
    assert buildout.environment(Mirror(name="tuna", url=TUNA)) == {}


def test_only_user_scope(run, sandbox):
    # --root: were the refusal missing, nothing of this machine's would be written
    result = run("use", "tuna", "--tool", "easy_install", "--scope", "global", "--root", str(sandbox.etc))
    assert result.exit_code == 2 and "easy_install takes --scope user" in result.stderr


@pytest.mark.parametrize("tool, path", [("easy_install", ".pydistutils.cfg"), ("buildout", ".buildout/default.cfg")])
def test_broken_file_is_refused_in_one_line(run, sandbox, tool, path):
    target = write(sandbox.home / path, "index = x\n")
    result = run("use", "tuna", "--tool", tool)
    assert result.exit_code == 4
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(target) in lines[0] and "line 1" in lines[0]
    assert target.read_text() == "index = x\n"
    assert run("status", "--tool", tool).exit_code == 4


def test_paths_on_windows():
    win = Context(environ={"USERPROFILE": "C:\\Users\\li"}, platform="win32", cwd=PureWindowsPath("C:\\work"))
    assert str(easy_install.config_path(win, Scope.USER)) == "C:\\Users\\li\\pydistutils.cfg"
    assert str(buildout.config_path(win, Scope.USER)) == "C:\\Users\\li\\.buildout\\default.cfg"
    assert [str(p) for _, p in easy_install.files_in_order(win)][-1] == "C:\\work\\setup.cfg"
    linux = Context(environ={"HOME": "/home/li"}, platform="linux", cwd=PurePosixPath("/src"))
    assert str(easy_install.config_path(linux, Scope.USER)) == "/home/li/.pydistutils.cfg"
    assert [str(p) for _, p in buildout.files_in_order(linux)] == ["/home/li/.buildout/default.cfg", "/src/buildout.cfg"]
