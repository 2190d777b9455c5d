"""pipenv: the Pipfile's source (project scope) and PIPENV_PYPI_MIRROR in the shell start-up files
(user scope), judged by the real pipenv, bash, zsh and fish."""

import os
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from conftest import needs_pipenv

from mirrorctl.catalog import Mirror
from mirrorctl.context import Context, Scope
from mirrorctl.errors import ConfigFileError, MirrorctlError
from mirrorctl.formats import shellrc
from mirrorctl.targets import pipenv, pipenv_shell
from servers import PypiServer, make_wheel

TUNA = "https://pypi.tuna.tsinghua.edu.cn/simple"
ALIYUN = "https://mirrors.aliyun.com/pypi/simple"
OFFICIAL = "https://pypi.org/simple"
BEGIN, END = "# >>> mirrorctl pipenv >>>", "# <<< mirrorctl pipenv <<<"

PIPFILE = (
    "# the web team's project\n"
    "[[source]]\n"
    "url = 'https://pypi.org/simple'   # the default index\n"
    "verify_ssl = true\n"
    'name = "pypi"\n'
    "\n"
    "[[source]]  # private packages\n"
    'name = "corp"\n'
    'url = "https://corp.example/simple"\n'
    "verify_ssl = true\n"
    "\n"
    "[packages]\n"
    'requests = "*"   # http\n'
    'internal = {version = "*", index = "corp"}\n'
    "\n"
    "[requires]\n"
    'python_version = "3.11"\n'
)

BASHRC = "# ~/.bashrc of a real user\nalias ll='ls -l'\nexport EDITOR=vim\n"


@pytest.fixture(autouse=True)
def login_shell(monkeypatch):
    """A known login shell, and no ZDOTDIR of the developer's pointing outside the sandbox."""
    monkeypatch.setenv("SHELL", "/bin/bash")
    monkeypatch.delenv("ZDOTDIR", raising=False)


@pytest.fixture
def project(sandbox):
    folder = sandbox.root / "proj"
    folder.mkdir()
    return folder


@pytest.fixture
def bash_user(sandbox):
    rc = sandbox.home / ".bashrc"
    rc.write_text(BASHRC)
    return rc


def shell_sees(shell: str) -> str:
    """What a new interactive shell of the sandboxed user has in PIPENV_PYPI_MIRROR."""
    proc = subprocess.run([shell, "-ic", 'printf %s "$PIPENV_PYPI_MIRROR"'], capture_output=True, text=True,
                          env={**os.environ, "TERM": "dumb"}, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# -- the Pipfile ------------------------------------------------------------------------

def test_project_scope_changes_only_the_official_source(run, project):
    (project / "Pipfile").write_text(PIPFILE)
    result = run("use", "tuna", "--tool", "pipenv", "--scope", "project", "--project", str(project))
    assert result.exit_code == 0, result.stderr
    # the url in its quote style, the comment after it, the private source and the rest: as they were
    assert (project / "Pipfile").read_text() == PIPFILE.replace("'https://pypi.org/simple'", f"'{TUNA}'")


def test_project_scope_defaults_to_the_current_folder(run, project, monkeypatch):
    (project / "Pipfile").write_text(PIPFILE)
    monkeypatch.chdir(project)
    assert run("use", "aliyun", "--tool", "pipenv", "--scope", "project").exit_code == 0
    assert f"url = '{ALIYUN}'" in (project / "Pipfile").read_text()


@pytest.mark.parametrize("official", ["https://pypi.org/simple", "https://pypi.org/simple/", "http://pypi.org/simple",
                                      "https://pypi.python.org/simple/"])
def test_every_form_of_the_official_index_is_switched(run, project, official):
    (project / "Pipfile").write_text(f'[[source]]\nname = "pypi"\nurl = "{official}"\nverify_ssl = true\n')
    assert run("use", "tuna", "-t", "pipenv", "-s", "project", "--project", str(project)).exit_code == 0
    assert (project / "Pipfile").read_text() == f'[[source]]\nname = "pypi"\nurl = "{TUNA}"\nverify_ssl = true\n'


def test_a_catalogue_mirror_is_switched_and_reset_puts_the_official_index_back(run, project):
    (project / "Pipfile").write_text(f'[[source]]\nname = "tsinghua"\nurl = "{TUNA}/"\nverify_ssl = true\n')
    args = ("-t", "pipenv", "-s", "project", "--project", str(project))
    assert run("use", "http://mirrors.aliyun.com/pypi/simple", *args).exit_code == 0
    assert (project / "Pipfile").read_text() == (
        '[[source]]\nname = "tsinghua"\nurl = "http://mirrors.aliyun.com/pypi/simple"\nverify_ssl = false\n')
    assert run("use", "tuna", *args).exit_code == 0
    assert (project / "Pipfile").read_text() == f'[[source]]\nname = "tsinghua"\nurl = "{TUNA}"\nverify_ssl = true\n'
    assert run("reset", *args).exit_code == 0
    assert (project / "Pipfile").read_text() == f'[[source]]\nname = "tsinghua"\nurl = "{OFFICIAL}"\nverify_ssl = true\n'


def test_twice_is_the_same_bytes_and_one_journal_entry(run, project):
    (project / "Pipfile").write_text(PIPFILE)
    args = ("use", "tuna", "-t", "pipenv", "-s", "project", "--project", str(project))
    run(*args)
    first = (project / "Pipfile").read_bytes()
    result = run(*args)
    assert result.exit_code == 0 and "already" in result.stdout
    assert (project / "Pipfile").read_bytes() == first
    assert len(run("history", "--json").json()) == 1


def test_verify_ssl_is_added_when_missing_and_crlf_is_kept(run, project):
    (project / "Pipfile").write_bytes(b'[[source]]\r\nname = "pypi"\r\nurl = "https://pypi.org/simple"\r\n\r\n'
                                      b'[packages]\r\n')
    assert run("use", "tuna", "-t", "pipenv", "-s", "project", "--project", str(project)).exit_code == 0
    data = (project / "Pipfile").read_bytes()
    assert data.startswith(f'[[source]]\r\nname = "pypi"\r\nurl = "{TUNA}"\r\n'.encode())
    assert b"verify_ssl = true" in data and b"\r\n[packages]\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")  # the line added gets CRLF too


def test_a_source_added_to_a_crlf_pipfile_is_crlf(run, project):
    (project / "Pipfile").write_bytes(b'[packages]\r\nrequests = "*"\r\n')
    assert run("use", "tuna", "-t", "pipenv", "-s", "project", "--project", str(project)).exit_code == 0
    assert (project / "Pipfile").read_bytes() == (
        f'[packages]\r\nrequests = "*"\r\n\r\n[[source]]\r\nname = "pypi"\r\nurl = "{TUNA}"\r\n'
        'verify_ssl = true\r\n').encode()


def test_a_pipfile_without_sources_gets_one(run, project):
    (project / "Pipfile").write_text('[packages]\nrequests = "*"\n')
    assert run("use", "tuna", "-t", "pipenv", "-s", "project", "--project", str(project)).exit_code == 0
    text = (project / "Pipfile").read_text()
    assert text.startswith('[packages]\nrequests = "*"\n')
    assert f'[[source]]\nname = "pypi"\nurl = "{TUNA}"\nverify_ssl = true\n' in text


def test_an_empty_inline_source_array_gets_the_source(run, project):
    (project / "Pipfile").write_text('source = []\n\n[packages]\nrequests = "*"\n')
    args = ("-t", "pipenv", "-s", "project", "--project", str(project))
    result = run("use", "tuna", *args)
    assert result.exit_code == 0, result.stderr
    assert (project / "Pipfile").read_text() == (f'source = [{{name = "pypi", url = "{TUNA}", verify_ssl = true}}]\n'
                                                 '\n[packages]\nrequests = "*"\n')
    assert run("reset", *args).exit_code == 0
    assert f'url = "{OFFICIAL}"' in (project / "Pipfile").read_text()


def test_inline_source_array_is_edited_in_place(run, project):
    (project / "Pipfile").write_text('source = [{name = "pypi", url = "https://pypi.org/simple", verify_ssl = true}]\n')
    assert run("use", "tuna", "-t", "pipenv", "-s", "project", "--project", str(project)).exit_code == 0
    assert (project / "Pipfile").read_text() == f'source = [{{name = "pypi", url = "{TUNA}", verify_ssl = true}}]\n'


def test_private_sources_only_is_a_clear_error_and_nothing_is_written(run, project):
    text = '[[source]]\nname = "corp"\nurl = "https://corp.example/simple"\nverify_ssl = true\n'
    (project / "Pipfile").write_text(text)
    result = run("use", "tuna", "-t", "pipenv", "-s", "project", "--project", str(project))
    assert result.exit_code == 2
    assert "private sources are left alone" in result.stderr and str(project / "Pipfile") in result.stderr
    assert (project / "Pipfile").read_text() == text


def test_no_pipfile_is_a_usage_error_naming_the_folder(run, project):
    result = run("use", "tuna", "-t", "pipenv", "-s", "project", "--project", str(project))
    assert result.exit_code == 2
    assert f"no Pipfile in {project}" in result.stderr and len(result.stderr.splitlines()) == 1
    assert list(project.iterdir()) == []


def test_broken_pipfile_is_refused_with_its_name(run, project):
    (project / "Pipfile").write_text("[[source]\nurl = \n")
    result = run("use", "tuna", "-t", "pipenv", "-s", "project", "--project", str(project))
    assert result.exit_code == 4 and str(project / "Pipfile") in result.stderr
    status = run("status", "--tool", "pipenv", "--project", str(project), "--json")
    assert status.exit_code == 4 and "not valid TOML" in status.json()["tools"][0]["error"]


def test_the_first_switchable_source_is_rewritten_even_when_it_is_not_the_first(run, project):
    """What the docs say: the first source that points at the official index or a catalogue mirror,
    which is not always the first source (the one pipenv takes as its index)."""
    text = ('[[source]]\nname = "corp"\nurl = "https://corp.example/simple"\nverify_ssl = true\n\n'
            '[[source]]\nname = "pypi"\nurl = "https://pypi.org/simple"\nverify_ssl = true\n\n'
            f'[[source]]\nname = "mirror"\nurl = "{ALIYUN}"\nverify_ssl = true\n')
    (project / "Pipfile").write_text(text)
    result = run("use", "tuna", "-t", "pipenv", "-s", "project", "--project", str(project))
    assert result.exit_code == 0, result.stderr
    assert (project / "Pipfile").read_text() == text.replace('"https://pypi.org/simple"', f'"{TUNA}"')
    # and pipenv keeps its first source as the index: use says so
    assert "pipenv will still use https://corp.example/simple" in result.stderr


UNLISTED = "https://pypi.unlisted-mirror.invalid/simple"  # a mirror of PyPI the catalogue does not know
SLOT = f'[[source]]\nname = "pypi"\nurl = "{UNLISTED}"\nverify_ssl = true\n\n[packages]\nrequests = "*"\n'


def test_the_pypi_slot_on_an_unlisted_mirror_is_not_already_the_mirror(run, project, monkeypatch):
    """The source named pypi is the public-index slot: on a mirror the catalogue lacks, neither
    --check nor use may claim "already"; use rewrites it, and says what it replaced."""
    monkeypatch.chdir(project)
    (project / "Pipfile").write_text(SLOT)
    for tool in ([], ["--tool", "pipenv"]):
        check = run("use", "tuna", "--scope", "project", "--check", *tool)
        assert check.exit_code == 3, check.stdout + check.stderr
        assert "already" not in check.stdout and (project / "Pipfile").read_text() == SLOT
    result = run("use", "tuna", "--scope", "project")
    assert result.exit_code == 0, result.stderr
    assert (project / "Pipfile").read_text() == SLOT.replace(UNLISTED, TUNA)
    assert f"source 'pypi' pointed at {UNLISTED}, which is not in the catalogue" in result.stdout + result.stderr
    st = run("status", "--tool", "pipenv", "--json").json()["tools"][0]
    assert st["mirror"] == "tuna" and st["index_url"] == TUNA
    assert run("use", "tuna", "--scope", "project", "--check").exit_code == 0  # now it is so
    assert run("undo").exit_code == 0 and (project / "Pipfile").read_text() == SLOT


def test_reset_puts_the_official_index_into_the_pypi_slot_and_check_does_not_say_already(run, project):
    (project / "Pipfile").write_text(SLOT)
    args = ("reset", "-t", "pipenv", "-s", "project", "--project", str(project))
    assert run(*args, "--check").exit_code == 3
    assert run(*args).exit_code == 0
    assert (project / "Pipfile").read_text() == SLOT.replace(UNLISTED, OFFICIAL)
    assert run(*args, "--check").exit_code == 0


def test_the_pypi_slot_is_the_one_rewritten_when_it_comes_before_a_switchable_source(run, project):
    text = (SLOT.split("[packages]")[0] + '[[source]]\nname = "official"\nurl = "https://pypi.org/simple"\n'
            'verify_ssl = true\n')
    (project / "Pipfile").write_text(text)
    result = run("use", "tuna", "-t", "pipenv", "-s", "project", "--project", str(project))
    assert result.exit_code == 0, result.stderr
    assert (project / "Pipfile").read_text() == text.replace(UNLISTED, TUNA)
    assert "will still use" not in result.stderr  # pipenv's first source is the mirror now


SOURCE = '[[source]]\nname = "pypi"\nurl = "https://pypi.org/simple"\nverify_ssl = true\n\n'


@pytest.mark.parametrize("text, fragment", [
    (SOURCE + '[packages]\nrequests = "*"\nrequests = "*"\n', "Cannot overwrite a value (at line 8, column 15)"),
    (SOURCE + '[packages]\nrequests = "*"\n\n[packages]\nflask = "*"\n', "Cannot declare ('packages',) twice"),
    ('[[source]]\nname = "pypi"\nname = "other"\nurl = "https://pypi.org/simple"\n', "at line 3"),
])
def test_a_pipfile_with_a_duplicate_key_is_one_error_line_naming_it(run, project, text, fragment):
    (project / "Pipfile").write_text(text)
    result = run("use", "tuna", "-t", "pipenv", "-s", "project", "--project", str(project))
    assert result.exit_code == 4, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(project / "Pipfile") in lines[0], lines
    assert "not valid TOML" in lines[0] and fragment in lines[0] and "hint:" in lines[0], lines
    assert "internal error" not in result.stderr
    assert (project / "Pipfile").read_text() == text
    assert run("history", "--json").json() == []
    status = run("status", "--tool", "pipenv", "--project", str(project), "--json")
    assert status.exit_code == 4 and "not valid TOML" in status.json()["tools"][0]["error"]
    # the real pipenv refuses the file too
    assert real_pipenv(project, "scripts").returncode != 0


def test_invalid_utf8_pipfile_is_refused_with_its_name(run, project):
    data = b'[[source]]\nname = "pypi \xff"\nurl = "https://pypi.org/simple"\n'
    (project / "Pipfile").write_bytes(data)
    result = run("use", "tuna", "-t", "pipenv", "-s", "project", "--project", str(project))
    assert result.exit_code == 4 and str(project / "Pipfile") in result.stderr and "UTF-8" in result.stderr
    assert (project / "Pipfile").read_bytes() == data


def test_a_pipfile_tomlkit_would_reorder_is_refused_not_rewritten(run, project):
    """A [[source]] array split by another table: tomlkit would write the sources together, moving
    bytes mirrorctl did not change. The shared round-trip guard refuses instead."""
    text = ('[[source]]\nname = "pypi"\nurl = "https://pypi.org/simple"\nverify_ssl = true\n\n'
            '[packages]\nrequests = "*"\n\n'
            '[[source]]\nname = "corp"\nurl = "https://corp.example/simple"\nverify_ssl = true\n')
    (project / "Pipfile").write_text(text)
    result = run("use", "tuna", "-t", "pipenv", "-s", "project", "--project", str(project))
    assert result.exit_code == 4, result.stderr
    assert "without reformatting" in result.stderr and str(project / "Pipfile") in result.stderr
    assert (project / "Pipfile").read_text() == text


@pytest.mark.parametrize("stray", ["name", "other source", "packages"])
def test_the_pipfile_edit_may_change_only_the_source_it_rewrites(run, project, monkeypatch, stray):
    """The shared "only owned keys changed" check guards the pipenv edit: a bug that touched a
    source's name, another source or any other table would be refused, nothing written."""
    point, sources = pipenv._point, pipenv._editable_sources

    def buggy(source, url):
        point(source, url)
        if stray == "name":
            source["name"] = "renamed"

    def buggy_sources(doc):
        out = sources(doc)
        if stray == "other source":
            doc.root["source"][1]["url"] = "https://elsewhere.example/simple"
        elif stray == "packages":
            doc.root["packages"]["requests"] = "==1.0"
        return out

    monkeypatch.setattr(pipenv, "_point", buggy)
    monkeypatch.setattr(pipenv, "_editable_sources", buggy_sources)
    (project / "Pipfile").write_text(PIPFILE)
    result = run("use", "tuna", "-t", "pipenv", "-s", "project", "--project", str(project))
    assert result.exit_code == 4, result.stderr
    assert "settings mirrorctl does not manage" in result.stderr and str(project / "Pipfile") in result.stderr
    assert (project / "Pipfile").read_text() == PIPFILE


def test_a_lock_file_gets_a_note(run, project):
    (project / "Pipfile").write_text(PIPFILE)
    (project / "Pipfile.lock").write_text("{}")
    result = run("use", "tuna", "-t", "pipenv", "-s", "project", "--project", str(project))
    assert "run `pipenv lock`" in result.stdout


def test_project_scope_is_in_use_when_there_is_a_pipfile(run, project, monkeypatch):
    monkeypatch.chdir(project)
    assert run("use", "tuna", "--scope", "project").exit_code == 2  # nothing here uses the project scope
    (project / "Pipfile").write_text(PIPFILE)
    data = run("use", "tuna", "--scope", "project", "--json").json()
    assert "pipenv" in data["tools"]
    assert str(project / "Pipfile") in [f["path"] for f in data["files"]]


# -- the real pipenv resolves through the rewritten source ------------------------------

def real_pipenv(project: Path, *args: str, env: dict = None) -> subprocess.CompletedProcess:
    """The real pipenv, in the sandbox, offline: its virtualenv in the project, no prompts."""
    full_env = {**os.environ, "PIPENV_VENV_IN_PROJECT": "1", "PIPENV_YES": "1", "PIPENV_NOSPIN": "1",
                "PIPENV_IGNORE_VIRTUALENVS": "1", "PIP_NO_CACHE_DIR": "1", "PATH": os.environ["PATH"],
                **(env or {})}
    return subprocess.run([sys.executable, "-m", "pipenv", *args], cwd=project, env=full_env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=600)


DEMO_PIPFILE = ('[[source]]\nname = "pypi"\nurl = "https://pypi.org/simple"\nverify_ssl = true\n\n'
                '[packages]\nmirrorctl-demo = "*"\n')


@needs_pipenv
def test_real_pipenv_locks_through_the_rewritten_source(run, project, index):
    (project / "Pipfile").write_text(DEMO_PIPFILE)
    result = run("use", index.url, "-t", "pipenv", "-s", "project", "--project", str(project))
    assert result.exit_code == 0, result.stderr
    proc = real_pipenv(project, "lock")
    assert proc.returncode == 0, proc.stderr
    assert "/simple/mirrorctl-demo/" in index.requests()
    lock = (project / "Pipfile.lock").read_text()
    assert index.url in lock and '"mirrorctl-demo"' in lock


@needs_pipenv
def test_real_pipenv_locks_through_the_pypi_slot_that_was_on_an_unlisted_mirror(run, project, index):
    """Judged by the real pipenv: before, it cannot lock (the unlisted mirror is unreachable, as a
    stale mirror is); --check must not say "already"; after use it locks through the new index."""
    text = DEMO_PIPFILE.replace("https://pypi.org/simple", UNLISTED)
    (project / "Pipfile").write_text(text)
    check = run("use", index.url, "-t", "pipenv", "-s", "project", "--project", str(project), "--check")
    assert check.exit_code == 3, check.stdout + check.stderr
    result = run("use", index.url, "-t", "pipenv", "-s", "project", "--project", str(project))
    assert result.exit_code == 0, result.stderr
    assert (project / "Pipfile").read_text() == text.replace(UNLISTED, index.url).replace(
        "verify_ssl = true", "verify_ssl = false")
    proc = real_pipenv(project, "lock")
    assert proc.returncode == 0, proc.stderr
    assert "/simple/mirrorctl-demo/" in index.requests()
    assert index.url in (project / "Pipfile.lock").read_text()


@needs_pipenv
def test_real_pipenv_takes_the_block_the_dotenv_and_the_environment_in_that_order(run, sandbox, project, bash_user):
    """What status says about precedence, the real pipenv does: the environment (here, from the
    managed block) beats the project's .env."""
    packages = sandbox.root / "packages"
    make_wheel(packages)
    with PypiServer(packages, sandbox.root / "a.log") as a, PypiServer(packages, sandbox.root / "b.log") as b:
        (project / "Pipfile").write_text(DEMO_PIPFILE)
        (project / ".env").write_text(f"# project settings\nPIPENV_PYPI_MIRROR={b.url}\n")
        assert run("use", a.url, "-t", "pipenv", "-s", "user").exit_code == 0
        new_shell = shell_sees("bash")
        assert new_shell == a.url
        st = run("status", "-t", "pipenv", "--project", str(project), "--json").json()["tools"][0]
        assert st["index_url"] == a.url and st["origin"]["path"] == str(bash_user)
        assert [s["origin"]["path"] for s in st["shadowed"]] == [str(project / ".env"), str(project / "Pipfile")]
        proc = real_pipenv(project, "lock", env={"PIPENV_PYPI_MIRROR": new_shell})
        assert proc.returncode == 0, proc.stderr
        assert "/simple/mirrorctl-demo/" in a.requests() and "mirrorctl-demo" not in b.requests()
        # without the variable, the .env decides
        proc = real_pipenv(project, "lock", "--clear")
        assert proc.returncode == 0, proc.stderr
        assert "/simple/mirrorctl-demo/" in b.requests()
        assert (project / "Pipfile").read_text() == DEMO_PIPFILE  # the Pipfile keeps the official url


# -- the shell start-up files -----------------------------------------------------------

def test_user_scope_real_bash_sees_it_once_after_two_switches(run, sandbox, bash_user):
    assert run("use", "tuna", "--tool", "pipenv", "--scope", "user").exit_code == 0
    assert shell_sees("bash") == TUNA
    assert run("use", "aliyun", "--tool", "pipenv", "--scope", "user").exit_code == 0
    assert shell_sees("bash") == ALIYUN
    text = bash_user.read_text()
    assert text.count(BEGIN) == 1 and text.count(END) == 1 and text.count("PIPENV_PYPI_MIRROR=") == 1
    assert text == (BASHRC + f"{BEGIN}\n"
                    "# PIPENV_PYPI_MIRROR for pipenv, set by mirrorctl; `mirrorctl reset --tool pipenv` removes this block\n"
                    f"export PIPENV_PYPI_MIRROR='{ALIYUN}'\n{END}\n")


def test_reset_and_undo_restore_the_bashrc_exactly(run, sandbox, bash_user):
    run("use", "tuna", "-t", "pipenv")
    assert run("reset", "-t", "pipenv").exit_code == 0
    assert bash_user.read_text() == BASHRC
    assert shell_sees("bash") == ""
    assert run("undo").exit_code == 0 and f"'{TUNA}'" in bash_user.read_text()
    assert run("undo").exit_code == 0 and bash_user.read_text() == BASHRC


def test_a_block_in_the_middle_is_replaced_in_place(run, sandbox, bash_user):
    bash_user.write_text(f"# top\n{BEGIN}\nexport PIPENV_PYPI_MIRROR='x'\n{END}\n# bottom\n")
    assert run("use", "tuna", "-t", "pipenv").exit_code == 0
    text = bash_user.read_text()
    assert text.startswith(f"# top\n{BEGIN}\n") and text.endswith(f"'{TUNA}'\n{END}\n# bottom\n")


def test_a_url_with_a_quote_reaches_bash_intact(run, sandbox, bash_user):
    url = "https://mirror.example/it's/$(id)/simple"
    assert run("use", url, "-t", "pipenv").exit_code == 0
    assert shell_sees("bash") == url
    assert pipenv_status(run)["index_url"] == url


def test_no_newline_at_end_and_crlf_are_kept(run, sandbox):
    rc = sandbox.home / ".bashrc"
    rc.write_bytes(b"alias a=b\r\nalias c=d")
    run("use", "tuna", "-t", "pipenv")
    assert rc.read_bytes().startswith(b"alias a=b\r\nalias c=d\r\n# >>> mirrorctl pipenv >>>\r\n")
    assert rc.read_bytes().endswith(b"<<< mirrorctl pipenv <<<\r\n")


@pytest.mark.parametrize("text, problem", [
    (f"{BEGIN}\nexport A=1\n{END}\n{BEGIN}\n{END}\n", "two mirrorctl blocks (lines 1 and 4)"),
    (f"alias a=b\n{BEGIN}\nexport A=1\n", "the mirrorctl block at line 2 is not closed"),
    (f"{END}\n", "closes no block"),
])
def test_a_broken_block_is_refused_with_one_line_naming_the_file(run, sandbox, bash_user, text, problem):
    bash_user.write_text(text)
    result = run("use", "tuna", "-t", "pipenv")
    assert result.exit_code == 4
    assert problem in result.stderr and str(bash_user) in result.stderr and len(result.stderr.splitlines()) == 1
    assert bash_user.read_text() == text


def test_zsh_honours_zdotdir_and_the_real_zsh_sees_it(run, sandbox, monkeypatch):
    zdotdir = sandbox.home / "zsh"
    zdotdir.mkdir()
    monkeypatch.setenv("SHELL", "/usr/bin/zsh")
    monkeypatch.setenv("ZDOTDIR", str(zdotdir))
    assert run("use", "tuna", "-t", "pipenv").exit_code == 0
    assert f"export PIPENV_PYPI_MIRROR='{TUNA}'" in (zdotdir / ".zshenv").read_text()
    assert not (sandbox.home / ".zshenv").exists() and not (sandbox.home / ".bashrc").exists()
    assert not (zdotdir / ".zshrc").exists()
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed")
    assert shell_sees("zsh") == TUNA


def test_fish_gets_a_conf_d_file_and_the_real_fish_sees_it(run, sandbox, monkeypatch):
    monkeypatch.setenv("SHELL", "/usr/bin/fish")
    assert run("use", "tuna", "-t", "pipenv").exit_code == 0
    conf = sandbox.config / "fish" / "conf.d" / "mirrorctl.fish"
    assert conf.read_text() == (f"{BEGIN}\n# PIPENV_PYPI_MIRROR for pipenv, set by mirrorctl; "
                                f"`mirrorctl reset --tool pipenv` removes this block\n"
                                f"set -gx PIPENV_PYPI_MIRROR '{TUNA}'\n{END}\n")
    assert run("reset", "-t", "pipenv").exit_code == 0
    assert not conf.exists()  # nothing of the user's was in it
    assert run("use", "tuna", "-t", "pipenv").exit_code == 0
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed")
    assert shell_sees("fish") == TUNA


def test_which_files_every_set_up_shell_plus_the_login_one(run, sandbox, monkeypatch):
    monkeypatch.setenv("SHELL", "/usr/bin/zsh")
    (sandbox.home / ".bashrc").write_text(BASHRC)
    (sandbox.config / "fish").mkdir(parents=True)
    data = run("use", "tuna", "-t", "pipenv", "--json").json()
    written = {Path(f["path"]).relative_to(sandbox.home).as_posix() for f in data["files"]}
    # bash is set up (.bashrc) but is not the login shell: no login file is created for it
    assert written == {".zshenv", ".bashrc", ".config/fish/conf.d/mirrorctl.fish"}
    # a block stays managed even when its shell is no longer the login shell; bash now is, so
    # its login file is written too
    monkeypatch.setenv("SHELL", "/bin/bash")
    data = run("use", "aliyun", "-t", "pipenv", "--json").json()
    assert {Path(f["path"]).name for f in data["files"]} == {".zshenv", ".bashrc", ".profile", "mirrorctl.fish"}
    assert ALIYUN in (sandbox.home / ".zshenv").read_text()


def test_no_shell_file_explicit_is_an_error_automatic_is_a_warning(run, sandbox, monkeypatch, on_path):
    monkeypatch.delenv("SHELL", raising=False)
    result = run("use", "tuna", "-t", "pipenv")
    assert result.exit_code == 2 and "no shell start-up file" in result.stderr
    on_path("pipenv")
    result = run("use", "tuna")
    assert result.exit_code == 0, result.stderr
    assert "pipenv left as it is" in result.stderr
    assert sandbox.user_pip_conf.exists()


def test_pipenv_on_path_is_switched_with_pip_in_one_transaction(run, sandbox, bash_user, on_path):
    on_path("pipenv")
    data = run("use", "tuna", "--json").json()
    assert {"pip", "pipenv"} <= set(data["tools"])
    assert {f["path"] for f in data["files"] if f["action"] != "unchanged"} >= {str(sandbox.user_pip_conf),
                                                                                 str(bash_user)}
    assert run("undo").exit_code == 0
    assert bash_user.read_text() == BASHRC and not sandbox.user_pip_conf.exists()


def test_all_or_nothing_when_the_second_file_cannot_be_written(run, sandbox, on_path):
    on_path("pipenv")
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("[global]\ntimeout = 5\n")
    # written through the link, into /proc, where nobody (not even root) can create a file
    (sandbox.home / ".bashrc").symlink_to("/proc/version")
    result = run("use", "tuna")
    assert result.exit_code == 5, result.stderr
    assert "/proc/version" in result.stderr
    assert sandbox.user_pip_conf.read_text() == "[global]\ntimeout = 5\n"
    assert run("history", "--json").json() == []


def loop(path: Path) -> Path:
    """A start-up file that cannot be read: a symlink to itself."""
    os.symlink(path, path)
    return path


def test_an_unreadable_startup_file_has_no_block_for_status_and_pip_only_use(run, sandbox):
    rc = loop(sandbox.home / ".bashrc")
    ctx = Context.from_os()
    assert not pipenv.in_use(ctx, Scope.USER)
    result = run("status")
    assert result.exit_code == 0, result.stderr
    result = run("use", "tuna")  # pipenv is not installed: pip alone, as if the file were not there
    assert result.exit_code == 0, result.stderr
    assert sandbox.user_pip_conf.exists()
    assert [f["tool"] for f in run("history", "--json").json()[0]["files"]] == ["pip"]
    assert rc.is_symlink() and os.readlink(rc) == str(rc)
    # asked about pipenv, status names the file and goes on
    result = run("status", "--tool", "pipenv", "--json")
    assert result.exit_code == 0, result.stderr
    st = result.json()["tools"][0]
    assert st["error"] is None and any(str(rc) in w for w in st["warnings"])
    assert [f["error"] for f in st["files"] if f["path"] == str(rc)][0]


def test_use_pipenv_fails_naming_the_startup_file_it_must_write_but_cannot_read(run, sandbox):
    rc = loop(sandbox.home / ".bashrc")  # bash is the login shell: this is the file to write
    result = run("use", "tuna", "-t", "pipenv")
    assert result.exit_code in (4, 5), result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(rc) in lines[0] and "hint:" in lines[0], lines
    assert "sudo" not in lines[0] and "--scope user" not in lines[0]  # not pip's global-scope hint
    assert run("history", "--json").json() == []
    assert rc.is_symlink() and os.readlink(rc) == str(rc)


def test_automatic_use_leaves_pipenv_as_it_is_when_its_startup_file_cannot_be_read(run, sandbox, on_path):
    on_path("pipenv")
    rc = loop(sandbox.home / ".bashrc")
    result = run("use", "tuna")
    assert result.exit_code == 0, result.stderr
    assert "pipenv left as it is" in result.stderr and str(rc) in result.stderr
    assert sandbox.user_pip_conf.exists()
    result = run("status")
    assert result.exit_code == 0 and str(rc) in result.stderr  # pipenv is installed: status says why


def test_an_unreadable_file_of_another_shell_is_skipped(run, sandbox, bash_user):
    zshrc = loop(sandbox.home / ".zshrc")
    result = run("use", "tuna", "-t", "pipenv")
    assert result.exit_code == 0, result.stderr
    assert f"export PIPENV_PYPI_MIRROR='{TUNA}'" in bash_user.read_text()
    assert str(zshrc) not in [f["path"] for f in run("history", "--json").json()[0]["files"]]
    result = run("status", "--tool", "pipenv", "--json")
    assert result.exit_code == 0
    st = result.json()["tools"][0]
    assert st["index_url"] == TUNA and st["origin"]["path"] == str(bash_user)
    assert any(str(zshrc) in w for w in st["warnings"])
    assert run("reset", "-t", "pipenv").exit_code == 0 and bash_user.read_text() == BASHRC


def test_a_bare_oserror_on_a_startup_file_is_handled_too(sandbox, monkeypatch, bash_user):
    """Whatever read_bytes raises for a start-up file (a bare OSError included), in_use and
    status treat it as "no block there", and use names the file."""
    import errno

    def broken(path):
        if Path(path).name == ".bashrc":
            raise OSError(errno.ELOOP, "Too many levels of symbolic links", str(path))
        return None

    monkeypatch.setattr(pipenv_shell, "read_bytes", broken)
    ctx = Context.from_os()
    assert not pipenv.in_use(ctx, Scope.USER)
    from mirrorctl.catalog import load_catalog

    st = pipenv.status(ctx, load_catalog(ctx))
    assert st.error is None and any(str(bash_user) in w for w in st.warnings)
    with pytest.raises(MirrorctlError) as info:
        pipenv.plan_use(ctx, Mirror("tuna", TUNA), Scope.USER)
    assert str(bash_user) in info.value.message and "symlink loop" in info.value.message


def test_a_startup_file_another_user_owns_is_no_block_but_cannot_be_written(sandbox):
    """A root-owned 0600 ~/.bashrc, mirrorctl run as an unprivileged user: real permissions, no mock."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="mirrorctl-pipenv-perm-"))
    try:
        os.chmod(base, 0o755)
        home = base / "home"
        home.mkdir()
        rc = home / ".bashrc"
        rc.write_text(BASHRC)
        env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
               "XDG_STATE_HOME": str(home / ".state"), "XDG_CONFIG_DIRS": str(base / "xdg"),
               "SHELL": "/bin/bash", "PATH": "/usr/bin:/bin"}
        prefix = []
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("root without setpriv: cannot drop privileges here")
            os.chmod(home, 0o777)
            os.chmod(rc, 0o600)
            prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
            probe = subprocess.run([*prefix, sys.executable, "-c", "import mirrorctl"], capture_output=True, cwd=home)
            if probe.returncode != 0:
                pytest.skip("the unprivileged user cannot import mirrorctl from this checkout")
        else:
            os.chmod(rc, 0)
            try:
                rc.read_bytes()
                pytest.skip("this user can read a file with mode 000")
            except PermissionError:
                pass

        def mirrorctl(*args):
            return subprocess.run([*prefix, sys.executable, "-m", "mirrorctl", *args], capture_output=True, text=True,
                                  env=env, cwd=home, stdin=subprocess.DEVNULL, timeout=120)

        proc = mirrorctl("status")
        assert proc.returncode == 0, proc.stderr
        proc = mirrorctl("use", "tuna")  # pip only: pipenv is not installed, the file has no block we can see
        assert proc.returncode == 0, proc.stderr
        assert (home / ".config" / "pip" / "pip.conf").exists()
        proc = mirrorctl("status", "--tool", "pipenv")
        assert proc.returncode == 0 and str(rc) in proc.stderr, proc.stderr
        proc = mirrorctl("use", "tuna", "--tool", "pipenv")
        assert proc.returncode == 5, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and str(rc) in lines[0] and "permission denied" in lines[0], lines
        assert "sudo" not in lines[0] and "--scope user" not in lines[0]
        os.chmod(rc, 0o644)
        assert rc.read_text() == BASHRC
    finally:
        shutil.rmtree(base, ignore_errors=True)


# -- status ------------------------------------------------------------------------------

def pipenv_status(run, *args):
    result = run("status", "--tool", "pipenv", "--json", *args)
    return result.json()["tools"][0]


def test_status_without_project_or_variable_reports_nothing_to_disagree_with(run, sandbox):
    st = pipenv_status(run)
    assert st["index_url"] is None and st["origin"]["kind"] == "default" and st["error"] is None
    assert run("use", "tuna").exit_code == 0
    assert "disagree" not in run("status", "--tool", "pip,pipenv").stderr


def test_status_pipfile_source_and_the_variable_replacing_it(run, project, monkeypatch):
    (project / "Pipfile").write_text(PIPFILE)
    st = pipenv_status(run, "--project", str(project))
    assert st["index_url"] == OFFICIAL and st["mirror"] == "official"
    assert st["origin"] == {"kind": "file", "path": str(project / "Pipfile"), "section": "source pypi",
                            "variable": None}
    assert st["extra_index_urls"] == ["https://corp.example/simple"]
    assert [s["name"] for s in st["details"]["sources"]] == ["pypi", "corp"]
    monkeypatch.setenv("PIPENV_PYPI_MIRROR", TUNA)
    st = pipenv_status(run, "--project", str(project))
    assert st["index_url"] == TUNA and st["mirror"] == "tuna"
    assert st["origin"] == {"kind": "env", "path": None, "section": None, "variable": "PIPENV_PYPI_MIRROR"}
    assert st["shadowed"][0]["value"] == OFFICIAL
    assert st["details"]["sources"][0]["used_url"] == TUNA
    assert st["details"]["sources"][1]["used_url"] == "https://corp.example/simple"  # private: left alone


def test_status_pipfile_without_sources_uses_the_official_index_or_the_variable(run, project, monkeypatch):
    (project / "Pipfile").write_text('[packages]\nrequests = "*"\n')
    st = pipenv_status(run, "--project", str(project))
    assert st["index_url"] == OFFICIAL and st["origin"]["kind"] == "default" and st["details"]["sources"] == []
    monkeypatch.setenv("PIPENV_PYPI_MIRROR", TUNA)
    st = pipenv_status(run, "--project", str(project))
    assert st["index_url"] == TUNA and st["origin"]["kind"] == "env"


def test_status_variable_has_no_effect_on_a_mirror_source(run, project, monkeypatch):
    (project / "Pipfile").write_text(f'[[source]]\nname = "pypi"\nurl = "{ALIYUN}"\nverify_ssl = true\n')
    monkeypatch.setenv("PIPENV_PYPI_MIRROR", TUNA)
    st = pipenv_status(run, "--project", str(project))
    assert st["index_url"] == ALIYUN and st["mirror"] == "aliyun"
    assert st["shadowed"][0]["origin"]["variable"] == "PIPENV_PYPI_MIRROR"
    assert any("has no effect here" in w for w in st["warnings"])


def test_status_dotenv_and_its_switches(run, project, sandbox, monkeypatch):
    (project / ".env").write_text(f"FOO=1\nexport PIPENV_PYPI_MIRROR='{ALIYUN}'  # team mirror\n")
    st = pipenv_status(run, "--project", str(project))
    assert st["index_url"] == ALIYUN and st["origin"]["path"] == str(project / ".env")
    monkeypatch.setenv("PIPENV_DONT_LOAD_ENV", "1")
    st = pipenv_status(run, "--project", str(project))
    assert st["index_url"] is None
    assert [f["skipped"] for f in st["files"] if f["kind"] == "dotenv"][0].startswith("PIPENV_DONT_LOAD_ENV")
    monkeypatch.setenv("PIPENV_DONT_LOAD_ENV", "0")
    other = sandbox.root / "ci.env"
    other.write_text(f"PIPENV_PYPI_MIRROR={TUNA}\n")
    monkeypatch.setenv("PIPENV_DOTENV_LOCATION", str(other))
    assert pipenv_status(run, "--project", str(project))["index_url"] == TUNA


def test_status_variable_from_the_block_is_reported_as_the_block(run, sandbox, bash_user, monkeypatch):
    run("use", "tuna", "-t", "pipenv")
    monkeypatch.setenv("PIPENV_PYPI_MIRROR", TUNA)  # this shell sourced the block
    st = pipenv_status(run)
    assert st["origin"]["path"] == str(bash_user) and st["warnings"] == []
    result = run("use", "aliyun", "-t", "pipenv")  # the check after writing sees the new block
    assert result.exit_code == 0 and "still use" not in result.stderr
    assert f"for this one run: source {bash_user}" in result.stdout
    st = pipenv_status(run)  # until this shell sources it again, its old value is what pipenv gets
    assert st["index_url"] == TUNA and st["origin"]["kind"] == "env"
    assert any(f"{bash_user} sets PIPENV_PYPI_MIRROR={ALIYUN}" in w for w in st["warnings"])


def test_status_a_variable_set_by_hand_beats_the_block(run, sandbox, bash_user, monkeypatch):
    run("use", "tuna", "-t", "pipenv")
    monkeypatch.setenv("PIPENV_PYPI_MIRROR", ALIYUN)
    st = pipenv_status(run)
    assert st["index_url"] == ALIYUN and st["origin"]["kind"] == "env"
    assert st["shadowed"][0]["origin"]["path"] == str(bash_user)
    assert any(str(bash_user) in w for w in st["warnings"])


def test_status_reports_a_broken_block_without_failing(run, sandbox, bash_user):
    bash_user.write_text(f"{BEGIN}\n")
    result = run("status", "--tool", "pipenv", "--json")
    assert result.exit_code == 0
    info = [f for f in result.json()["tools"][0]["files"] if f["path"] == str(bash_user)][0]
    assert "not closed" in info["error"]


def test_status_fast_path_agrees_with_the_full_cli(run_cli, run, sandbox, bash_user, project):
    (project / "Pipfile").write_text(PIPFILE)
    run("use", "tuna", "-t", "pipenv")
    fast = run_cli("status", "--project", str(project), "--json")
    full = run("status", "--project", str(project), "--json")
    assert fast.exit_code == full.exit_code == 0, fast.stderr
    assert fast.json() == full.json()


# -- paths per platform -------------------------------------------------------------------

def paths(ctx):
    return [(f.shell, str(f.path)) for f in pipenv.startup_files(ctx)]


def test_windows_files_are_the_powershell_profiles():
    ctx = Context(environ={"USERPROFILE": "C:\\Users\\li", "APPDATA": "C:\\Users\\li\\AppData\\Roaming"},
                  platform="win32", cwd=PureWindowsPath("C:\\work"))
    found = paths(ctx)
    assert found[:2] == [("powershell", "C:\\Users\\li\\Documents\\PowerShell\\profile.ps1"),
                         ("powershell", "C:\\Users\\li\\Documents\\WindowsPowerShell\\profile.ps1")]
    changes = pipenv.plan_use(ctx, Mirror("tuna", TUNA), Scope.USER)
    assert [str(c.path) for c in changes] == ["C:\\Users\\li\\Documents\\WindowsPowerShell\\profile.ps1"]
    assert changes[0].after == (f"{BEGIN}\r\n# PIPENV_PYPI_MIRROR for pipenv, set by mirrorctl; `mirrorctl reset "
                                f"--tool pipenv` removes this block\r\n$env:PIPENV_PYPI_MIRROR = '{TUNA}'\r\n"
                                f"{END}\r\n").encode()
    assert str(pipenv.pipfile_path(ctx)) == "C:\\work\\Pipfile"


@pytest.mark.parametrize("platform", ["darwin", "linux"])
def test_bash_writes_the_interactive_file_and_the_login_file_bash_reads(tmp_path, platform):
    ctx = Context(environ={"HOME": str(tmp_path), "SHELL": "/bin/bash"}, platform=platform, cwd=PurePosixPath("/"))

    def written():
        return [c.path.name for c in pipenv.plan_use(ctx, Mirror("tuna", TUNA), Scope.USER)]

    assert written() == [".bashrc", ".profile"]  # none exists: ~/.profile, which shadows nothing
    (tmp_path / ".profile").write_text("export A=1\n")
    assert written() == [".bashrc", ".profile"]
    (tmp_path / ".bash_login").write_text("export A=1\n")
    assert written() == [".bashrc", ".bash_login"]
    (tmp_path / ".bash_profile").write_text("export A=1\n")
    assert written() == [".bashrc", ".bash_profile"]


def test_linux_login_shell_first_and_xdg_for_fish_and_pwsh():
    ctx = Context(environ={"HOME": "/home/li", "SHELL": "/usr/bin/fish", "XDG_CONFIG_HOME": "/cfg"},
                  platform="linux", cwd=PurePosixPath("/"))
    assert paths(ctx) == [("fish", "/cfg/fish/conf.d/mirrorctl.fish"), ("bash", "/home/li/.bashrc"),
                          ("bash", "/home/li/.profile"), ("bash", "/home/li/.bash_profile"),
                          ("bash", "/home/li/.bash_login"), ("zsh", "/home/li/.zshenv"), ("zsh", "/home/li/.zshrc"),
                          ("powershell", "/cfg/powershell/profile.ps1")]


# -- the managed block, byte for byte ------------------------------------------------------

MARK = shellrc.markers("mirrorctl pipenv")
P = PurePosixPath("/x/.bashrc")


def test_block_round_trip_keeps_foreign_bytes():
    original = "# café\n".encode("latin-1") + b"\xff\xfe odd bytes\n"
    added = shellrc.set_block(original, ["export A='1'"], P, MARK)
    assert added == original + f"{BEGIN}\nexport A='1'\n{END}\n".encode()
    assert shellrc.read_block(added, P, MARK) == ["export A='1'"]
    assert shellrc.remove_block(added, P, MARK) == original
    assert shellrc.remove_block(original, P, MARK) == original


def test_block_in_a_utf16_profile_keeps_its_encoding():
    original = "\ufeffSet-Alias ll Get-ChildItem\r\n".encode("utf-16-le")
    added = shellrc.set_block(original, ["$env:A = '1'"], P, MARK)
    assert added.startswith(b"\xff\xfe") and added.decode("utf-16").endswith(f"{END}\r\n")
    assert shellrc.remove_block(added, P, MARK) == original


def test_removing_the_only_content_leaves_nothing():
    assert shellrc.remove_block(shellrc.set_block(None, ["x"], P, MARK), P, MARK) is None


def test_block_lines_cannot_smuggle_a_marker():
    with pytest.raises(ValueError):
        shellrc.set_block(b"", [f"x\n{END}"], P, MARK)


def test_two_blocks_error_is_one_line():
    with pytest.raises(ConfigFileError) as info:
        shellrc.read_block(f"{BEGIN}\n{END}\n  {BEGIN}\n{END}\n".encode(), P, MARK)
    assert "\n" not in info.value.message and str(P) in info.value.message
