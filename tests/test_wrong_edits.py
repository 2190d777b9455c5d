"""Cross-cutting checks of issue 8's "wrong edits" part: module layering (shell quoting is a file
format), and no credential in a shell start-up file, judged by the real shells."""

from __future__ import annotations

import ast
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import mirrorctl

SRC = Path(mirrorctl.__file__).resolve().parent  # the sources under test (PYTHONPATH)


def _imports(path: Path) -> set[str]:
    """Every mirrorctl module ``path`` imports (``from mirrorctl import x`` counts as mirrorctl.x)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in out if name.startswith("mirrorctl")}


def test_targets_and_formats_do_not_import_shellenv():
    """shellenv imports targets; targets (and formats) must not import it back."""
    offenders = [str(p.relative_to(SRC)) for folder in ("targets", "formats") for p in sorted((SRC / folder).glob("*.py"))
                 if "mirrorctl.shellenv" in _imports(p)]
    assert offenders == []


def test_shell_quoting_lives_under_formats_and_imports_no_target():
    quoting = SRC / "formats" / "shellquote.py"
    assert quoting.is_file()
    assert not any(name.startswith(("mirrorctl.targets", "mirrorctl.shellenv")) for name in _imports(quoting))


def test_importing_the_pipenv_target_alone_loads_no_shellenv():
    code = "import sys, mirrorctl.targets.pipenv; print('mirrorctl.shellenv' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


# -- no credential in a shell start-up file ------------------------------------------------

SECRET = "s3cr3t-T0ken"
WITH_CREDENTIAL = f"https://ci-user:{SECRET}@pypi.corp.invalid/simple"
MASKED = "https://ci-user:****@pypi.corp.invalid/simple"
PUBLIC = "https://pypi.tuna.tsinghua.edu.cn/simple"

# shell -> (the program, its start-up file under the sandbox, the private file it sources)
SHELLS = {
    "bash": ("/bin/bash", "home/.bashrc", "pipenv-mirror.sh"),
    "zsh": ("/bin/zsh", "home/.zshenv", "pipenv-mirror.sh"),
    "fish": ("/usr/bin/fish", "home/.config/fish/conf.d/mirrorctl.fish", "pipenv-mirror.fish"),
}


def new_shell_sees(shell: str, expected: str) -> bool:
    """Whether a new interactive shell of the sandboxed user has PIPENV_PYPI_MIRROR=expected
    (asserted); False when that shell is not installed (the files were checked all the same)."""
    import os
    import shutil

    if shutil.which(shell) is None:
        return False
    argv = [shell, "-c" if shell == "fish" else "-ic", 'printf %s "$PIPENV_PYPI_MIRROR"']
    proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "TERM": "dumb"},
                          stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected
    return True


def judged_by(shell: str, seen: list) -> None:
    if not all(seen):
        pytest.skip(f"{shell} is not installed: its files were checked, not what it sees")


@pytest.fixture(params=list(SHELLS))
def login(request, sandbox, monkeypatch):
    """The user's login shell, with its start-up file (an existing one, for bash and zsh)."""
    program, startup, private = SHELLS[request.param]
    monkeypatch.setenv("SHELL", program)
    monkeypatch.delenv("ZDOTDIR", raising=False)
    startup = sandbox.root / startup
    if request.param != "fish":
        startup.write_text(f"# my {request.param} settings\nexport EDITOR=vi\n")
    return request.param, startup, sandbox.config / "mirrorctl" / private


def test_a_credential_never_reaches_the_startup_file_yet_a_new_shell_has_it(run, sandbox, login):
    shell, startup, private = login
    before = startup.read_bytes() if startup.exists() else None
    result = run("use", WITH_CREDENTIAL, "--tool", "pipenv")
    assert result.exit_code == 0, result.stderr
    assert SECRET.encode() not in startup.read_bytes()  # the file dotfile repositories publish
    assert SECRET in private.read_text()
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    seen = [new_shell_sees(shell, WITH_CREDENTIAL)]
    # status follows the block to the private file, and shows the value masked
    st = run("status", "--tool", "pipenv", "--json").json()["tools"][0]
    assert st["index_url"] == MASKED and st["origin"]["path"] == str(private)
    # reset takes both away; undo of the reset brings both back; undo of the use leaves nothing
    assert run("reset", "--tool", "pipenv").exit_code == 0
    assert not private.exists()
    assert (startup.read_bytes() if startup.exists() else None) == before
    assert run("undo").exit_code == 0
    assert SECRET in private.read_text()
    seen.append(new_shell_sees(shell, WITH_CREDENTIAL))
    assert run("undo").exit_code == 0
    assert not private.exists() and (startup.read_bytes() if startup.exists() else None) == before
    judged_by(shell, seen)


def test_the_private_file_is_planned_private_and_the_block_only_sources_it(sandbox, login):
    from mirrorctl.catalog import Mirror
    from mirrorctl.context import Context, Scope
    from mirrorctl.targets import pipenv

    shell, startup, private = login
    changes = pipenv.plan_use(Context.from_os(), Mirror("corp", WITH_CREDENTIAL), Scope.USER)
    by_path = {str(c.path): c for c in changes}
    assert by_path[str(private)].private is True
    assert not by_path[str(startup)].private
    assert all(SECRET.encode() not in (c.after or b"") for c in changes if c.path != private)


def test_a_rotated_token_is_a_change_and_a_public_url_goes_back_inline(run, sandbox, login):
    shell, startup, private = login
    assert run("use", WITH_CREDENTIAL, "--tool", "pipenv").exit_code == 0
    block = startup.read_bytes()
    rotated = WITH_CREDENTIAL.replace(SECRET, "n3w-T0ken")
    check = run("use", rotated, "--tool", "pipenv", "--check")
    assert check.exit_code == 3, check.stdout
    assert run("use", rotated, "--tool", "pipenv").exit_code == 0
    assert startup.read_bytes() == block  # only the private file changed
    assert "n3w-T0ken" in private.read_text() and SECRET not in private.read_text()
    seen = [new_shell_sees(shell, rotated)]
    # a URL without a credential is written in the block, and the private file goes
    assert run("use", PUBLIC, "--tool", "pipenv").exit_code == 0
    assert not private.exists() and PUBLIC in startup.read_text()
    seen.append(new_shell_sees(shell, PUBLIC))
    judged_by(shell, seen)


def test_check_never_says_already_while_a_variable_overrides_the_file(run, sandbox, monkeypatch):
    """The file is in the asked state, but PIP_INDEX_URL wins: not 'already', and --check exits 3."""
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    monkeypatch.setenv("PIP_INDEX_URL", "https://pypi.corp.example/simple")
    check = run("use", "tuna", "--tool", "pip", "--check")
    assert check.exit_code == 3, check.stdout + check.stderr
    assert "already in that state" not in check.stdout and "will still use another index" in check.stdout
    assert "PIP_INDEX_URL" in check.stderr
    again = run("use", "tuna", "--tool", "pip", "--json")
    assert again.exit_code == 0 and again.json()["overridden"] == ["pip"]
    monkeypatch.delenv("PIP_INDEX_URL")
    assert run("use", "tuna", "--tool", "pip", "--check").exit_code == 0
