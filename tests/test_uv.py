"""uv: `mirrorctl use` / `reset` / `status` for uv.toml and pyproject [tool.uv], judged by the real uv."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from mirrorctl.catalog import Mirror
from mirrorctl.context import Context, Scope
from mirrorctl.targets import uv

UV = Path(sys.executable).parent / "uv"
TUNA = "https://pypi.tuna.tsinghua.edu.cn/simple"
ALIYUN = "https://mirrors.aliyun.com/pypi/simple"
A = "https://a.example/simple"
B = "https://b.example/simple"
C = "https://c.example/simple"
D = "https://d.example/simple"

pytestmark = pytest.mark.skipif(not UV.exists(), reason="the real uv is not installed here")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def user_toml(sandbox) -> Path:
    return sandbox.config / "uv" / "uv.toml"


def real_uv(*args, cwd=None, env=None, check=True) -> subprocess.CompletedProcess:
    """The real uv in the sandboxed environment (UV_* already removed by the sandbox)."""
    proc = subprocess.run([str(UV), *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"uv {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def uv_default_index(cwd=None, env=None, project_commands=False):
    """The default index the real uv resolves (its `--show-settings` dump): the first index
    marked default, else None (PyPI)."""
    if project_commands:
        proc = real_uv("lock", "--show-settings", cwd=cwd, env=env)
    else:
        proc = subprocess.run([str(UV), "pip", "compile", "--show-settings", "-"], input="", capture_output=True,
                              text=True, cwd=cwd, env={**os.environ, **(env or {})}, timeout=120)
        assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    block = text[text.find("index_locations"):text.find("flat_index")]
    for match in re.finditer(r'given: Some\(\s*"([^"]*)"', block):
        if re.search(r"default: (\w+)", block[match.end():]).group(1) == "true":
            return match.group(1)
    return None


def uv_status(run, *args):
    result = run("status", "--tool", "uv", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return result.json()["tools"][0]


def agree(run, cwd=None, env=None, *args):
    """mirrorctl's status for uv equals what the real uv resolves."""
    st = uv_status(run, *args)
    real = uv_default_index(cwd=cwd, env=env)
    assert st["index_url"] == (real or "https://pypi.org/simple")
    return st


def install_demo(sandbox, cwd=None, env=None) -> subprocess.CompletedProcess:
    target = sandbox.root / "target"
    proc = real_uv("pip", "install", "--python", sys.executable, "--target", str(target), "--no-cache",
                   "mirrorctl-demo", cwd=cwd, env=env)
    assert (target / "mirrorctl_demo" / "__init__.py").exists(), proc.stderr
    return proc


# -- the proof: the real uv downloads from the mirror ------------------------------------

def test_user_scope_real_uv_installs_from_the_local_index(run, sandbox, index):
    result = run("use", index.url, "--tool", "uv")
    assert result.exit_code == 0, result.stderr
    assert user_toml(sandbox).read_text() == (
        f'allow-insecure-host = ["127.0.0.1:{index.port}"]\n\n'
        f'[[index]]\nname = "mirrorctl"\nurl = "{index.url}"\ndefault = true\n')
    install_demo(sandbox)
    assert "/simple/mirrorctl-demo/" in index.requests()
    assert "mirrorctl_demo-1.0-py3-none-any.whl" in index.requests()


def test_project_scope_uv_toml_real_uv_installs_from_the_local_index(run, sandbox, index):
    project = sandbox.root / "proj"
    project.mkdir()
    result = run("use", index.url, "--tool", "uv", "--scope", "project", "--project", str(project))
    assert result.exit_code == 0, result.stderr
    assert (project / "uv.toml").exists() and not user_toml(sandbox).exists()
    install_demo(sandbox, cwd=project)
    assert "/simple/mirrorctl-demo/" in index.requests()


def test_project_scope_pyproject_tool_uv_real_uv_installs_from_the_local_index(run, sandbox, index):
    project = sandbox.root / "proj"
    pyproject = write(project / "pyproject.toml",
                      '[project]\nname = "demo"\nversion = "0.1.0"\n\n[tool.uv]\npackage = false\n')
    result = run("use", index.url, "--tool", "uv", "--scope", "project", "--project", str(project))
    assert result.exit_code == 0, result.stderr
    assert not (project / "uv.toml").exists()
    assert pyproject.read_text() == (
        '[project]\nname = "demo"\nversion = "0.1.0"\n\n[tool.uv]\npackage = false\n'
        f'allow-insecure-host = ["127.0.0.1:{index.port}"]\n\n'
        f'[[tool.uv.index]]\nname = "mirrorctl"\nurl = "{index.url}"\ndefault = true\n')
    install_demo(sandbox, cwd=project)
    assert "/simple/mirrorctl-demo/" in index.requests()


def test_environment_points_the_real_uv_at_the_mirror(sandbox, index):
    env = uv.environment(Mirror(name="lab", url=index.url))
    assert env == {"UV_DEFAULT_INDEX": index.url, "UV_INSECURE_HOST": f"127.0.0.1:{index.port}"}
    assert uv.environment(Mirror(name="tuna", url=TUNA)) == {"UV_DEFAULT_INDEX": TUNA}
    install_demo(sandbox, env=env)
    assert "/simple/mirrorctl-demo/" in index.requests()


# -- which file -----------------------------------------------------------------------

def test_uv_toml_wins_over_pyproject_in_one_folder(run, sandbox):
    project = sandbox.root / "proj"
    pyproject = write(project / "pyproject.toml", '[project]\nname = "demo"\nversion = "0"\n\n[tool.uv]\n')
    write(project / "uv.toml", "# uv settings\n")
    original = pyproject.read_bytes()
    assert run("use", "tuna", "--tool", "uv", "--scope", "project", "--project", str(project)).exit_code == 0
    assert pyproject.read_bytes() == original
    assert (project / "uv.toml").read_text() == f'# uv settings\n\n[[index]]\nname = "mirrorctl"\nurl = "{TUNA}"\ndefault = true\n'
    assert uv_default_index(cwd=project) == TUNA


def test_pyproject_without_tool_uv_gets_a_uv_toml_beside_it(run, sandbox):
    project = sandbox.root / "proj"
    pyproject = write(project / "pyproject.toml", '[project]\nname = "demo"\nversion = "0"\n')
    assert run("use", "tuna", "--tool", "uv", "--scope", "project", "--project", str(project)).exit_code == 0
    assert pyproject.read_text() == '[project]\nname = "demo"\nversion = "0"\n'
    assert (project / "uv.toml").exists()
    assert uv_default_index(cwd=project) == TUNA


def rooted(sandbox, path) -> Path:
    """Where an absolute ``path`` lies under ``--root sandbox.etc``."""
    return sandbox.etc / Path(path).relative_to("/")


def test_global_scope_writes_the_system_file_uv_reads(run, sandbox):
    xdg_dir = sandbox.root / "xdg-dirs"  # the sandbox's XDG_CONFIG_DIRS
    system = write(rooted(sandbox, xdg_dir) / "uv" / "uv.toml", "# site-wide uv settings\n")
    result = run("use", "aliyun", "--tool", "uv", "--scope", "global", "--root", str(sandbox.etc))
    assert result.exit_code == 0, result.stderr
    assert system.read_text().startswith("# site-wide uv settings\n\n[[index]]")
    assert not (sandbox.etc / "etc" / "uv" / "uv.toml").exists()
    # the real uv, given that folder list inside the root, reads the file written
    assert uv_default_index(env={"XDG_CONFIG_DIRS": str(rooted(sandbox, xdg_dir))}) == ALIYUN
    st = uv_status(run, "--root", str(sandbox.etc))
    assert st["mirror"] == "aliyun" and st["origin"]["path"] == str(system)


def test_global_scope_with_xdg_config_dirs_unset_writes_uv_s_default_etc_xdg_file(run, sandbox, monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_DIRS")
    root = sandbox.etc
    xdg_file = write(root / "etc" / "xdg" / "uv" / "uv.toml", "# site-wide\n")
    result = run("use", "tuna", "--tool", "uv", "--scope", "global", "--root", str(root))
    assert result.exit_code == 0, result.stderr
    assert xdg_file.read_text() == f'# site-wide\n\n[[index]]\nname = "mirrorctl"\nurl = "{TUNA}"\ndefault = true\n'
    assert not (root / "etc" / "uv").exists() and "still use" not in result.stderr
    st = uv_status(run, "--root", str(root))
    assert st["mirror"] == "tuna" and st["origin"]["path"] == str(xdg_file)
    assert uv_default_index(env={"XDG_CONFIG_DIRS": str(root / "etc" / "xdg")}) == TUNA
    # /etc/uv/uv.toml is read only when no XDG folder has a uv.toml
    etc_uv = write(root / "etc" / "uv" / "uv.toml", f'index-url = "{A}"\n')
    st = uv_status(run, "--root", str(root), "--files")
    assert st["mirror"] == "tuna" and st["shadowed"] == []
    skipped = {f["path"]: f["skipped"] for f in st["files"]}
    assert skipped[str(etc_uv)] and not skipped[str(xdg_file)]
    xdg_file.unlink()
    st = uv_status(run, "--root", str(root))
    assert st["index_url"] == A and st["origin"]["path"] == str(etc_uv)
    result = run("use", "ustc", "--tool", "uv", "--scope", "global", "--root", str(root))
    assert result.exit_code == 0 and "mirrors.ustc.edu.cn" in etc_uv.read_text()
    assert not xdg_file.exists()


def test_global_scope_with_nothing_there_creates_etc_uv_uv_toml(run, sandbox, monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_DIRS")
    result = run("use", "tuna", "--tool", "uv", "--scope", "global", "--root", str(sandbox.etc))
    assert result.exit_code == 0, result.stderr
    assert (sandbox.etc / "etc" / "uv" / "uv.toml").exists() and not (sandbox.etc / "etc" / "xdg").exists()
    assert uv_status(run, "--root", str(sandbox.etc))["mirror"] == "tuna"


STRACE = shutil.which("strace")


def uv_system_lookups(env: dict) -> list:
    """The system files the real uv looks for, in order (its stat calls, by strace): nothing
    is written, and the machine's own /etc is only looked at."""
    proc = subprocess.run([STRACE, "-f", "-qq", "-e", "trace=stat,lstat,newfstatat,statx", str(UV), "pip", "compile",
                           "-"], input="", capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    seen = []
    for path in re.findall(r'"([^"]*/uv/uv\.toml)"', proc.stderr):
        if path not in seen and path != env.get("XDG_CONFIG_HOME", "") + "/uv/uv.toml":
            seen.append(path)
    return seen


@pytest.mark.skipif(STRACE is None, reason="strace is not installed here")
@pytest.mark.parametrize("value", [None, "", ":", "{x1}::{x2}", "{x1}:rel:{x2}"])
def test_the_system_files_are_those_the_real_uv_looks_for(sandbox, value):
    if any(Path(p).exists() for p in ("/etc/xdg/uv/uv.toml", "/etc/uv/uv.toml")):
        pytest.skip("this machine has its own system uv.toml")
    env = {k: v for k, v in os.environ.items() if k != "XDG_CONFIG_DIRS"}
    if value is not None:
        env["XDG_CONFIG_DIRS"] = value.format(x1=sandbox.root / "x1", x2=sandbox.root / "x2")
    real = [p for p in uv_system_lookups(env) if p.startswith("/")]  # uv also reads a relative entry: see below
    ctx = Context(environ=env, platform="linux", cwd=sandbox.root)
    assert [str(p) for p in uv.system_files(ctx)] == real


def test_a_relative_xdg_config_dirs_entry_is_ignored_but_named_when_uv_would_read_it_here(run, sandbox, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_DIRS", f"rel:{sandbox.root / 'x2'}")
    write(sandbox.root / "x2" / "uv" / "uv.toml", f'index-url = "{B}"\n')
    assert uv_status(run)["index_url"] == B
    relative = write(sandbox.root / "rel" / "uv" / "uv.toml", f'index-url = "{A}"\n')
    assert uv_default_index() == A  # uv reads it, from the folder it runs in
    st = uv_status(run)
    assert any(str(relative) in w and "relative" in w for w in st["warnings"]), st["warnings"]


def test_global_scope_under_root(run, sandbox):
    result = run("use", "ustc", "--tool", "uv", "--scope", "global", "--root", str(sandbox.etc))
    assert result.exit_code == 0, result.stderr
    written = sandbox.etc / "etc" / "uv" / "uv.toml"
    assert 'url = "https://mirrors.ustc.edu.cn/pypi/simple"' in written.read_text()
    st = uv_status(run, "--root", str(sandbox.etc))
    assert st["mirror"] == "ustc" and st["origin"]["path"] == str(written)


# -- what is written ---------------------------------------------------------------------

COMMENTED = (
    "# uv settings for the lab\n"
    'cache-dir = "/srv/uv-cache"\n'
    'index-url = "https://old.example/simple"  # from an old guide\n'
    "\n"
    "# our private packages\n"
    "[[index]]\n"
    'name = "private"\n'
    'url = "https://private.example/simple"\n'
    "explicit = true\n"
    "\n"
    "[pip]\n"
    'index-url = "https://old.example/simple"\n'
    "compile-bytecode = true\n"
)


def test_commented_uv_toml_keeps_everything_else(run, sandbox):
    path = write(user_toml(sandbox), COMMENTED)
    result = run("use", "tuna", "--tool", "uv")
    assert result.exit_code == 0, result.stderr
    assert path.read_text() == (
        "# uv settings for the lab\n"
        'cache-dir = "/srv/uv-cache"\n'
        "\n"
        "# our private packages\n"
        "[[index]]\n"
        'name = "private"\n'
        'url = "https://private.example/simple"\n'
        "explicit = true\n"
        "\n"
        "[[index]]\n"
        'name = "mirrorctl"\n'
        f'url = "{TUNA}"\n'
        "default = true\n"
        "\n"
        "[pip]\n"
        "compile-bytecode = true\n"
    )
    assert "uv.lock" in result.stdout  # the note: locks record index URLs
    assert uv_default_index() == TUNA
    assert run("use", "aliyun", "--tool", "uv").exit_code == 0  # replaces its own index, adds no second one
    assert path.read_text().count('name = "mirrorctl"') == 1 and ALIYUN in path.read_text()
    assert uv_default_index() == ALIYUN


def test_unnamed_default_index_is_taken_over_in_place(run, sandbox):
    path = write(user_toml(sandbox), f'[[index]]\nurl = "{TUNA}"  # tuna\ndefault = true\n\n[pip]\ncompile-bytecode = true\n')
    assert run("use", "aliyun", "--tool", "uv").exit_code == 0
    assert path.read_text() == (f'[[index]]\nurl = "{ALIYUN}"\ndefault = true\nname = "mirrorctl"\n\n'
                                "[pip]\ncompile-bytecode = true\n")
    assert uv_default_index() == ALIYUN


def test_a_named_default_index_of_the_user_stays_but_comes_second(run, sandbox):
    path = write(user_toml(sandbox), f'[[index]]\nname = "corp"\nurl = "{A}"\ndefault = true\n')
    assert run("use", "tuna", "--tool", "uv").exit_code == 0
    assert path.read_text() == (f'[[index]]\nname = "mirrorctl"\nurl = "{TUNA}"\ndefault = true\n\n'
                                f'[[index]]\nname = "corp"\nurl = "{A}"\ndefault = true\n')
    st = agree(run)
    assert st["index_url"] == TUNA and [s["value"] for s in st["shadowed"]] == [A]
    assert run("reset", "--tool", "uv").exit_code == 0
    assert path.read_text() == f'[[index]]\nname = "corp"\nurl = "{A}"\ndefault = true\n'
    assert uv_default_index() == A


def test_pyproject_round_trip_and_reset(run, sandbox):
    project = sandbox.root / "proj"
    original = ('[project]\nname = "demo"  # the app\nversion = "0.1.0"\n\n'
                "[tool.uv]\n# dev tools\ndev-dependencies = []\n\n"
                '[tool.black]\nline-length = 100\n')
    pyproject = write(project / "pyproject.toml", original)
    assert run("use", "tuna", "--tool", "uv", "--scope", "project", "--project", str(project)).exit_code == 0
    assert pyproject.read_text() == (
        '[project]\nname = "demo"  # the app\nversion = "0.1.0"\n\n'
        "[tool.uv]\n# dev tools\ndev-dependencies = []\n\n"
        f'[[tool.uv.index]]\nname = "mirrorctl"\nurl = "{TUNA}"\ndefault = true\n\n'
        '[tool.black]\nline-length = 100\n')
    assert uv_default_index(cwd=project) == TUNA
    assert uv_default_index(cwd=project, project_commands=True) == TUNA
    assert run("reset", "--tool", "uv", "--scope", "project", "--project", str(project)).exit_code == 0
    assert pyproject.read_text() == original


def test_idempotent_dry_run_and_undo_byte_exact(run, sandbox):
    path = write(user_toml(sandbox), COMMENTED)
    original = path.read_bytes()
    dry = run("use", "tuna", "--tool", "uv", "--dry-run")
    assert dry.exit_code == 0
    assert '-index-url = "https://old.example/simple"  # from an old guide' in dry.stdout
    assert f'+url = "{TUNA}"' in dry.stdout
    assert path.read_bytes() == original and run("history", "--json").json() == []
    assert run("use", "tuna", "--tool", "uv").exit_code == 0
    first = path.read_bytes()
    again = run("use", "tuna", "--tool", "uv")
    assert again.exit_code == 0 and "already" in again.stdout
    assert path.read_bytes() == first and len(run("history", "--json").json()) == 1
    assert run("use", "tuna", "--tool", "uv", "--check").exit_code == 0
    assert run("undo").exit_code == 0
    assert path.read_bytes() == original


def test_reset_removes_only_mirrorctl_s_index_and_a_file_it_created(run, sandbox):
    assert run("use", "http://mirror.lan:8080/simple", "--tool", "uv").exit_code == 0
    assert run("reset", "--tool", "uv").exit_code == 0
    assert not user_toml(sandbox).exists()
    path = write(user_toml(sandbox), '# mine\ncache-dir = "/c"\n')
    assert run("use", "tuna", "--tool", "uv").exit_code == 0
    assert run("reset", "--tool", "uv").exit_code == 0
    assert path.read_text() == '# mine\ncache-dir = "/c"\n'
    assert run("reset", "--tool", "uv").exit_code == 0  # nothing left to do is not an error


def test_http_mirror_gets_allow_insecure_host_and_loses_it_on_https(run, sandbox):
    path = write(user_toml(sandbox), 'allow-insecure-host = ["corp.example"]\n')
    assert run("use", "http://mirror.lan:8080/simple", "--tool", "uv").exit_code == 0
    assert 'allow-insecure-host = ["corp.example", "mirror.lan:8080"]' in path.read_text()
    assert run("use", "tuna", "--tool", "uv").exit_code == 0
    assert path.read_text() == (f'allow-insecure-host = ["corp.example"]\n\n'
                                f'[[index]]\nname = "mirrorctl"\nurl = "{TUNA}"\ndefault = true\n')


@pytest.mark.parametrize("content, fragment", [
    (b'[[index]]\nurl = "a"\nurl = "b"\n', "line 3"),
    (b"index-url = \n", "line 1"),
    (b'index-url = "\xff"\n', "not valid UTF-8"),
])
def test_bad_toml_is_refused_in_one_line_and_nothing_is_written(run, sandbox, content, fragment):
    path = user_toml(sandbox)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    result = run("use", "tuna", "--tool", "uv")
    assert result.exit_code == 4
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and fragment in lines[0], result.stderr
    assert path.read_bytes() == content
    assert run("history", "--json").json() == []
    status = run("status", "--tool", "uv")
    assert status.exit_code == 4 and str(path) in status.stderr
    assert real_uv("pip", "compile", "-", check=False).returncode != 0  # the real uv cannot read it either


# parseable TOML that uv refuses (every one checked with the real uv below): the key is named
WRONG_TYPES = [
    ("pip = 3\n", "pip"),
    ('pip = "x"\n', "pip"),
    ("allow-insecure-host = 3\n", "allow-insecure-host"),
    ('allow-insecure-host = "mirror.lan"\n', "allow-insecure-host"),
    ("allow-insecure-host = [3]\n", "allow-insecure-host"),
    ('[allow-insecure-host]\nhost = "mirror.lan"\n', "allow-insecure-host"),
    ("index-url = 3\n", "index-url"),
    ('extra-index-url = "https://x.example/simple"\n', "extra-index-url"),
    ("no-index = 1\n", "no-index"),
    ("index = 3\n", "index"),
    ("[[index]]\nurl = 3\n", "index[0].url"),
    ('[[index]]\nname = "corp"\n', "index[0].url"),
    ('[[index]]\nname = 3\nurl = "https://x.example/simple"\n', "index[0].name"),
    ('[[index]]\nurl = "https://x.example/simple"\ndefault = 1\n', "index[0].default"),
    ("[pip]\nindex-url = 3\n", "pip.index-url"),
]


@pytest.mark.parametrize("content, key", WRONG_TYPES)
def test_a_value_of_the_wrong_type_is_refused_in_one_line_naming_file_and_key(run, sandbox, content, key):
    path = write(user_toml(sandbox), content)
    assert real_uv("pip", "compile", "-", check=False).returncode != 0  # the real uv cannot read it either
    for command in (("use", "tuna"), ("use", "http://mirror.lan/simple"), ("reset",)):
        result = run(*command, "--tool", "uv")
        assert result.exit_code == 4, (command, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and f"{key} " in lines[0], result.stderr
        assert "internal error" not in lines[0]
    assert path.read_text() == content and run("history", "--json").json() == []
    status = run("status", "--tool", "uv")
    assert status.exit_code == 4 and str(path) in status.stderr and key in status.stderr


def test_a_value_of_the_wrong_type_in_tool_uv_is_named_with_its_table(run, sandbox):
    project = sandbox.root / "proj"
    content = '[project]\nname = "demo"\nversion = "0"\n\n[tool.uv]\npip = 3\n'
    pyproject = write(project / "pyproject.toml", content)
    result = run("use", "tuna", "--tool", "uv", "--scope", "project", "--project", str(project))
    assert result.exit_code == 4 and str(pyproject) in result.stderr and "tool.uv.pip " in result.stderr
    assert pyproject.read_text() == content and not (project / "uv.toml").exists()
    # uv itself warns about that [tool.uv] and passes over the file (see below)
    assert "Failed to parse" in real_uv("pip", "compile", "-", cwd=project).stderr


def test_an_empty_index_array_is_fine_for_uv_and_for_status(run, sandbox):
    path = write(user_toml(sandbox), "index = []\n")
    assert agree(run)["origin"]["kind"] == "default"
    result = run("use", "tuna", "--tool", "uv")  # but mirrorctl does not rewrite an inline array
    assert result.exit_code == 4 and str(path) in result.stderr and "[[index]]" in result.stderr
    assert path.read_text() == "index = []\n"
    assert run("reset", "--tool", "uv").exit_code == 0  # nothing of mirrorctl's in it


def test_bad_pyproject_in_the_project_is_refused(run, sandbox):
    project = sandbox.root / "proj"
    write(project / "pyproject.toml", "[project\n")
    result = run("use", "tuna", "--tool", "uv", "--scope", "project", "--project", str(project))
    assert result.exit_code == 4 and "pyproject.toml" in result.stderr and "line 1" in result.stderr
    assert sorted(p.name for p in project.iterdir()) == ["pyproject.toml"]


# -- status: precedence as the real uv applies it -------------------------------------------

def test_nothing_configured(run, sandbox):
    st = agree(run)
    assert st["origin"]["kind"] == "default" and st["mirror"] == "official"


def test_project_beats_user_beats_system(run, sandbox, monkeypatch):
    system = write(sandbox.root / "xdg-dirs" / "uv" / "uv.toml", f'index-url = "{A}"\n')
    st = agree(run)
    assert st["origin"] == {"kind": "file", "path": str(system), "section": None, "variable": "index-url"}
    user = write(user_toml(sandbox), f'[[index]]\nurl = "{B}"\ndefault = true\n')
    assert agree(run)["origin"]["path"] == str(user)
    project = write(sandbox.root / "uv.toml", f'[[index]]\nurl = "{C}"\ndefault = true\n')
    st = agree(run)
    assert st["origin"]["path"] == str(project)
    assert [s["value"] for s in st["shadowed"]] == [B, A]
    assert any(B in w for w in st["warnings"])


def test_only_the_first_existing_system_file_is_read(run, sandbox, monkeypatch):
    first, second = sandbox.root / "x1", sandbox.root / "x2"
    monkeypatch.setenv("XDG_CONFIG_DIRS", f"{first}:{second}")
    write(second / "uv" / "uv.toml", f'index-url = "{B}"\n')
    assert agree(run)["index_url"] == B
    write(first / "uv" / "uv.toml", f'index-url = "{A}"\n')
    st = agree(run)
    assert st["index_url"] == A and st["shadowed"] == []


def test_index_table_beats_legacy_index_url_in_one_file_and_pip_section_replaces_it(run, sandbox):
    write(user_toml(sandbox), f'index-url = "{A}"\n\n[[index]]\nurl = "{B}"\ndefault = true\n')
    st = agree(run)
    assert st["index_url"] == B and st["shadowed"][0]["value"] == A
    write(user_toml(sandbox), f'index-url = "{A}"\n\n[pip]\nindex-url = "{C}"\n')
    st = agree(run)
    assert st["index_url"] == C and st["origin"]["section"] == "pip"
    assert st["commands"]["sync"]["value"] == A  # uv's project commands ignore [pip]


def test_environment_variables_beat_files_and_default_index_beats_index_url(run, sandbox, monkeypatch):
    write(sandbox.root / "uv.toml", f'[[index]]\nurl = "{A}"\ndefault = true\n')
    monkeypatch.setenv("UV_INDEX_URL", B)
    st = agree(run)
    assert st["origin"] == {"kind": "env", "path": None, "section": None, "variable": "UV_INDEX_URL"}
    assert any("deprecated" in w for w in st["warnings"])
    monkeypatch.setenv("UV_DEFAULT_INDEX", C)
    st = agree(run)
    assert st["index_url"] == C and [s["value"] for s in st["shadowed"]] == [B, A]
    monkeypatch.setenv("UV_DEFAULT_INDEX", "")  # empty: ignored
    assert agree(run)["index_url"] == B


def test_uv_config_file_replaces_discovered_files_even_with_no_config(run, sandbox, monkeypatch):
    write(user_toml(sandbox), f'index-url = "{A}"\n')
    write(sandbox.root / "uv.toml", f'index-url = "{B}"\n')
    chosen = write(sandbox.root / "ci" / "uv.toml", f'index-url = "{C}"\n')
    monkeypatch.setenv("UV_CONFIG_FILE", str(chosen))
    st = agree(run)
    assert st["index_url"] == C and st["origin"]["path"] == str(chosen) and st["shadowed"] == []
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    assert agree(run)["index_url"] == C


@pytest.mark.parametrize("value, disables", [("1", True), ("TRUE", True), ("yes", True), ("t", True),
                                             ("0", False), ("false", False), ("Off", False)])
def test_uv_no_config(run, sandbox, monkeypatch, value, disables):
    write(user_toml(sandbox), f'index-url = "{A}"\n')
    monkeypatch.setenv("UV_NO_CONFIG", value)
    st = agree(run)
    assert (st["origin"]["kind"] == "default") is disables


@pytest.mark.parametrize("value", ["", "2", "maybe"])
def test_uv_no_config_that_is_not_a_boolean_is_an_error_like_uv_s(run, sandbox, monkeypatch, value):
    monkeypatch.setenv("UV_NO_CONFIG", value)
    result = run("status", "--tool", "uv")
    assert result.exit_code == 4 and "UV_NO_CONFIG" in result.stderr
    assert real_uv("pip", "compile", "-", check=False).returncode != 0


def test_missing_uv_config_file_is_an_error_like_uv_s(run, sandbox, monkeypatch):
    monkeypatch.setenv("UV_CONFIG_FILE", str(sandbox.root / "nope.toml"))
    result = run("status", "--tool", "uv")
    assert result.exit_code == 4 and "nope.toml" in result.stderr
    assert real_uv("pip", "compile", "-", check=False).returncode != 0


def test_nearest_project_file_walking_up_and_pyproject_without_tool_uv_is_skipped(run, sandbox):
    top = write(sandbox.root / "repo" / "pyproject.toml", f'[project]\nname = "x"\n\n[tool.uv]\nindex-url = "{A}"\n')
    sub = sandbox.root / "repo" / "pkg"
    write(sub / "pyproject.toml", '[project]\nname = "y"\n\n[tool.black]\nx = 1\n')
    st = agree(run, sub, None, "--project", str(sub))
    assert st["index_url"] == A and st["origin"]["path"] == str(top) and st["origin"]["section"] == "tool.uv"
    write(sub / "pyproject.toml", '[project]\nname = "y"\n\n[tool.uv]\n')  # an empty [tool.uv] still counts
    assert agree(run, sub, None, "--project", str(sub))["origin"]["kind"] == "default"


def test_use_warns_when_an_environment_variable_still_wins(run, sandbox, monkeypatch):
    monkeypatch.setenv("UV_DEFAULT_INDEX", A)
    result = run("use", "tuna", "--tool", "uv")
    assert result.exit_code == 0
    assert "UV_DEFAULT_INDEX" in result.stderr and f"still use {A}" in result.stderr


def test_project_scope_note_names_the_lock_file(run, sandbox):
    project = sandbox.root / "proj"
    write(project / "uv.lock", "version = 1\n")
    result = run("use", "tuna", "--tool", "uv", "--scope", "project", "--project", str(project))
    assert result.exit_code == 0 and f"{project / 'uv.lock'} records the index URLs" in result.stdout


# -- in use, and the layout on other platforms ----------------------------------------------

def test_in_use_on_path_or_configured(run, sandbox, on_path):
    assert run("use", "tuna").exit_code == 0
    assert not user_toml(sandbox).exists()  # uv is not on PATH: only pip was switched
    on_path("uv")
    result = run("use", "tuna", "--json")
    assert "uv" in result.json()["tools"] and user_toml(sandbox).exists()


def test_in_use_when_configured_at_that_scope(sandbox):
    ctx = Context(environ={**os.environ, "PATH": ""}, platform="linux", cwd=sandbox.root, root=sandbox.etc)
    assert not uv.in_use(ctx, Scope.USER) and not uv.in_use(ctx, Scope.PROJECT)
    write(user_toml(sandbox), "# mine\n")
    assert uv.in_use(ctx, Scope.USER) and not uv.in_use(ctx, Scope.GLOBAL)
    write(sandbox.etc / "etc" / "uv" / "uv.toml", "# site\n")
    assert uv.in_use(ctx, Scope.GLOBAL)
    write(sandbox.root / "pyproject.toml", '[project]\nname = "x"\n\n[tool.uv]\n')
    assert uv.in_use(ctx, Scope.PROJECT)


def test_windows_and_macos_paths():
    win = Context(environ={"USERPROFILE": "C:\\Users\\li", "APPDATA": "C:\\Users\\li\\AppData\\Roaming",
                           "PROGRAMDATA": "C:\\ProgramData", "SYSTEMDRIVE": "E:"}, platform="win32",
                  cwd=PureWindowsPath("C:\\work"))
    assert str(uv.config_file(win, Scope.USER).path) == "C:\\Users\\li\\AppData\\Roaming\\uv\\uv.toml"
    # uv (uv-dirs' system_config_file): %SYSTEMDRIVE%\ProgramData\uv\uv.toml, not %PROGRAMDATA%
    assert [str(p) for p in uv.system_files(win)] == ["E:\\ProgramData\\uv\\uv.toml"]
    rooted = Context(environ=win.environ, platform="win32", root=PureWindowsPath("D:\\image"))
    assert [str(p) for p in uv.system_files(rooted)] == ["D:\\image\\ProgramData\\uv\\uv.toml"]
    no_drive = Context(environ={"USERPROFILE": "C:\\Users\\li"}, platform="win32", cwd=PureWindowsPath("C:\\work"))
    assert uv.system_files(no_drive) == []  # uv reads no system file then
    with pytest.raises(Exception) as err:
        uv.config_file(no_drive, Scope.GLOBAL)
    assert "SYSTEMDRIVE" in str(err.value)
    mac = Context(environ={"HOME": "/Users/li"}, platform="darwin", cwd=PurePosixPath("/"))
    assert str(uv.user_file(mac)) == "/Users/li/.config/uv/uv.toml"
    assert [str(p) for p in uv.system_files(mac)] == ["/etc/xdg/uv/uv.toml", "/etc/uv/uv.toml"]
    xdg = Context(environ={"HOME": "/home/li", "XDG_CONFIG_HOME": "/cfg", "XDG_CONFIG_DIRS": "/a::rel:/b"},
                  platform="linux", root=PurePosixPath("/img"))
    assert str(uv.user_file(xdg)) == "/cfg/uv/uv.toml"
    assert [str(p) for p in uv.system_files(xdg)] == ["/img/a/uv/uv.toml", "/img/b/uv/uv.toml", "/img/etc/uv/uv.toml"]
    unset = Context(environ={"HOME": "/home/li"}, platform="linux", root=PurePosixPath("/img"))
    assert [str(p) for p in uv.system_files(unset)] == ["/img/etc/xdg/uv/uv.toml", "/img/etc/uv/uv.toml"]


def test_crlf_file_stays_crlf(run, sandbox):
    path = user_toml(sandbox)
    path.parent.mkdir(parents=True)
    path.write_bytes(b'# lab\r\ncache-dir = "/c"\r\n')
    assert run("use", "tuna", "--tool", "uv").exit_code == 0
    assert path.read_bytes() == (b'# lab\r\ncache-dir = "/c"\r\n\r\n[[index]]\r\nname = "mirrorctl"\r\n'
                                 + f'url = "{TUNA}"\r\ndefault = true\r\n'.encode())
    assert uv_default_index() == TUNA
    assert run("reset", "--tool", "uv").exit_code == 0
    assert path.read_bytes() == b'# lab\r\ncache-dir = "/c"\r\n'


def test_pyproject_with_tool_uv_split_in_parts(run, sandbox):
    project = sandbox.root / "proj"
    pyproject = write(project / "pyproject.toml",
                      '[project]\nname = "demo"\nversion = "0"\n\n[tool.uv]\npackage = false\n\n'
                      '[tool.black]\nline-length = 100\n\n[tool.uv.pip]\nindex-url = "https://old.example/simple"\n'
                      "compile-bytecode = true\n")
    assert uv_default_index(cwd=project) == "https://old.example/simple"
    assert run("use", "tuna", "--tool", "uv", "--scope", "project", "--project", str(project)).exit_code == 0
    assert pyproject.read_text() == (
        '[project]\nname = "demo"\nversion = "0"\n\n[tool.uv]\npackage = false\n\n'
        f'[[tool.uv.index]]\nname = "mirrorctl"\nurl = "{TUNA}"\ndefault = true\n\n'
        '[tool.black]\nline-length = 100\n\n[tool.uv.pip]\ncompile-bytecode = true\n')
    assert uv_default_index(cwd=project) == TUNA


def test_an_index_table_of_any_file_beats_a_legacy_index_url_of_a_nearer_one(run, sandbox):
    write(user_toml(sandbox), f'[[index]]\nurl = "{A}"\ndefault = true\n')
    project = write(sandbox.root / "uv.toml", f'index-url = "{B}"\n')
    st = agree(run)
    assert st["index_url"] == A and st["shadowed"][0]["origin"]["path"] == str(project)


def test_a_pip_section_of_any_file_beats_a_top_level_index_url_for_uv_pip(run, sandbox):
    write(user_toml(sandbox), f'[pip]\nindex-url = "{A}"\n')
    write(sandbox.root / "uv.toml", f'index-url = "{B}"\n')
    st = agree(run)
    assert st["index_url"] == A and st["commands"]["sync"]["value"] == B
    write(user_toml(sandbox), f'index-url = "{A}"\n')
    st = agree(run)
    assert st["index_url"] == B and [s["value"] for s in st["shadowed"]] == [A]


def test_tools_on_path_do_not_make_every_project_theirs(run, sandbox, on_path):
    project = sandbox.root / "plain-project"
    project.mkdir()
    original = '[project]\nname = "x"\nversion = "0"\n'
    (project / "pyproject.toml").write_text(original)
    for tool in ("uv", "pdm", "poetry", "pipenv"):
        on_path(tool)
    result = run("use", "tuna", "--scope", "project", "--project", str(project))
    assert result.exit_code == 2 and "no tool in use at project scope" in result.stderr
    assert sorted(p.name for p in project.iterdir()) == ["pyproject.toml"]
    assert (project / "pyproject.toml").read_text() == original
    assert run("use", "tuna", "--scope", "user", "--json").json()["tools"] == ["pip", "pipenv", "uv", "pdm"]


@pytest.mark.parametrize("broken", ["[project\nname = 1\n", '[project]\nname = "y"\n\n[tool.uv]\npip = 3\n'])
def test_a_project_pyproject_uv_cannot_use_is_passed_over_as_uv_does(run, sandbox, broken):
    write(sandbox.root / "repo" / "pyproject.toml", f'[project]\nname = "x"\n\n[tool.uv]\nindex-url = "{A}"\n')
    sub = sandbox.root / "repo" / "pkg"
    bad = write(sub / "pyproject.toml", broken)
    st = agree(run, sub, None, "--project", str(sub))  # uv warns, and takes the next one up
    assert st["index_url"] == A and any(str(bad) in w for w in st["warnings"])
    result = run("use", "tuna", "--tool", "uv", "--scope", "project", "--project", str(sub))
    assert result.exit_code == 4 and str(bad) in result.stderr  # but mirrorctl does not edit it
    assert bad.read_text() == broken and not (sub / "uv.toml").exists()


def test_a_project_pyproject_that_is_not_utf8_stops_uv_and_status(run, sandbox):
    sub = sandbox.root / "pkg"
    bad = sub / "pyproject.toml"
    sub.mkdir()
    bad.write_bytes(b'[tool.uv]\nindex-url = "\xff"\n')
    result = run("status", "--tool", "uv", "--project", str(sub))
    assert result.exit_code == 4 and str(bad) in result.stderr
    assert real_uv("pip", "compile", "-", cwd=sub, check=False).returncode != 0


def test_a_comment_right_above_a_table_stays_above_it(run, sandbox):
    # the comment belongs to [pip]: the added [[index]] goes above it, and reset puts it back as it was
    original = ('[[index]]\nname = "private"\nurl = "https://private.example/simple"\nexplicit = true\n\n'
                "# pip settings\n[pip]\ncompile-bytecode = true\n")
    path = write(user_toml(sandbox), original)
    assert run("use", "tuna", "--tool", "uv").exit_code == 0
    assert path.read_text() == original.replace(
        "# pip settings\n", f'[[index]]\nname = "mirrorctl"\nurl = "{TUNA}"\ndefault = true\n\n# pip settings\n')
    assert uv_default_index() == TUNA
    assert run("reset", "--tool", "uv").exit_code == 0
    assert path.read_text() == original
    # the same before a named default index of the user, whose comment stays with it
    original = f'cache-dir = "/c"\n\n# the company index\n[[index]]\nname = "corp"\nurl = "{A}"\ndefault = true\n'
    path.write_text(original)
    assert run("use", "tuna", "--tool", "uv").exit_code == 0
    assert path.read_text() == original.replace(
        "# the company index\n",
        f'[[index]]\nname = "mirrorctl"\nurl = "{TUNA}"\ndefault = true\n\n# the company index\n')
    assert run("reset", "--tool", "uv").exit_code == 0
    assert path.read_text() == original


def test_use_fallback_writes_no_further_index_for_uv_which_stops_at_a_failing_one(run, sandbox):
    """uv does not go on to the next index when one is down (tests/test_fallback_behaviour.py):
    --fallback leaves uv with the main index alone, judged by the real uv's settings, and says why."""
    result = run("use", "tuna", "--tool", "uv", "--fallback", "aliyun")
    assert result.exit_code == 0, result.stderr
    assert "uv: no fall-back written" in result.stdout
    assert uv_default_index() == TUNA
    settings = subprocess.run([str(UV), "pip", "compile", "--show-settings", "-"], input="", capture_output=True,
                              text=True, env=os.environ, timeout=120).stdout
    assert "aliyun" not in settings
