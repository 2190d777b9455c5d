"""The command line itself: version, help, python -m, exit codes."""

import re

import pytest

from conftest import pip_default_index

from mirrorctl import __version__
from mirrorctl.errors import ExitCode


def test_version(run_cli):
    result = run_cli("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"mirrorctl {__version__}"


def test_help_has_examples_for_every_command(run):
    for command in ("list", "add", "remove", "use", "reset", "status", "undo", "history", "bench", "env", "exec"):
        result = run(command, "--help")
        assert result.exit_code == 0
        # an example line, not just the usage line: "Example(s):" then an indented mirrorctl call
        examples = result.stdout.split("Example", 1)
        assert len(examples) == 2, command
        assert re.search(rf"^\s*(Examples?:\s*)?mirrorctl {command}\b", "Example" + examples[1], re.M), command


def test_no_arguments_prints_help(run_cli):
    result = run_cli()
    assert result.exit_code == 0 and result.stdout.startswith("Usage: mirrorctl") and result.stderr == ""


def test_unknown_scope_and_option(run):
    result = run("use", "tuna", "--scope", "galaxy")
    assert result.exit_code == 2 and "unknown scope 'galaxy'" in result.stderr
    assert run("use", "tuna", "--frobnicate").exit_code == 2


def test_exit_codes_are_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "usage.md").read_text()
    for code in ExitCode:
        assert re.search(rf"\|\s*{int(code)}\s*\|", doc), f"exit code {int(code)} ({code.name}) is not in docs/usage.md"


@pip_default_index
def test_status_with_nothing_configured_exits_0(run_cli):
    result = run_cli("status")
    assert result.exit_code == 0, result.stderr
    assert "https://pypi.org/simple" in result.stdout and "built-in default" in result.stdout


@pytest.mark.parametrize("args, fragment", [
    (("use", "tuna", "--frobnicate"), "No such option: --frobnicate"),
    (("exec", "tuna"), "Missing argument"),
    (("history", "--limit", "0"), "--limit"),
    (("frob",), "No such command"),
])
def test_usage_errors_are_one_line_too(run_cli, args, fragment):
    result = run_cli(*args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mirrorctl: error: ") and fragment in lines[0]
    assert "--help" in lines[0]


def test_exit_codes_pass_through_the_real_entry_point(run_cli):
    assert run_cli("use", "tuna", "--check").exit_code == 3
    assert run_cli("exec", "tuna", "--", "sh", "-c", "exit 7").exit_code == 7


def test_counts_are_in_the_right_grammatical_number(run, sandbox):
    one = run("use", "tuna", "--tool", "pip", "--dry-run")
    assert "1 file would change" in one.stdout and "file(s)" not in one.stdout
