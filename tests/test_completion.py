"""Shell completion, judged by the real bash, zsh and fish, and by a PowerShell grammar."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

import pytest

from mirrorctl.cli.completion import completion_script

BASH, ZSH, FISH = (shutil.which(s, path="/usr/bin:/bin") for s in ("bash", "zsh", "fish"))


@pytest.fixture
def mirrorctl_exe(sandbox):
    """`mirrorctl` on the sandbox PATH: this Python running these sources."""
    exe = sandbox.root / "bin" / "mirrorctl"
    exe.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m mirrorctl \"$@\"\n")
    exe.chmod(0o755)
    return exe


@pytest.fixture
def script(sandbox, mirrorctl_exe):
    def _write(shell: str):
        path = sandbox.root / f"completion.{shell}"
        path.write_text(completion_script(shell))
        return path

    return _write


def _shell(argv, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ), timeout=120,
                          stdin=subprocess.DEVNULL, **kw)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc


def bash_complete(script, *words: str) -> list:
    """COMPREPLY of the real bash after sourcing the script, with the cursor on the last word."""
    assert BASH, "bash is not installed"
    array = " ".join(shlex.quote(w) for w in words)
    code = (f"source {shlex.quote(str(script))}; COMP_WORDS=({array}); COMP_CWORD={len(words) - 1}; "
            "_mirrorctl_complete; printf '%s\\n' \"${COMPREPLY[@]}\"")
    return [line for line in _shell([BASH, "--norc", "--noprofile", "-c", code]).stdout.splitlines() if line]


def fish_complete(script, line: str) -> list:
    """What the real fish offers for ``line`` (value, description)."""
    if not FISH:
        pytest.skip("fish is not installed")
    code = f"source {shlex.quote(str(script))}; complete -C {shlex.quote(line)}"
    out = _shell([FISH, "--no-config", "-c", code]).stdout.splitlines()
    return [tuple(entry.split("\t", 1)) if "\t" in entry else (entry, "") for entry in out]


def zsh_complete(script, *words: str) -> list:
    """The candidates the script hands zsh's completion system, for the cursor on the last word:
    the real zsh runs the script under compinit; _describe and _files report what they were given."""
    if not ZSH:
        pytest.skip("zsh is not installed")
    array = " ".join(shlex.quote(w) for w in words)
    code = ("autoload -U compinit && compinit -u -D; "
            f"source {shlex.quote(str(script))}; "
            "_describe() { print -rl -- \"${(@P)4}\"; }; _files() { print -r -- \"FILES $*\"; }; "
            f"words=({array}); CURRENT={len(words)}; _mirrorctl")
    return _shell([ZSH, "-f", "-c", code]).stdout.splitlines()


# -- bash ------------------------------------------------------------------------------------

def test_bash_completes_commands_mirrors_tools_scopes_and_shells(script):
    bash = script("bash")
    assert {"use", "bench", "env", "exec", "remove", "completion", "status"} <= set(bash_complete(bash, "mirrorctl", ""))
    assert "__complete" not in bash_complete(bash, "mirrorctl", "")
    assert bash_complete(bash, "mirrorctl", "us") == ["use"]
    assert {"tuna", "tsinghua", "aliyun", "fastest"} <= set(bash_complete(bash, "mirrorctl", "use", ""))
    assert set(bash_complete(bash, "mirrorctl", "use", "tu")) == {"tuna"}
    assert bash_complete(bash, "mirrorctl", "use", "tuna", "--tool", "pip,co") == ["pip,conda"]
    assert bash_complete(bash, "mirrorctl", "use", "tuna", "--scope", "g") == ["global"]
    assert bash_complete(bash, "mirrorctl", "env", "--shell", "po") == ["powershell"]
    assert "--dry-run" in bash_complete(bash, "mirrorctl", "use", "tuna", "--")
    assert bash_complete(bash, "mirrorctl", "completion", "f") == ["fish"]


def test_bash_completes_the_value_after_an_equals_sign(script):
    """bash splits `--tool=u` into `--tool`, `=`, `u` and replaces only `u`."""
    bash = script("bash")
    assert bash_complete(bash, "mirrorctl", "use", "--tool", "=", "u") == ["uv"]
    assert "pip" in bash_complete(bash, "mirrorctl", "use", "--tool", "=")
    assert bash_complete(bash, "mirrorctl", "use", "--scope", "=", "pro", ) == ["project"]


def test_bash_bench_offers_each_mirror_once(script):
    bash = script("bash")
    offered = bash_complete(bash, "mirrorctl", "bench", "tuna", "")
    assert "tuna" not in offered and "aliyun" in offered


def test_bash_offers_the_users_own_mirrors_and_remove_only_those(script, run):
    assert run("add", "corp", "https://pypi.corp.example/simple").exit_code == 0
    bash = script("bash")
    assert "corp" in bash_complete(bash, "mirrorctl", "use", "")
    assert "corp" in bash_complete(bash, "mirrorctl", "exec", "c")
    assert bash_complete(bash, "mirrorctl", "remove", "") == ["corp"]


def test_a_broken_catalogue_gives_no_names_and_no_message(script, sandbox):
    catalogue = sandbox.config / "mirrorctl" / "mirrors.toml"
    catalogue.parent.mkdir(parents=True)
    catalogue.write_text("[[mirror]\nname = \n")
    bash = script("bash")
    assert bash_complete(bash, "mirrorctl", "use", "") == []  # _shell asserts an empty stderr
    assert bash_complete(bash, "mirrorctl", "us") == ["use"]  # the rest still completes


def test_nothing_is_offered_for_the_command_exec_runs(script):
    assert bash_complete(script("bash"), "mirrorctl", "exec", "tuna", "--", "pi") == []


def test_a_missing_mirrorctl_completes_nothing_quietly(script, sandbox, mirrorctl_exe):
    mirrorctl_exe.unlink()
    assert bash_complete(script("bash"), "mirrorctl", "us") == []


# -- zsh -------------------------------------------------------------------------------------

def test_zsh_script_parses_and_completes(script):
    zsh = script("zsh")
    if not ZSH:
        pytest.skip("zsh is not installed")
    _shell([ZSH, "-n", str(zsh)])
    commands = zsh_complete(zsh, "mirrorctl", "")
    assert any(line.startswith("use:") for line in commands) and not any("__complete" in c for c in commands)
    assert "tuna:Tsinghua University TUNA" in zsh_complete(zsh, "mirrorctl", "use", "t")
    assert zsh_complete(zsh, "mirrorctl", "use", "--tool=u") == ["--tool=uv"]
    assert zsh_complete(zsh, "mirrorctl", "use", "tuna", "--scope", "v") == ["venv"]
    assert zsh_complete(zsh, "mirrorctl", "use", "tuna", "--root", "") == ["FILES -/"]


# -- fish ------------------------------------------------------------------------------------

def test_fish_completes_with_descriptions(script):
    fish = script("fish")
    assert ("use", "Switch pip (and the other to") in [(v, d[:28]) for v, d in fish_complete(fish, "mirrorctl us")]
    offered = dict(fish_complete(fish, "mirrorctl use "))
    assert offered["tuna"] == "Tsinghua University TUNA" and "fastest" in offered
    assert [v for v, _ in fish_complete(fish, "mirrorctl use tuna --tool p")] == ["pdm", "pip", "pipenv", "poetry"]
    assert [v for v, _ in fish_complete(fish, "mirrorctl env tuna --shell f")] == ["fish"]
    assert [v for v, _ in fish_complete(fish, "mirrorctl use --scope=u")] == ["--scope=user"]


# -- PowerShell ------------------------------------------------------------------------------

def test_powershell_script_is_valid_powershell():
    ts = pytest.importorskip("tree_sitter")
    grammar = pytest.importorskip("tree_sitter_powershell")
    text = completion_script("pwsh")
    root = ts.Parser(ts.Language(grammar.language())).parse(text.encode()).root_node
    errors, stack = [], [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            errors.append(node.text.decode(errors="replace"))
        stack.extend(node.children)
    assert not root.has_error and not errors, errors
    assert "Register-ArgumentCompleter -Native -CommandName" in text


def test_powershell_backend_answers(run):
    out = run("__complete", "powershell", "2", "mirrorctl", "use", "ali").stdout.splitlines()
    assert out[0] == "values" and out[1].startswith("aliyun\t")


# -- the command -----------------------------------------------------------------------------

@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "powershell", "pwsh"])
def test_completion_prints_the_script(run, shell):
    result = run("completion", shell)
    assert result.exit_code == 0 and "mirrorctl __complete" in result.stdout


def test_completion_for_an_unknown_shell_is_a_usage_error(run):
    result = run("completion", "tcsh")
    assert result.exit_code == 2
    assert "tcsh" in result.stderr and "bash, zsh, fish, powershell" in result.stderr


def test_the_backend_never_fails(run):
    for args in (["bash", "x"], ["bash", "9", "mirrorctl"], ["fish", "1", "mirrorctl", "--version"],
                 ["zsh", "2", "mirrorctl", "nosuch", ""], ["bash", "-1"]):
        result = run("__complete", *args)
        assert result.exit_code == 0 and result.stderr == "", args
