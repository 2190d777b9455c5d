"""pipenv's PIPENV_PYPI_MIRROR at user scope reaches the shells the user really starts: judged by
the real bash, zsh, fish and sh, interactive and login, in the sandboxed HOME; and `status` says
when the running environment does not have the value yet."""

import os
import shutil
import subprocess
import sys

import pytest

TUNA = "https://pypi.tuna.tsinghua.edu.cn/simple"
ALIYUN = "https://mirrors.aliyun.com/pypi/simple"
BEGIN = "# >>> mirrorctl pipenv >>>"
PROFILE = "# ~/.bash_profile of a real user\nexport EDITOR=vim\n"
# what Debian's /etc/skel gives every new user: .profile sources .bashrc, which stops early
# when the shell is not interactive (so a block at its end never reaches `bash -lc`)
SKEL_PROFILE = ('if [ -n "$BASH_VERSION" ]; then\n    if [ -f "$HOME/.bashrc" ]; then\n'
                '\t. "$HOME/.bashrc"\n    fi\nfi\n')
SKEL_BASHRC = "case $- in\n    *i*) ;;\n      *) return;;\nesac\nalias ll='ls -l'\n"


def sees(*argv: str, env=None) -> str:
    """What a new shell of the sandboxed user has in PIPENV_PYPI_MIRROR (``argv`` up to -c)."""
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    proc = subprocess.run([*argv, 'printf %s "$PIPENV_PYPI_MIRROR"'], capture_output=True, text=True,
                          env={**os.environ, "TERM": "dumb", **(env or {})}, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


BASH = (("bash", "-ic"), ("bash", "-lc"), ("bash", "-lic"))


def bash_sees() -> set:
    return {sees(*argv) for argv in BASH}


def pipenv_status(run):
    return run("status", "--tool", "pipenv", "--json").json()["tools"][0]


@pytest.fixture(autouse=True)
def no_zdotdir(monkeypatch):
    monkeypatch.delenv("ZDOTDIR", raising=False)


# -- bash ----------------------------------------------------------------------------------

@pytest.mark.parametrize("login_file", [".bash_profile", ".bash_login", ".profile"])
def test_only_a_login_file_interactive_and_login_bash_see_it(run, sandbox, login_file):
    path = sandbox.home / login_file
    path.write_text(PROFILE)
    assert run("use", "tuna", "-t", "pipenv").exit_code == 0
    assert path.read_text().startswith(PROFILE) and path.read_text().count(BEGIN) == 1
    assert (sandbox.home / ".bashrc").read_text().count(BEGIN) == 1
    assert bash_sees() == {TUNA}
    assert run("use", "aliyun", "-t", "pipenv").exit_code == 0
    assert bash_sees() == {ALIYUN}
    # reset and undo cover every file written, in one journal entry each
    assert run("reset", "-t", "pipenv").exit_code == 0
    assert path.read_text() == PROFILE and not (sandbox.home / ".bashrc").exists()
    assert bash_sees() == {""}
    assert run("undo").exit_code == 0 and bash_sees() == {ALIYUN}
    assert run("undo").exit_code == 0 and bash_sees() == {TUNA}
    assert run("undo").exit_code == 0
    assert path.read_text() == PROFILE and not (sandbox.home / ".bashrc").exists()


def test_no_start_up_file_at_all_creates_bashrc_and_profile(run, sandbox):
    data = run("use", "tuna", "-t", "pipenv", "--json").json()
    assert {f["path"] for f in data["files"]} == {str(sandbox.home / ".bashrc"), str(sandbox.home / ".profile")}
    assert bash_sees() == {TUNA}
    assert sees("sh", "-lc") == TUNA  # ~/.profile is what sh login shells read too
    assert [sorted(f["path"] for f in e["files"]) for e in run("history", "--json").json()] == [
        sorted({str(sandbox.home / ".bashrc"), str(sandbox.home / ".profile")})]
    assert run("reset", "-t", "pipenv").exit_code == 0
    assert not (sandbox.home / ".bashrc").exists() and not (sandbox.home / ".profile").exists()


def test_debian_skeleton_where_bashrc_stops_early_for_login_shells(run, sandbox):
    (sandbox.home / ".profile").write_text(SKEL_PROFILE)
    (sandbox.home / ".bashrc").write_text(SKEL_BASHRC)
    assert run("use", "tuna", "-t", "pipenv").exit_code == 0
    assert bash_sees() == {TUNA}
    assert not (sandbox.home / ".bash_profile").exists()


def test_a_bash_profile_that_sources_bashrc_gets_the_same_value_twice_harmlessly(run, sandbox):
    """A login shell runs both blocks; they always hold the same value (written together), so
    the second assignment restates the first, whatever the order."""
    profile = sandbox.home / ".bash_profile"
    profile.write_text('[ -f ~/.bashrc ] && . ~/.bashrc\n')
    assert run("use", "tuna", "-t", "pipenv").exit_code == 0
    assert run("use", "aliyun", "-t", "pipenv").exit_code == 0
    assert bash_sees() == {ALIYUN}
    st = pipenv_status(run)
    # one setting, not one shadowing the other: nothing to warn about
    assert st["index_url"] == ALIYUN and st["shadowed"] == [] and st["warnings"] == []
    values = [f["values"].get("PIPENV_PYPI_MIRROR") for f in st["files"] if f["path"] in
              (str(profile), str(sandbox.home / ".bashrc"))]
    assert values == [ALIYUN, ALIYUN]


def test_a_block_in_a_login_file_bash_no_longer_reads_is_named_and_moved(run, sandbox):
    (sandbox.home / ".profile").write_text(PROFILE)
    assert run("use", "tuna", "-t", "pipenv").exit_code == 0
    (sandbox.home / ".bash_profile").write_text(PROFILE)  # an installer creates it: bash now reads it instead
    assert sees("bash", "-lc") == ""
    st = pipenv_status(run)
    assert any(".profile sets PIPENV_PYPI_MIRROR, but bash login shells read" in w and ".bash_profile" in w
               for w in st["warnings"])
    assert run("use", "tuna", "-t", "pipenv").exit_code == 0
    assert bash_sees() == {TUNA}
    assert pipenv_status(run)["warnings"] == []
    assert run("reset", "-t", "pipenv").exit_code == 0  # every block goes, also the one bash does not read
    assert (sandbox.home / ".profile").read_text() == PROFILE == (sandbox.home / ".bash_profile").read_text()


# -- zsh and fish --------------------------------------------------------------------------

def test_zsh_interactive_login_and_scripts_see_it(run, sandbox, monkeypatch):
    monkeypatch.setenv("SHELL", "/usr/bin/zsh")
    (sandbox.home / ".zshrc").write_text("alias ll='ls -l'\n")
    assert run("use", "tuna", "-t", "pipenv").exit_code == 0
    assert (sandbox.home / ".zshrc").read_text() == "alias ll='ls -l'\n"  # .zshenv: read by every zsh
    assert {sees("zsh", "-ic"), sees("zsh", "-lc"), sees("zsh", "-c")} == {TUNA}
    assert not (sandbox.home / ".bashrc").exists() and not (sandbox.home / ".profile").exists()
    assert run("reset", "-t", "pipenv").exit_code == 0
    assert not (sandbox.home / ".zshenv").exists() and sees("zsh", "-lc") == ""


def test_an_old_block_in_zshrc_is_kept_in_step(run, sandbox, monkeypatch):
    monkeypatch.setenv("SHELL", "/usr/bin/zsh")
    (sandbox.home / ".zshrc").write_text(f"{BEGIN}\nexport PIPENV_PYPI_MIRROR='{TUNA}'\n# <<< mirrorctl pipenv <<<\n")
    assert run("use", "aliyun", "-t", "pipenv").exit_code == 0
    assert {sees("zsh", "-ic"), sees("zsh", "-lc")} == {ALIYUN}
    assert ALIYUN in (sandbox.home / ".zshrc").read_text()
    assert run("reset", "-t", "pipenv").exit_code == 0
    assert not (sandbox.home / ".zshrc").exists() and not (sandbox.home / ".zshenv").exists()


def test_fish_sees_it_interactive_login_and_command(run, sandbox, monkeypatch):
    monkeypatch.setenv("SHELL", "/usr/bin/fish")
    assert run("use", "tuna", "-t", "pipenv").exit_code == 0
    assert {sees("fish", "-c"), sees("fish", "-l", "-c"), sees("fish", "-i", "-c")} == {TUNA}
    assert not (sandbox.home / ".bashrc").exists()


# -- status: in force for new shells, not yet in this one -------------------------------------

def mirrorctl_on_path(sandbox):
    exe = sandbox.root / "bin" / "mirrorctl"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mirrorctl "$@"\n')
    exe.chmod(0o755)


@pytest.mark.parametrize("shell, argv", [("/bin/bash", ("bash", "-c")), ("/usr/bin/zsh", ("zsh", "-fc")),
                                         ("/usr/bin/fish", ("fish", "--no-config", "-c"))])
def test_status_says_set_for_new_shells_and_its_command_sets_it_here(run, sandbox, monkeypatch, shell, argv):
    monkeypatch.setenv("SHELL", shell)
    mirrorctl_on_path(sandbox)
    assert run("use", "tuna", "-t", "pipenv").exit_code == 0
    st = pipenv_status(run)
    assert st["index_url"] == TUNA and st["origin"]["kind"] == "file"
    command = st["for_new_shells"]
    assert "mirrorctl env tuna" in command
    text = run("status", "--tool", "pipenv").stdout
    assert "set for new shells (open one, or" in " ".join(text.split())
    # the command it names sets the value in a shell that did not read the start-up files
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    proc = subprocess.run([*argv, f'{command}; printf %s "$PIPENV_PYPI_MIRROR"'], capture_output=True,
                          text=True, env={**os.environ, "TERM": "dumb"}, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 0 and proc.stdout == TUNA, proc.stderr
    # once the running environment has it, the line says nothing more
    monkeypatch.setenv("PIPENV_PYPI_MIRROR", TUNA)
    assert pipenv_status(run)["for_new_shells"] is None
    assert "set for new shells" not in run("status", "--tool", "pipenv").stdout


def test_status_hint_for_a_url_with_a_credential_sources_the_private_file(run, sandbox):
    url = "https://bob:s3cret@corp.example/simple"
    assert run("use", url, "-t", "pipenv").exit_code == 0
    st = pipenv_status(run)
    assert st["for_new_shells"].startswith(". '") and "pipenv-mirror.sh" in st["for_new_shells"]
    assert "s3cret" not in run("status", "--tool", "pipenv").stdout
    proc = subprocess.run(["bash", "-c", f'{st["for_new_shells"]}; printf %s "$PIPENV_PYPI_MIRROR"'],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.stdout == url
