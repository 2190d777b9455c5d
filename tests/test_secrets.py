"""Secrets stay private: a password in an index URL (``https://user:secret@host/simple``).

User and venv scope: every file that holds it is owner-only (0600). Global scope: written, with a
plain warning. Project scope: the committed files name the index without it, and ~/.netrc holds
it, judged by the real pip, uv, pipenv and Poetry installing from a loopback pypiserver that
requires basic auth. No error, diff or JSON shows it.
"""

from __future__ import annotations

import base64
import netrc
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import needs_pipenv
from mirrorctl import credentials, ops
from mirrorctl.changes import FileChange
from mirrorctl.context import Context, Scope
from mirrorctl.errors import UsageError

BIN = Path(sys.executable).parent
UV, POETRY = BIN / "uv", BIN / "poetry"
USER, PASSWORD = "alice", "s3cr3t-Tok"
SECRET_URL = f"https://{USER}:{PASSWORD}@pypi.corp.example/simple"
ROTATED_URL = f"https://{USER}:n3w-Tok@pypi.corp.example/simple"

def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write(path: Path, text: str, perms: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(perms)
    return path


def ctx(**kwargs) -> Context:
    return Context.from_os(**kwargs)


def no_password_in(result) -> None:
    for text in (result.stdout, result.stderr):
        assert PASSWORD not in text and "pa ss" not in text, text


# -- a loopback index that wants basic auth ------------------------------------------------------

_SERVER = """
import base64, sys, pypiserver
from wsgiref.simple_server import make_server, WSGIRequestHandler
root, port, user, password, log = sys.argv[1:6]
app = pypiserver.app(roots=[root], authenticate=["download", "list"], password_file=None,
                     auther=lambda u, p: (u, p) == (user, password))
def logged(environ, start):
    auth = environ.get("HTTP_AUTHORIZATION", "")
    who = base64.b64decode(auth.split()[1]).decode() if auth.startswith("Basic ") else "-"
    with open(log, "a") as f:
        f.write(f"{environ['PATH_INFO']} {who}\\n")
    return app(environ, start)
class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass
make_server("127.0.0.1", int(port), logged, handler_class=Quiet).serve_forever()
"""


class AuthIndex:
    def __init__(self, root: Path):
        from servers import free_port, make_wheel

        make_wheel(root / "packages")
        self.root, self.port, self.log = root, free_port(), root / "auth-index.log"
        self.bare = f"http://127.0.0.1:{self.port}/simple/"
        self.url = f"http://{USER}:{PASSWORD}@127.0.0.1:{self.port}/simple/"
        script = root / "auth_index.py"
        script.write_text(_SERVER)
        self.proc = subprocess.Popen([sys.executable, str(script), str(root / "packages"), str(self.port), USER,
                                      PASSWORD, str(self.log)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the auth index exited: {self.proc.stderr.read().decode()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the auth index did not start within 30 s") from None
                time.sleep(0.1)

    def authorized_downloads(self) -> list:
        """The wheel downloads that came with the right credentials."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [line for line in lines if line.startswith("/packages/") and line.endswith(f" {USER}:{PASSWORD}")]

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture
def auth_index(sandbox):
    server = AuthIndex(sandbox.root / "auth")
    yield server
    server.close()


def test_the_auth_index_refuses_a_request_without_the_password(auth_index):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(auth_index.bare + "mirrorctl-demo/", timeout=30)
    assert err.value.code == 401
    request = urllib.request.Request(auth_index.bare + "mirrorctl-demo/", headers={
        "Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()})
    assert b"mirrorctl_demo-1.0" in urllib.request.urlopen(request, timeout=30).read()


# -- user and venv scope: private files ------------------------------------------------------------

def test_every_user_scope_change_that_holds_the_password_is_private(sandbox):
    result = ops.use_mirror(ctx(), SECRET_URL, tools=["pip", "uv", "pdm"], dry_run=True, verify=False)
    by_tool = {c.tool: c for c in result.changes}
    assert set(by_tool) == {"pip", "uv", "pdm"}
    for change in by_tool.values():
        assert PASSWORD.encode() in change.after
        assert change.private, change.path


def test_conda_and_venv_files_that_hold_the_password_are_private(sandbox, venv):
    from mirrorctl.catalog import CondaMirror, Mirror

    mirror = Mirror("corp", SECRET_URL, conda=CondaMirror(f"https://{USER}:{PASSWORD}@conda.corp.example/anaconda"))
    result = ops.use_mirror(ctx(), mirror, tools=["conda"], dry_run=True, verify=False)
    assert [c.private for c in result.changes] == [True]
    result = ops.use_mirror(ctx(venv=str(venv)), SECRET_URL, tools=["pip"], scope=Scope.VENV, dry_run=True,
                            verify=False)
    assert [(c.path, c.private) for c in result.changes] == [(venv / "pip.conf", True)]


def test_a_change_without_a_password_is_not_made_private(sandbox):
    result = ops.use_mirror(ctx(), "https://pypi.corp.example/simple", tools=["pip", "uv"], dry_run=True, verify=False)
    assert [c.private for c in result.changes] == [False, False]
    assert not any("private" in n for n in result.notes)


def test_add_makes_the_user_catalogue_private(sandbox):
    result = ops.add_mirror(ctx(), "corp", SECRET_URL, dry_run=True, verify=False)
    [change] = result.changes
    assert change.tool == "catalogue" and change.private


def test_use_and_add_at_user_scope_leave_every_file_with_the_password_owner_only(run, sandbox):
    assert run("add", "corp", SECRET_URL).exit_code == 0
    result = run("use", "corp", "--tool", "pip,uv,pdm")
    assert result.exit_code == 0, result.stderr
    files = [sandbox.user_pip_conf, sandbox.config / "uv" / "uv.toml", sandbox.config / "pdm" / "config.toml",
             sandbox.config / "mirrorctl" / "mirrors.toml"]
    for path in files:
        assert PASSWORD in path.read_text(), path
    assert {str(p): oct(mode(p)) for p in files} == {str(p): oct(0o600) for p in files}


def test_the_real_pip_still_reads_the_private_pip_conf(run, sandbox):
    from conftest import pip_effective

    assert run("use", SECRET_URL, "--tool", "pip").exit_code == 0
    assert pip_effective("install")["install"]["index_url"] == SECRET_URL


def test_an_existing_readable_pip_conf_is_tightened_and_the_result_says_so(run, sandbox):
    conf = write(sandbox.user_pip_conf, "[global]\ntimeout = 60\n", 0o644)
    planned = ops.use_mirror(ctx(), SECRET_URL, tools=["pip"], dry_run=True, verify=False)
    assert planned.changes[0].private
    assert planned.notes == [f"would make {conf} private (0600): it now holds a password"]
    result = run("use", SECRET_URL, "--tool", "pip")
    assert result.exit_code == 0, result.stderr
    assert f"made {conf} private (0600): it now holds a password" in result.stdout
    no_password_in(result)


def test_an_existing_readable_pip_conf_ends_up_owner_only_and_undo_gives_its_mode_back(run, sandbox):
    conf = write(sandbox.user_pip_conf, "[global]\ntimeout = 60\n", 0o644)
    assert run("use", SECRET_URL, "--tool", "pip").exit_code == 0
    assert mode(conf) == 0o600
    assert run("undo").exit_code == 0
    assert conf.read_text() == "[global]\ntimeout = 60\n" and mode(conf) == 0o644


def test_an_owner_only_file_gets_no_note(run, sandbox):
    write(sandbox.user_pip_conf, "[global]\ntimeout = 60\n", 0o600)
    result = run("use", SECRET_URL, "--tool", "pip")
    assert result.exit_code == 0
    assert "private" not in result.stdout
    assert mode(sandbox.user_pip_conf) == 0o600


# -- global scope: readable by all, and said so --------------------------------------------------

def test_global_scope_writes_the_password_readably_and_warns_plainly(run, sandbox):
    result = run("use", SECRET_URL, "--tool", "pip,uv", "--scope", "global", "--root", str(sandbox.etc))
    assert result.exit_code == 0, result.stderr
    conf = sandbox.global_pip_conf
    assert PASSWORD in conf.read_text()
    assert mode(conf) & 0o044 == 0o044  # every user's pip must be able to read it
    assert "every user of this machine can read the password in" in result.stderr
    assert str(conf) in result.stderr and "--scope user" in result.stderr and "netrc" in result.stderr
    no_password_in(result)
    planned = ops.use_mirror(ctx(root=str(sandbox.etc)), SECRET_URL, tools=["pip"], scope=Scope.GLOBAL, dry_run=True,
                             verify=False)
    assert not planned.changes[0].private


# -- project scope: nothing committed holds it; ~/.netrc does -----------------------------------

@pytest.fixture
def project(sandbox) -> Path:
    folder = sandbox.root / "proj"
    write(folder / "Pipfile", '[[source]]\nname = "pypi"\nurl = "https://pypi.org/simple"\nverify_ssl = true\n\n'
                              '[packages]\nmirrorctl-demo = "*"\n')
    write(folder / "pyproject.toml", '[project]\nname = "demo-app"\nversion = "0"\nrequires-python = ">=3.9"\n'
                                     'dependencies = ["mirrorctl-demo"]\n\n[tool.poetry]\npackage-mode = false\n')
    write(folder / "uv.toml", "")
    write(folder / "pdm.toml", "")
    return folder


COMMITTED = ("Pipfile", "pyproject.toml", "uv.toml", "pdm.toml")


def use_project(run, project, url, *extra):
    return run("use", url, "--scope", "project", "--project", str(project), "--tool", "pipenv,uv,poetry,pdm", *extra)


def test_project_scope_keeps_the_password_out_of_every_committed_file(run, sandbox, project):
    result = use_project(run, project, SECRET_URL)
    assert result.exit_code == 0, result.stderr
    no_password_in(result)
    for name in COMMITTED:
        text = (project / name).read_text()
        assert "pypi.corp.example/simple" in text, name
        assert PASSWORD not in text and f"{USER}@" not in text and f"{USER}:" not in text, name
    rc = sandbox.home / ".netrc"
    assert netrc.netrc(str(rc)).authenticators("pypi.corp.example") == (USER, "", PASSWORD)
    assert f"{rc} (owner-only)" in result.stdout


def test_project_scope_plans_the_netrc_as_a_private_change_of_the_same_command(sandbox, project):
    result = ops.use_mirror(ctx(project=str(project)), SECRET_URL, tools=["uv", "pdm"], scope=Scope.PROJECT,
                            dry_run=True, verify=False)
    by_tool = {c.tool: c for c in result.changes}
    assert set(by_tool) == {"uv", "pdm", "netrc"}
    assert by_tool["netrc"].path == sandbox.home / ".netrc" and by_tool["netrc"].private
    assert not by_tool["uv"].private and not by_tool["pdm"].private


def test_the_netrc_written_is_owner_only(run, sandbox, project):
    assert use_project(run, project, SECRET_URL).exit_code == 0
    assert mode(sandbox.home / ".netrc") == 0o600


def test_netrc_variable_moves_the_file(run, sandbox, project, monkeypatch):
    elsewhere = sandbox.root / "secrets" / "netrc"
    monkeypatch.setenv("NETRC", str(elsewhere))
    assert use_project(run, project, SECRET_URL).exit_code == 0
    assert netrc.netrc(str(elsewhere)).authenticators("pypi.corp.example") == (USER, "", PASSWORD)
    assert not (sandbox.home / ".netrc").exists()


def test_an_existing_netrc_keeps_other_machines_and_updates_this_one(run, sandbox, project):
    rc = write(sandbox.home / ".netrc", "# my hosts\nmachine git.example login bob password hunter2\n"
                                        "machine pypi.corp.example\n  login old\n  password stale\n"
                                        "macdef init\ncd /pub\n\n"
                                        "default login anonymous password me@example\n", 0o600)
    assert use_project(run, project, SECRET_URL).exit_code == 0
    text = rc.read_text()
    assert text == ("# my hosts\nmachine git.example login bob password hunter2\n"
                    f"machine pypi.corp.example login {USER} password {PASSWORD}\n"
                    "macdef init\ncd /pub\n\n"
                    "default login anonymous password me@example\n")
    parsed = netrc.netrc(str(rc))
    assert parsed.authenticators("git.example") == ("bob", "", "hunter2")
    assert parsed.authenticators("pypi.corp.example") == (USER, "", PASSWORD)


def test_a_new_machine_goes_before_the_default_entry(sandbox):
    cred = credentials.credential_of(SECRET_URL)
    text = "machine a.example login a password b\ndefault login anonymous password x\n"
    assert credentials.edit_netrc(text, cred) == (
        "machine a.example login a password b\n"
        f"machine pypi.corp.example login {USER} password {PASSWORD}\n"
        "default login anonymous password x\n")
    assert credentials.edit_netrc("machine a.example login a password b", cred).endswith(
        f"password b\nmachine pypi.corp.example login {USER} password {PASSWORD}\n")


def test_a_netrc_the_tools_cannot_read_is_refused_and_nothing_is_written(run, sandbox, project):
    rc = write(sandbox.home / ".netrc", "machine a.example login a password b\nlogn x\n", 0o600)
    before = {name: (project / name).read_bytes() for name in COMMITTED}
    result = use_project(run, project, SECRET_URL)
    assert result.exit_code == 4
    assert str(rc) in result.stderr and "netrc" in result.stderr
    assert "bad follower token, line 2" in result.stderr and "logn" not in result.stderr  # it might be a password
    assert rc.read_text() == "machine a.example login a password b\nlogn x\n"
    assert {name: (project / name).read_bytes() for name in COMMITTED} == before


def test_a_password_netrc_cannot_hold_is_refused_masked(run, sandbox, project):
    result = use_project(run, project, f"https://{USER}:zz%20yy@pypi.corp.example/simple")
    assert result.exit_code == 2
    assert "zz" not in result.stderr and "yy" not in result.stderr
    assert not (sandbox.home / ".netrc").exists()


def test_a_bare_token_at_project_scope_is_refused_with_a_hint(run, sandbox, project):
    result = use_project(run, project, "https://tok3n@pypi.corp.example/simple")
    assert result.exit_code == 2
    assert "tok3n" not in result.stderr and "the token as the password" in result.stderr


def test_undo_takes_the_netrc_entry_back_with_the_rest(run, sandbox, project):
    before = {name: (project / name).read_bytes() for name in COMMITTED}
    assert use_project(run, project, SECRET_URL).exit_code == 0
    assert run("undo").exit_code == 0
    assert not (sandbox.home / ".netrc").exists()
    assert {name: (project / name).read_bytes() for name in COMMITTED} == before


# the real tools, against an index that wants the password

def test_real_uv_installs_through_the_project_uv_toml_and_the_netrc(run, sandbox, auth_index):
    if not UV.exists():
        pytest.skip("the real uv is not installed here")
    project = sandbox.root / "uvproj"
    write(project / "uv.toml", "")
    result = run("use", auth_index.url, "--scope", "project", "--project", str(project), "--tool", "uv")
    assert result.exit_code == 0, result.stderr
    assert PASSWORD not in (project / "uv.toml").read_text()
    target = sandbox.root / "target"
    proc = subprocess.run([str(UV), "pip", "install", "--python", sys.executable, "--target", str(target),
                           "--no-cache", "mirrorctl-demo"], capture_output=True, text=True, cwd=project,
                          stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (target / "mirrorctl_demo" / "__init__.py").exists()
    assert auth_index.authorized_downloads()


def test_without_the_netrc_real_uv_is_refused(run, sandbox, auth_index):
    """The judge can fail: the same project without ~/.netrc gets a 401."""
    if not UV.exists():
        pytest.skip("the real uv is not installed here")
    project = sandbox.root / "uvproj"
    write(project / "uv.toml", "")
    assert run("use", auth_index.url, "--scope", "project", "--project", str(project), "--tool", "uv").exit_code == 0
    (sandbox.home / ".netrc").unlink()
    proc = subprocess.run([str(UV), "pip", "install", "--python", sys.executable, "--target",
                           str(sandbox.root / "target"), "--no-cache", "mirrorctl-demo"], capture_output=True,
                          text=True, cwd=project, stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode != 0 and "401" in proc.stderr
    assert not auth_index.authorized_downloads()


def test_real_pip_reads_the_netrc_mirrorctl_wrote(run, sandbox, auth_index, project):
    from conftest import real_pip

    assert use_project(run, project, auth_index.url).exit_code == 0
    real_pip("download", "--no-deps", "-d", str(sandbox.root / "dl"), "-i", auth_index.bare,
             "--trusted-host", f"127.0.0.1:{auth_index.port}", "mirrorctl-demo")
    assert (sandbox.root / "dl" / "mirrorctl_demo-1.0-py3-none-any.whl").exists()
    assert auth_index.authorized_downloads()


@needs_pipenv
def test_real_pipenv_locks_through_the_pipfile_and_the_netrc(run, sandbox, auth_index, project):
    assert run("use", auth_index.url, "--scope", "project", "--project", str(project), "--tool", "pipenv").exit_code == 0
    assert PASSWORD not in (project / "Pipfile").read_text()
    proc = subprocess.run([sys.executable, "-m", "pipenv", "lock"], capture_output=True, text=True, cwd=project,
                          env={**os.environ, "PIPENV_YES": "1", "PIPENV_NOSPIN": "1"},
                          stdin=subprocess.DEVNULL, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert '"mirrorctl-demo"' in (project / "Pipfile.lock").read_text()
    assert PASSWORD not in (project / "Pipfile.lock").read_text()
    assert any(line.startswith("/simple/") and line.endswith(PASSWORD) for line in auth_index.log.read_text().splitlines())


@pytest.mark.skipif(not POETRY.exists(), reason="the real Poetry is not installed here")
def test_real_poetry_locks_through_the_pyproject_and_the_netrc(run, sandbox, auth_index, project):
    assert run("use", auth_index.url, "--scope", "project", "--project", str(project), "--tool", "poetry").exit_code == 0
    assert PASSWORD not in (project / "pyproject.toml").read_text()
    proc = subprocess.run([str(POETRY), "--no-interaction", "lock"], capture_output=True, text=True, cwd=project,
                          env={**os.environ, "POETRY_VIRTUALENVS_IN_PROJECT": "false"},
                          stdin=subprocess.DEVNULL, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'name = "mirrorctl-demo"' in (project / "poetry.lock").read_text()
    assert PASSWORD not in (project / "poetry.lock").read_text()
    assert auth_index.authorized_downloads()


def test_pdm_s_netrc_reader_finds_the_credential(run, sandbox, project):
    """PDM reads ~/.netrc through unearth, with Python's netrc check: owner-only, or it ignores it."""
    assert use_project(run, project, SECRET_URL).exit_code == 0
    code = "from unearth.utils import get_netrc_auth; print(get_netrc_auth('https://pypi.corp.example/simple'))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == repr((USER, PASSWORD)), proc.stderr


# -- masking, rotation ----------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["https://u:pa ss@pypi.corp.example/simple", "https://u:pa\tss@pypi.corp.example/simple",
                                 "https://u:pa ss@pypi.corp.example:99999/simple"])
@pytest.mark.parametrize("command", [("use",), ("add", "corp")])
def test_an_invalid_url_is_reported_masked(run_cli, command, bad):
    result = run_cli(*command, bad)
    assert result.exit_code == 2
    assert "u:****@pypi.corp.example" in result.stderr
    assert "pa" not in result.stderr.replace("path", "").replace("space", "")


def test_masked_before_validation_in_process():
    with pytest.raises(UsageError) as err:
        ops.use_mirror(ctx(), "https://u:pa/ss@pypi.corp.example/simple", tools=["pip"], dry_run=True, verify=False)
    assert "pa/ss" not in err.value.message and "****" in err.value.message


def test_a_rotated_token_is_a_change_and_check_says_so(run, sandbox):
    assert run("use", SECRET_URL, "--tool", "pip,uv").exit_code == 0
    same = run("use", SECRET_URL, "--tool", "pip,uv", "--check")
    assert same.exit_code == 0 and "already in that state" in same.stdout
    rotated = run("use", ROTATED_URL, "--tool", "pip,uv", "--check")
    assert rotated.exit_code == 3
    assert "n3w-Tok" not in rotated.stdout + rotated.stderr and PASSWORD not in rotated.stdout + rotated.stderr
    result = run("use", ROTATED_URL, "--tool", "pip,uv")
    assert result.exit_code == 0
    assert "n3w-Tok" in sandbox.user_pip_conf.read_text() and PASSWORD not in sandbox.user_pip_conf.read_text()
    assert "n3w-Tok" in (sandbox.config / "uv" / "uv.toml").read_text()
    assert run("use", ROTATED_URL, "--tool", "pip,uv", "--check").exit_code == 0


def test_a_rotated_token_at_project_scope_rewrites_the_netrc_only(run, sandbox, project):
    def use(url, *extra):
        return run("use", url, "--scope", "project", "--project", str(project), "--tool", "uv,poetry,pdm", *extra)

    assert use(SECRET_URL).exit_code == 0
    committed = {name: (project / name).read_bytes() for name in COMMITTED}
    assert use(SECRET_URL, "--check").exit_code == 0
    assert use(ROTATED_URL, "--check").exit_code == 3
    assert use(ROTATED_URL).exit_code == 0
    assert netrc.netrc(str(sandbox.home / ".netrc")).authenticators("pypi.corp.example") == (USER, "", "n3w-Tok")
    assert {name: (project / name).read_bytes() for name in COMMITTED} == committed


def test_status_masks_and_tools_that_differ_only_in_the_token_agree(run, sandbox):
    assert run("use", SECRET_URL, "--tool", "pip").exit_code == 0
    assert run("use", ROTATED_URL, "--tool", "uv").exit_code == 0
    result = run("status", "--tool", "pip", "--tool", "uv", "--json")
    no_password_in(result)
    assert "n3w-Tok" not in result.stdout
    report = result.json()
    assert not any("disagree" in w for w in report["warnings"])
    assert {t["index_url"] for t in report["tools"]} == {f"https://{USER}:****@pypi.corp.example/simple"}


def test_dry_run_diffs_mask_the_password(run, sandbox, project):
    result = run("use", SECRET_URL, "--tool", "pip,uv,pdm", "--dry-run")
    assert result.exit_code == 0
    assert f"{USER}:****@pypi.corp.example" in result.stdout
    no_password_in(result)
    result = use_project(run, project, SECRET_URL, "--dry-run")
    assert result.exit_code == 0
    assert f"+machine pypi.corp.example login {USER} password ****" in result.stdout
    no_password_in(result)
    as_json = use_project(run, project, SECRET_URL, "--dry-run", "--json")
    no_password_in(as_json)
    assert not (sandbox.home / ".netrc").exists()


# -- shell start-up files -------------------------------------------------------------------------

def test_a_credential_headed_for_a_shell_start_up_file_is_refused(sandbox):
    rc = sandbox.home / ".bashrc"
    change = FileChange(rc, b"alias ll='ls -l'\n", f"export PIPENV_PYPI_MIRROR={SECRET_URL}\n".encode(),
                        tool="pipenv", scope="user")
    with pytest.raises(UsageError) as err:
        credentials.protect([change], SECRET_URL)
    assert str(rc) in err.value.message and PASSWORD not in err.value.message and err.value.hint
    assert not change.private
    # a password the user put there already is not mirrorctl's to refuse, nor to make private
    mine = FileChange(rc, change.after, change.after + b"# >>> mirrorctl pipenv >>>\n# <<< mirrorctl pipenv <<<\n",
                      tool="pipenv", scope="user")
    credentials.protect([mine])
    assert not mine.private


def test_pipenv_at_user_scope_never_puts_the_password_in_a_start_up_file(run, sandbox):
    result = run("use", SECRET_URL, "--tool", "pipenv")
    no_password_in(result)
    assert result.exit_code in (0, 2)
    if result.exit_code == 2:
        assert "shell start-up file" in result.stderr
    for name in (".bashrc", ".bash_profile", ".profile", ".zshrc"):
        path = sandbox.home / name
        assert not path.exists() or PASSWORD not in path.read_text(), name


@pytest.mark.parametrize("path, startup", [
    ("home/.bashrc", True), ("home/.zshrc", True), ("home/.profile", True),
    ("home/.config/fish/conf.d/mirrorctl.fish", True), ("home/.config/fish/config.fish", True),
    ("home/Documents/PowerShell/Microsoft.PowerShell_profile.ps1", True), ("home/Documents/PowerShell/profile.ps1", True),
    # a private file that a start-up file sources may hold it
    ("home/.config/mirrorctl/pipenv.fish", False), ("home/.config/mirrorctl/pipenv.env", False),
    ("home/.config/pip/pip.conf", False),
])
def test_which_files_are_shell_start_up_files(path, startup):
    assert credentials.is_shell_startup(Path(path)) is startup


def test_a_credential_headed_for_a_utf16_powershell_profile_is_refused(sandbox):
    profile = sandbox.home / "Documents" / "PowerShell" / "profile.ps1"
    after = f"$env:PIPENV_PYPI_MIRROR = '{SECRET_URL}'\r\n".encode("utf-16")
    with pytest.raises(UsageError):
        credentials.protect([FileChange(profile, None, after, tool="pipenv", scope="user")], SECRET_URL)


def test_a_private_file_sourced_by_a_start_up_file_is_made_private(sandbox):
    sourced = sandbox.config / "mirrorctl" / "pipenv.fish"
    change = FileChange(sourced, None, f"set -gx PIPENV_PYPI_MIRROR {SECRET_URL}\n".encode(), tool="pipenv",
                        scope="user")
    credentials.protect([change], SECRET_URL)
    assert change.private


def test_the_journal_masks_a_password_with_a_space_in_the_command_line(run, sandbox, monkeypatch):
    result = run("use", "https://bob:pa ss@pypi.corp.example/simple", "--tool", "pip")
    assert result.exit_code == 2  # refused: a space is no part of a URL
    assert "pa ss" not in result.stderr
    assert run("use", "https://bob:s3cret@pypi.corp.example/simple", "--tool", "pip").exit_code == 0
    from mirrorctl.cli.app import command_line

    monkeypatch.setattr("sys.argv", ["mirrorctl", "use", "https://bob:pa ss@pypi.corp.example/simple"])
    assert "pa ss" not in command_line() and "bob:****@" in command_line()
    assert "s3cret" not in run("history", "--json").stdout


def _use_at_project_scope_with(run, sandbox, netrc_text: str):
    """`use` of bob's private index in a uv project, with this ~/.netrc already there."""
    netrc_file = sandbox.home / ".netrc"
    netrc_file.write_text(netrc_text)
    netrc_file.chmod(0o600)
    project = sandbox.root / "proj"
    project.mkdir()
    (project / "uv.toml").write_text("# uv\n")
    result = run("use", "https://bob:s3cret@pypi.corp.example/simple", "--scope", "project",
                 "--project", str(project), "--tool", "uv")
    return netrc_file, project, result


def test_a_netrc_line_swallowed_by_an_unclosed_quote_is_refused(run, sandbox):
    netrc_file, project, result = _use_at_project_scope_with(run, sandbox, 'machine x login y password "a b\n')
    assert result.exit_code == 4, result.stdout + result.stderr
    assert "would not read the new login" in result.stderr and "s3cret" not in result.stderr
    assert netrc_file.read_text() == 'machine x login y password "a b\n'
    assert (project / "uv.toml").read_text() == "# uv\n"


def test_replacing_another_login_for_the_same_host_in_netrc_is_said(run, sandbox):
    netrc_file, project, result = _use_at_project_scope_with(
        run, sandbox, "machine pypi.corp.example\n  login alice\n  password old\n")
    assert result.exit_code == 0, result.stderr
    assert "had the login 'alice'" in result.stdout and "old" not in result.stdout.split("alice", 1)[1][:40]
    assert run("undo").exit_code == 0
    assert netrc_file.read_text() == "machine pypi.corp.example\n  login alice\n  password old\n"


def test_a_rotated_token_is_named_as_such_since_the_masked_diff_looks_unchanged(run, sandbox):
    assert run("use", SECRET_URL, "--tool", "pip").exit_code == 0
    check = run("use", ROTATED_URL, "--tool", "pip", "--check")
    assert check.exit_code == 3
    assert "only the credential changes" in check.stdout and "n3w-Tok" not in check.stdout
