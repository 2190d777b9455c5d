"""uv's Python downloads: `use --tool uv` writes `python-install-mirror` where the mirror publishes
the python-build-standalone releases; judged by the real uv (`uv python install` against a
loopback server, and its `--show-settings` dump). Nothing reaches the internet: the mirror is on
127.0.0.1 and every proxy variable points at a closed loopback port."""

import http.server
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mirrorctl.catalog import BUILTIN, builtin_catalog_text, parse_catalog
from mirrorctl.targets import uv, uv_python
from mirrorctl.catalog import Mirror

UV = Path(sys.executable).parent / "uv"
TUNA = "https://pypi.tuna.tsinghua.edu.cn/simple"
USTC_PYTHON = "https://mirrors.ustc.edu.cn/github-release/astral-sh/python-build-standalone/"
OWN = "https://ghproxy.example/https://github.com/astral-sh/python-build-standalone/releases/download"

pytestmark = pytest.mark.skipif(not UV.exists(), reason="the real uv is not installed here")


class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.server.paths.append(self.path)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def pbs():
    """A loopback server that answers 404 to everything and records the paths asked for."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.paths = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def offline_env(sandbox) -> dict:
    """uv with its Pythons in the sandbox, and no way out but to 127.0.0.1."""
    closed = "http://127.0.0.1:9"
    return {"UV_PYTHON_INSTALL_DIR": str(sandbox.root / "pythons"), "UV_NO_CACHE": "1",
            "HTTP_PROXY": closed, "HTTPS_PROXY": closed, "ALL_PROXY": closed,
            "http_proxy": closed, "https_proxy": closed, "all_proxy": closed,
            "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}


def real_uv(*args, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(UV), *args], capture_output=True, text=True, cwd=cwd, stdin=subprocess.DEVNULL,
                          env={**os.environ, **(env or {})}, timeout=300)


def python_install_asks(sandbox, pbs, cwd=None, env=None) -> list:
    """Run the real `uv python install 3.12` and return the paths it asked the loopback mirror for
    (the mirror answers 404, so nothing is installed)."""
    before = len(pbs.paths)
    proc = real_uv("python", "install", "3.12", "--no-bin", cwd=cwd, env={**offline_env(sandbox), **(env or {})})
    assert proc.returncode != 0  # 404: it really tried
    return pbs.paths[before:]


def uv_setting(cwd=None, env=None):
    """python-install-mirror as the real uv resolves it (its --show-settings dump), or None."""
    proc = real_uv("python", "install", "--show-settings", "3.12", cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stderr
    match = re.search(r'python_install_mirror: (None|Some\(\s*"([^"]*)")', proc.stdout)
    assert match, proc.stdout
    return match.group(2)


def lab_catalogue(sandbox, base: str, *more: str) -> None:
    """A user catalogue: `lab` publishes the Pythons under base/pbs/, `plain` does not."""
    path = sandbox.config / "mirrorctl" / "mirrors.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[[mirror]]\nname = "lab"\nurl = "https://lab.example/simple"\nuv_python = "{base}/pbs/"\n\n'
                    '[[mirror]]\nname = "plain"\nurl = "https://plain.example/simple"\n' + "".join(more))


def user_toml(sandbox) -> Path:
    return sandbox.config / "uv" / "uv.toml"


def status(run, *args) -> dict:
    result = run("status", "--tool", "uv", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return result.json()["tools"][0]


# -- the catalogue ----------------------------------------------------------------------

def test_only_ustc_documents_a_python_build_standalone_mirror():
    mirrors = parse_catalog(builtin_catalog_text(), source=BUILTIN, origin="mirrors.toml")
    assert {m.name: m.uv_python for m in mirrors if m.uv_python} == {"ustc": USTC_PYTHON}


# -- the real uv downloads from the mirror `use` wrote -----------------------------------------

def test_user_scope_real_uv_python_install_asks_the_mirror(run, sandbox, pbs):
    lab_catalogue(sandbox, pbs.base)
    result = run("use", "lab", "--tool", "uv")
    assert result.exit_code == 0, result.stderr
    assert user_toml(sandbox).read_text() == (
        f'python-install-mirror = "{pbs.base}/pbs/"\n\n'
        '[[index]]\nname = "mirrorctl"\nurl = "https://lab.example/simple"\ndefault = true\n')
    asked = python_install_asks(sandbox, pbs)
    # uv puts <release>/<file> after the mirror, as after .../python-build-standalone/releases/download
    assert asked and re.fullmatch(r"/pbs/\d{8}/cpython-3\.12\.\d+%2B\d{8}-[^/]+\.tar\.(gz|zst)", asked[0]), asked


@pytest.mark.parametrize("layout", ["uv.toml", "pyproject.toml"])
def test_project_scope_real_uv_reads_it_from_the_project_file(run, sandbox, pbs, layout):
    lab_catalogue(sandbox, pbs.base)
    project = sandbox.root / "proj"
    project.mkdir()
    if layout == "pyproject.toml":
        (project / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n\n[tool.uv]\npackage = false\n')
    assert run("use", "lab", "--tool", "uv", "--scope", "project", "--project", str(project)).exit_code == 0
    text = (project / layout).read_text()
    assert f'python-install-mirror = "{pbs.base}/pbs/"' in text
    if layout == "pyproject.toml":
        assert not (project / "uv.toml").exists()
        assert text.index("python-install-mirror") > text.index("[tool.uv]")
    assert uv_setting(cwd=project) == f"{pbs.base}/pbs/"
    assert python_install_asks(sandbox, pbs, cwd=project)[0].startswith("/pbs/")
    assert run("reset", "--tool", "uv", "--scope", "project", "--project", str(project)).exit_code == 0
    assert uv_setting(cwd=project) is None


def test_the_real_uv_parses_what_use_writes_and_refuses_a_wrong_type(run, sandbox):
    assert run("use", "ustc", "--tool", "uv").exit_code == 0
    assert uv_setting() == USTC_PYTHON
    user_toml(sandbox).write_text("python-install-mirror = 3\n")
    assert real_uv("python", "install", "--show-settings", "3.12").returncode != 0
    result = run("status", "--tool", "uv")
    assert result.exit_code == 4 and "python-install-mirror must be a string" in result.stderr
    assert run("use", "ustc", "--tool", "uv").exit_code == 4
    assert user_toml(sandbox).read_text() == "python-install-mirror = 3\n"


# -- whose value it is -------------------------------------------------------------------

def test_switching_to_a_mirror_without_one_removes_only_mirrorctl_s_value(run, sandbox):
    path = user_toml(sandbox)
    assert run("use", "ustc", "--tool", "uv").exit_code == 0
    assert f'python-install-mirror = "{USTC_PYTHON}"' in path.read_text()
    assert run("use", "tuna", "--tool", "uv").exit_code == 0
    assert path.read_text() == f'[[index]]\nname = "mirrorctl"\nurl = "{TUNA}"\ndefault = true\n'
    assert uv_setting() is None


def test_a_value_of_the_user_s_own_stays_with_a_note(run, sandbox):
    path = user_toml(sandbox)
    path.parent.mkdir(parents=True)
    path.write_text(f'# my proxy\npython-install-mirror = "{OWN}"\n')
    result = run("use", "ustc", "--tool", "uv")
    assert result.exit_code == 0, result.stderr
    assert f'python-install-mirror = "{OWN}"' in path.read_text()
    assert "is your own setting and stays" in result.stdout + result.stderr
    assert run("use", "tuna", "--tool", "uv").exit_code == 0
    assert run("reset", "--tool", "uv").exit_code == 0
    assert path.read_text() == f'# my proxy\npython-install-mirror = "{OWN}"\n'
    assert uv_setting() == OWN


def test_a_catalogue_value_with_or_without_its_final_slash_is_mirrorctl_s(run, sandbox):
    path = user_toml(sandbox)
    path.parent.mkdir(parents=True)
    path.write_text(f'python-install-mirror = "{USTC_PYTHON.rstrip("/")}"\n')
    assert run("reset", "--tool", "uv").exit_code == 0
    assert not path.exists()


def test_reset_and_undo_are_byte_exact(run, sandbox):
    path = user_toml(sandbox)
    path.parent.mkdir(parents=True)
    original = b'cache-dir = "/c"  # mine\n\n[pip]\ncompile-bytecode = true\n'
    path.write_bytes(original)
    assert run("use", "ustc", "--tool", "uv").exit_code == 0
    assert run("use", "tuna", "--tool", "uv").exit_code == 0
    assert run("use", "ustc", "--tool", "uv").exit_code == 0
    assert run("reset", "--tool", "uv").exit_code == 0
    assert path.read_bytes() == original
    for _ in range(4):
        assert run("undo").exit_code == 0
    assert path.read_bytes() == original


# -- status --------------------------------------------------------------------------------

def test_status_reports_the_mirror_uv_downloads_pythons_from(run, sandbox, monkeypatch):
    assert status(run)["details"]["python_install_mirror"] == {
        "url": uv_python.UPSTREAM, "mirror": None, "decided_by": "uv's built-in default"}
    assert run("use", "ustc", "--tool", "uv").exit_code == 0
    st = status(run)
    assert st["details"]["python_install_mirror"] == {
        "url": USTC_PYTHON, "mirror": "ustc", "decided_by": f"{user_toml(sandbox)} (python-install-mirror)"}
    user_file = next(f for f in st["files"] if f["kind"] == "user")
    assert user_file["values"]["python-install-mirror"] == USTC_PYTHON
    verbose = run("status", "--tool", "uv", "--files")
    assert f"python-install-mirror = {USTC_PYTHON}" in verbose.stdout
    # the variable beats the file, in the real uv too
    monkeypatch.setenv("UV_PYTHON_INSTALL_MIRROR", OWN)
    st = status(run)
    assert st["details"]["python_install_mirror"]["url"] == OWN == uv_setting()
    assert any("python-install-mirror" in w and "UV_PYTHON_INSTALL_MIRROR" in w for w in st["warnings"])


def test_the_nearest_file_wins_as_in_the_real_uv(run, sandbox):
    project = sandbox.root / "proj"
    project.mkdir()
    assert run("use", "ustc", "--tool", "uv").exit_code == 0
    (project / "uv.toml").write_text(f'python-install-mirror = "{OWN}"\n')
    st = status(run, "--project", str(project))
    assert st["details"]["python_install_mirror"]["url"] == OWN == uv_setting(cwd=project)
    assert any(str(user_toml(sandbox)) in w and "python-install-mirror" in w for w in st["warnings"])


# -- env / exec ----------------------------------------------------------------------------

def test_environment_sets_the_python_mirror_only_where_there_is_one(sandbox, pbs):
    assert "UV_PYTHON_INSTALL_MIRROR" not in uv.environment(Mirror("tuna", TUNA))
    env = uv.environment(Mirror("lab", "https://lab.example/simple", uv_python=f"{pbs.base}/pbs/"))
    assert env["UV_PYTHON_INSTALL_MIRROR"] == f"{pbs.base}/pbs/"
    assert python_install_asks(sandbox, pbs, env=env)[0].startswith("/pbs/")


def test_the_status_table_shows_uv_s_python_downloads(run, on_path):
    on_path("uv")
    assert run("use", "ustc", "--tool", "uv").exit_code == 0
    table = run("status", "--tool", "uv").stdout
    assert "uv python downloads" in table and "mirrors.ustc.edu.cn/github-release" in table
    assert run("reset", "--tool", "uv").exit_code == 0
    assert "python downloads" not in run("status", "--tool", "uv").stdout  # uv's default: no row
