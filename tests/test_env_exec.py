"""`mirrorctl env` and `mirrorctl exec`, judged by real shells, the real pip and the real pipenv."""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import PurePosixPath, PureWindowsPath

import pytest

from conftest import needs_pipenv

from mirrorctl import shellenv
from mirrorctl.formats import shellquote
from mirrorctl.catalog import Mirror
from mirrorctl.context import Context
from mirrorctl.errors import UsageError

TUNA = "https://pypi.tuna.tsinghua.edu.cn/simple"
ALIYUN = "https://mirrors.aliyun.com/pypi/simple"

HOSTILE = [
    "it's",
    "'; touch pwned; echo '",
    "$(touch pwned)",
    "`touch pwned`",
    "${HOME}",
    '"double" and \\backslash\\',
    "\\'",
    "trailing backslash \\",
    "%PATH% !x! ^& | < >",
    "smart \u2019quote\u2018 and \u201bmore\u201a",
    "caf\u00e9 \u4e2d\u6587",
    "  spaces  ",
    "",
]
NEWLINES = ["line\nbreak", "cr\rhere", "nul\x00byte", "tab\tchar"]


@pytest.fixture(autouse=True)
def login_shell(monkeypatch):
    """A known login shell, and no ZDOTDIR of the developer's pointing outside the sandbox."""
    monkeypatch.setenv("SHELL", "/bin/bash")
    monkeypatch.delenv("ZDOTDIR", raising=False)


def posix_shell_reads(shell: str, text: str, names: list) -> dict:
    """Run ``text`` in a real shell and read the variables back, exactly (NUL-separated)."""
    script = text + "\n" + "".join(f'printf "%s\\0" "${n}"\n' for n in names)
    proc = subprocess.run([shell, "-c", script], capture_output=True, cwd=os.getcwd(), timeout=60,
                          env={"PATH": os.environ["PATH"], "HOME": os.environ["HOME"]})
    assert proc.returncode == 0, proc.stderr
    return dict(zip(names, proc.stdout.decode("utf-8").split("\0")))


# -- env --------------------------------------------------------------------------------

def test_env_lines_eval_in_a_real_bash(run_cli, sandbox):
    result = run_cli("env", "tuna", "--shell", "bash")
    assert result.exit_code == 0, result.stderr
    assert f"export PIPENV_PYPI_MIRROR='{TUNA}'" in result.stdout.splitlines()
    seen = posix_shell_reads("bash", f'eval "$({sys.executable} -m mirrorctl env tuna --shell bash)"',
                             ["PIP_INDEX_URL", "PIPENV_PYPI_MIRROR"])
    assert seen == {"PIP_INDEX_URL": TUNA, "PIPENV_PYPI_MIRROR": TUNA}


def test_env_http_mirror_trusts_its_host(run):
    result = run("env", "http://127.0.0.1:8080/simple/", "--shell", "bash", "--json")
    data = result.json()
    assert data["shell"] == "bash"
    assert data["variables"]["PIP_INDEX_URL"] == "http://127.0.0.1:8080/simple/"
    assert data["variables"]["PIP_TRUSTED_HOST"] == "127.0.0.1:8080"
    assert data["variables"]["PIPENV_PYPI_MIRROR"] == "http://127.0.0.1:8080/simple/"
    assert data["lines"] == [shellquote.assignment("bash", k, v) for k, v in data["variables"].items()]


def test_env_defaults_to_the_mirror_pip_uses(run, sandbox):
    assert run("use", "aliyun", "--tool", "pip").exit_code == 0
    data = run("env", "--shell", "sh", "--json").json()
    assert data["mirror"] == "aliyun" and data["variables"]["PIPENV_PYPI_MIRROR"] == ALIYUN


def test_env_with_a_broken_pip_conf_says_so(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("no header\n")
    result = run("env")
    assert result.exit_code == 4 and "pip" in result.stderr
    assert run("env", "tuna", "--shell", "bash").exit_code == 0  # naming the mirror needs no pip.conf


def test_env_prints_nothing_for_an_unknown_mirror(run):
    result = run("env", "tunaa")
    assert result.exit_code == 2 and result.stdout == "" and "did you mean tuna" in result.stderr


@pytest.mark.parametrize("shell, first_line", [
    ("bash", f"export PIP_INDEX_URL='{TUNA}'"),
    ("zsh", f"export PIP_INDEX_URL='{TUNA}'"),
    ("/bin/dash", f"export PIP_INDEX_URL='{TUNA}'"),
    ("fish", f"set -gx PIP_INDEX_URL '{TUNA}'"),
    ("pwsh", f"$env:PIP_INDEX_URL = '{TUNA}'"),
    ("powershell", f"$env:PIP_INDEX_URL = '{TUNA}'"),
    ("cmd", f'set "PIP_INDEX_URL={TUNA}"'),
])
def test_env_forms(run, shell, first_line):
    result = run("env", "tuna", "--shell", shell)
    assert result.exit_code == 0 and result.stdout.splitlines()[0] == first_line


def test_help_has_examples(run):
    assert 'eval "$(mirrorctl env tuna)"' in run("env", "--help").stdout
    assert "mirrorctl exec tuna -- pip install" in run("exec", "--help").stdout


def test_env_unknown_shell(run):
    result = run("env", "tuna", "--shell", "tcsh")
    assert result.exit_code == 2 and "--shell" in result.stderr


# -- shell detection ----------------------------------------------------------------------

@pytest.mark.parametrize("environ, platform, expected", [
    ({"SHELL": "/usr/bin/zsh"}, "linux", "zsh"),
    ({"SHELL": "/opt/homebrew/bin/fish"}, "darwin", "fish"),
    ({"SHELL": "/bin/bash"}, "darwin", "bash"),
    ({"SHELL": "/usr/bin/pwsh"}, "linux", "powershell"),
    ({"SHELL": "/bin/ksh"}, "linux", "sh"),
    ({}, "linux", "sh"),
    ({"PSModulePath": "C:\\Users\\li\\Documents\\PowerShell\\Modules;C:\\Program Files\\PowerShell\\Modules"},
     "win32", "powershell"),
    ({"PSModulePath": "C:\\Program Files\\WindowsPowerShell\\Modules;C:\\WINDOWS\\system32\\WindowsPowerShell\\v1.0\\Modules",
      "ComSpec": "C:\\WINDOWS\\system32\\cmd.exe"}, "win32", "cmd"),
    ({"SHELL": "/usr/bin/bash", "PSModulePath": "C:\\Users\\li\\Documents\\PowerShell\\Modules"}, "win32", "bash"),
])
def test_detect_shell(environ, platform, expected):
    env = {"HOME": "/home/li", "USERPROFILE": "C:\\Users\\li", **environ}
    cwd = PureWindowsPath("C:\\") if platform == "win32" else PurePosixPath("/")
    assert shellenv.detect_shell(Context(environ=env, platform=platform, cwd=cwd)) == expected


def test_detected_shell_is_used(run, monkeypatch):
    monkeypatch.setenv("SHELL", "/usr/bin/fish")
    assert run("env", "tuna").stdout.startswith("set -gx ")
    monkeypatch.setenv("SHELL", "/bin/tcsh")
    result = run("env", "tuna")
    assert result.exit_code == 2 and "SHELL=/bin/tcsh" in result.stderr and "--shell" in result.stderr


# -- quoting: hostile values never break out ------------------------------------------

@pytest.mark.parametrize("shell", ["bash", "dash", "zsh"])
def test_hostile_values_survive_posix_shells(shell, sandbox, monkeypatch):
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    monkeypatch.chdir(sandbox.root)
    names = [f"V{i}" for i in range(len(HOSTILE))]
    form = "sh" if shell == "dash" else shell
    script = "\n".join(shellquote.assignment(form, n, v) for n, v in zip(names, HOSTILE))
    assert posix_shell_reads(shell, f'eval "$(cat <<\'EOF\'\n{script}\nEOF\n)"', names) == dict(zip(names, HOSTILE))
    assert not (sandbox.root / "pwned").exists()


def test_hostile_values_survive_fish(sandbox, monkeypatch):
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed")
    monkeypatch.chdir(sandbox.root)
    names = [f"V{i}" for i in range(len(HOSTILE))]
    script = "\n".join(shellquote.assignment("fish", n, v) for n, v in zip(names, HOSTILE))
    script_file = sandbox.root / "env.fish"
    script_file.write_text(script + "\n")
    assert subprocess.run(["fish", "--no-execute", str(script_file)], capture_output=True).returncode == 0
    reader = "".join(f'printf "%s\\0" "${n}"\n' for n in names)
    proc = subprocess.run(["fish", "-c", f"cat {script_file} | source\n{reader}"], capture_output=True, timeout=60,
                          env={"PATH": os.environ["PATH"], "HOME": os.environ["HOME"]})
    assert proc.returncode == 0, proc.stderr
    assert dict(zip(names, proc.stdout.decode().split("\0"))) == dict(zip(names, HOSTILE))
    assert not (sandbox.root / "pwned").exists()


def test_env_output_is_valid_fish_and_sets_the_variables(run_cli, sandbox):
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed")
    result = run_cli("env", "http://127.0.0.1:8080/simple", "--shell", "fish")
    proc = subprocess.run(["fish", "-c", f"{result.stdout}\nprintf '%s|%s' $PIP_TRUSTED_HOST $PIPENV_PYPI_MIRROR"],
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout == "127.0.0.1:8080|http://127.0.0.1:8080/simple", proc.stderr


def test_hostile_values_survive_powershell(sandbox):
    pwsh = shutil.which("pwsh")
    if pwsh is None:
        pytest.skip("PowerShell (pwsh) is not installed")
    names = [f"V{i}" for i in range(len(HOSTILE))]
    values = [v for v in HOSTILE if v]  # PowerShell removes a variable set to ''
    script = "\n".join(shellquote.assignment("powershell", n, v) for n, v in zip(names, values))
    reader = "".join(f"[Console]::Out.Write($env:{n} + [char]0)\n" for n in names[:len(values)])
    proc = subprocess.run([pwsh, "-NoProfile", "-NonInteractive", "-Command", script + "\n" + reader],
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().split("\0")[:len(values)] == values


def powershell_assignments(script: str) -> list:
    """(variable, string token) of each statement of ``script``, by a PowerShell grammar (tree-sitter):
    a value that broke out of its quotes would show as an error or as one more statement."""
    ts = pytest.importorskip("tree_sitter")
    grammar = pytest.importorskip("tree_sitter_powershell")
    root = ts.Parser(ts.Language(grammar.language())).parse(script.encode()).root_node
    assert not root.has_error, script
    out = []
    for statements in (c for c in root.children if c.type == "statement_list"):
        for statement in statements.children:
            assert statement.type == "pipeline", statement.text
            strings = []
            stack = [statement]
            while stack:
                node = stack.pop()
                strings += [node] if node.type == "verbatim_string_characters" else []
                stack.extend(node.children)
            variable = statement.children[0].children[0].text.decode()
            out.append((variable, [n.text.decode() for n in strings]))
    return out


def test_powershell_lines_are_one_assignment_of_one_literal_each():
    names = [f"V{i}" for i in range(len(HOSTILE))]
    lines = [shellquote.assignment("powershell", n, v) for n, v in zip(names, HOSTILE)]
    assert powershell_assignments("\n".join(lines) + "\n") == [
        (f"$env:{n}", [shellquote.quote("powershell", v)]) for n, v in zip(names, HOSTILE)]


def test_env_output_is_valid_powershell(run):
    lines = run("env", "http://127.0.0.1:8080/simple", "--shell", "powershell").stdout
    assert ("$env:PIPENV_PYPI_MIRROR", ["'http://127.0.0.1:8080/simple'"]) in powershell_assignments(lines)


def test_powershell_quoting_doubles_every_kind_of_single_quote():
    assert shellquote.quote("powershell", "a'b\u2019c$(x)") == "'a''b\u2019\u2019c$(x)'"
    assert shellquote.assignment("powershell", "K", "v") == "$env:K = 'v'"


@pytest.mark.parametrize("shell", ["bash", "zsh", "sh", "fish", "powershell"])
@pytest.mark.parametrize("value", HOSTILE)
def test_lines_read_back_exactly(shell, value):
    assert shellquote.parse_assignment(shell, shellquote.assignment(shell, "PIPENV_PYPI_MIRROR", value)) == (
        "PIPENV_PYPI_MIRROR", value)


@pytest.mark.parametrize("shell", shellquote.SHELLS)
@pytest.mark.parametrize("value", NEWLINES)
def test_line_breaks_and_control_characters_are_refused(shell, value):
    with pytest.raises(UsageError):
        shellquote.assignment(shell, "K", value)


@pytest.mark.parametrize("value", ['a"b', "50%", "!x!"])
def test_cmd_refuses_what_it_would_expand(value):
    with pytest.raises(UsageError) as info:
        shellquote.assignment("cmd", "K", value)
    assert "powershell" in info.value.hint


@pytest.mark.parametrize("name", ["1X", "A-B", "A B", "A;rm", ""])
def test_bad_variable_names_are_refused(name):
    with pytest.raises(UsageError):
        shellquote.assignment("bash", name, "v")


def test_every_tool_module_with_environment_contributes():
    variables, _ = shellenv.mirror_environment(Mirror("tuna", TUNA))
    assert variables["PIP_INDEX_URL"] == TUNA and variables["PIPENV_PYPI_MIRROR"] == TUNA
    assert "PIP_TRUSTED_HOST" not in variables
    assert "UV_PYTHON_INSTALL_MIRROR" not in variables  # TUNA publishes no python-build-standalone


USTC_PYTHON = "https://mirrors.ustc.edu.cn/github-release/astral-sh/python-build-standalone/"


def test_env_sets_uv_s_python_mirror_where_the_mirror_has_one(run_cli):
    result = run_cli("env", "ustc", "--shell", "bash")
    assert result.exit_code == 0, result.stderr
    seen = posix_shell_reads("bash", result.stdout, ["UV_DEFAULT_INDEX", "UV_PYTHON_INSTALL_MIRROR"])
    assert seen == {"UV_DEFAULT_INDEX": "https://mirrors.ustc.edu.cn/pypi/simple",
                    "UV_PYTHON_INSTALL_MIRROR": USTC_PYTHON}
    assert "UV_PYTHON_INSTALL_MIRROR" not in run_cli("env", "tuna", "--shell", "bash").stdout


# -- exec -------------------------------------------------------------------------------

DUMP = "import json, os, sys; json.dump({k: v for k, v in os.environ.items() if k.startswith(('PIP', 'UV_'))}, sys.stdout)"


def test_exec_sets_the_variables_for_the_command_only(run_cli, sandbox):
    before = sorted(p.relative_to(sandbox.root) for p in sandbox.root.rglob("*"))
    result = run_cli("exec", "tuna", "--", sys.executable, "-c", DUMP)
    assert result.exit_code == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["PIP_INDEX_URL"] == TUNA and seen["PIPENV_PYPI_MIRROR"] == TUNA
    assert sorted(p.relative_to(sandbox.root) for p in sandbox.root.rglob("*")) == before  # wrote nothing


def test_exec_gives_uv_the_python_mirror_and_the_real_uv_reads_it(run_cli):
    uv = os.path.join(os.path.dirname(sys.executable), "uv")
    if not os.path.exists(uv):
        pytest.skip("the real uv is not installed here")
    result = run_cli("exec", "ustc", "--", uv, "python", "install", "--show-settings", "3.12")
    assert result.exit_code == 0, result.stderr
    assert f'python_install_mirror: Some(\n            "{USTC_PYTHON}"' in result.stdout


def test_exec_options_after_the_name_belong_to_the_command(run_cli):
    result = run_cli("exec", "tuna", sys.executable, "-c", "import sys; print(sys.argv[1:])", "--json", "-x")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "['--json', '-x']"


def test_exec_passes_the_exit_status_through(run_cli):
    assert run_cli("exec", "tuna", "--", sys.executable, "-c", "raise SystemExit(42)").exit_code == 42


def test_exec_signal_is_128_plus_its_number(run_cli):
    code = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    assert run_cli("exec", "tuna", "--", sys.executable, "-c", code).exit_code == 128 + signal.SIGTERM


def test_exec_missing_command_is_127_like_a_shell(run_cli):
    result = run_cli("exec", "tuna", "--", "no-such-command-here")
    assert result.exit_code == 127
    assert result.stderr.strip().startswith("mirrorctl: error: no-such-command-here: command not found")


def test_exec_not_executable_is_126(run_cli, sandbox):
    script = sandbox.root / "script.sh"
    script.write_text("echo hi\n")
    assert run_cli("exec", "tuna", "--", str(script)).exit_code == 126


def test_exec_needs_a_command(run):
    result = run("exec", "tuna", "--")
    assert result.exit_code == 2 and "no command" in result.stderr


def test_exec_unknown_mirror_runs_nothing(run_cli, sandbox):
    marker = sandbox.root / "ran"
    result = run_cli("exec", "tunaa", "--", "touch", str(marker))
    assert result.exit_code == 2 and not marker.exists()


def test_exec_real_pip_downloads_from_the_local_index(run_cli, sandbox, index):
    result = run_cli("exec", index.url, "--", sys.executable, "-m", "pip", "download", "--no-cache-dir", "--no-deps",
                     "-d", str(sandbox.root / "dl"), "mirrorctl-demo")
    assert result.exit_code == 0, result.stderr
    assert list((sandbox.root / "dl").glob("mirrorctl_demo-*.whl"))
    assert not sandbox.user_pip_conf.exists()


@needs_pipenv
def test_exec_real_pipenv_uses_the_local_index_while_the_pipfile_keeps_the_official_url(run_cli, sandbox, index):
    project = sandbox.root / "proj"
    project.mkdir()
    pipfile = ('[[source]]\nname = "pypi"\nurl = "https://pypi.org/simple"\nverify_ssl = true\n\n'
               '[packages]\nmirrorctl-demo = "*"\n')
    (project / "Pipfile").write_text(pipfile)
    env = {"PIPENV_VENV_IN_PROJECT": "1", "PIPENV_YES": "1", "PIPENV_NOSPIN": "1", "PIPENV_IGNORE_VIRTUALENVS": "1"}
    result = run_cli("exec", index.url, "--", sys.executable, "-m", "pipenv", "lock", env=env, cwd=project)
    assert result.exit_code == 0, result.stderr
    assert "/simple/mirrorctl-demo/" in index.requests()
    assert (project / "Pipfile").read_text() == pipfile
    lock = json.loads((project / "Pipfile.lock").read_text())
    assert lock["_meta"]["sources"][0]["url"] == "https://pypi.org/simple"
    assert "mirrorctl-demo" in lock["default"]


# -- sourcing a file (the pipenv block when the URL holds a credential) ----------------------

@pytest.mark.parametrize("shell", ["bash", "zsh", "sh", "fish", "powershell"])
def test_source_line_round_trips_a_hostile_path(shell):
    for path in ["/home/u/.config/mirrorctl/pipenv-mirror.sh", "/a b/it's/$(x)`y`;z\\w\u2019/f"]:
        line = shellquote.source_line(shell, path)
        assert shellquote.parse_source_line(shell, line) == path
        assert shellquote.parse_assignment(shell, line) is None


def test_source_line_refuses_a_line_break_in_the_path():
    with pytest.raises(UsageError):
        shellquote.source_line("bash", "/tmp/x\nrm -rf ~")


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_real_bash_sources_a_file_at_a_hostile_path_and_skips_a_missing_one(tmp_path):
    folder = tmp_path / "it's $(x) `y`"
    folder.mkdir()
    private = folder / "m.sh"
    private.write_text(shellquote.assignment("bash", "K", "v'1") + "\n")
    script = shellquote.source_line("bash", str(private)) + '\nprintf %s "$K"'
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout == "v'1", proc.stderr
    missing = shellquote.source_line("bash", str(folder / "gone.sh")) + '\necho "status $?"'
    proc = subprocess.run(["bash", "-c", missing], capture_output=True, text=True, timeout=60)
    assert proc.stdout == "status 0\n" and proc.stderr == ""
